"""`POST /webhooks/carriers/easypost`: EasyPost `tracker.*` events.

Anything unsigned or mis-signed gets 401 and is not read. Events that are not about trackers
(batches, refunds ...) are acknowledged and ignored, so EasyPost does not retry them. Never a
500 on any body.
"""

import json
import logging

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from fulfillment.tracking import shipment_record_tracking_event

from .inbound import TRACKER_EVENTS, easypost_tracker_updates
from .signature import SIGNATURE_HEADER, easypost_signature_valid

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def easypost_webhook(request):
    """Receive an EasyPost event: verify, then record every tracking detail it carries."""
    body = request.body
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not easypost_signature_valid(body=body, header=header, secret=settings.EASYPOST_WEBHOOK_SECRET):
        return JsonResponse({"error": "Missing or invalid X-Hmac-Signature."}, status=401)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "The body is not JSON."}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"error": "Expected a JSON object."}, status=400)
    description = payload.get("description")
    tracker = payload.get("result")
    if (
        description not in TRACKER_EVENTS
        or not isinstance(tracker, dict)
        or tracker.get("object") != "Tracker"
    ):
        return JsonResponse({"status": "ignored", "reason": f"not a tracker event: {str(description)[:60]}"})
    received = new = unmatched = 0
    for update in easypost_tracker_updates(tracker):
        try:
            result = shipment_record_tracking_event(**update)
        except DomainError as exc:  # a refused transition: the event is lost only for state
            logger.warning("EasyPost event for %s not applied: %s", update["tracking_number"], exc)
            continue
        received += 1
        new += result.created
        unmatched += result.event.shipment_id is None
    return JsonResponse({"status": "ok", "received": received, "new": new, "unmatched": unmatched})
