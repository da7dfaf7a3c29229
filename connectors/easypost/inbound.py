"""Carrier webhooks: `POST /webhooks/carriers/easypost` (EasyPost `tracker.*` events).

EasyPost signs the raw body: `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256>`, keyed with
the webhook secret NFKD-normalised and UTF-8 encoded. Anything unsigned or mis-signed gets 401
and is not read. Events that are not about trackers (batches, refunds ...) are acknowledged and
ignored, so EasyPost does not retry them. Never a 500 on any body.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import unicodedata

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from fulfillment.tracking import shipment_record_tracking_event

logger = logging.getLogger(__name__)
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = {"tracker.created", "tracker.updated"}


def easypost_signature(*, body: bytes, secret: str) -> str:
    """The `X-Hmac-Signature` header value EasyPost sends for this body."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def easypost_signature_valid(*, body: bytes, header: str, secret: str) -> bool:
    """Constant-time check of the header against the body; False when no secret is configured."""
    if not secret or not header:
        return False
    expected = easypost_signature(body=body, secret=secret)
    return hmac.compare_digest(expected.lower().encode(), header.strip().lower().encode())


def _parse_time(value) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


def _text(value, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _location(value) -> str:
    if not isinstance(value, dict):
        return ""
    parts = [value.get(k) for k in ("city", "state", "zip", "country")]
    return ", ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())[:200]


def easypost_tracker_updates(tracker: dict) -> list[dict]:
    """Keyword arguments for shipment_record_tracking_event, one per tracking detail of an
    EasyPost Tracker (the tracker's own status when it has no details). Details without a
    usable time are skipped; every other oddity degrades to an empty field."""
    tracking_number = _text(tracker.get("tracking_code"), 64)
    if not tracking_number:
        return []
    common = {
        "tracking_number": tracking_number,
        "carrier_code": _text(tracker.get("carrier"), 32),
        "source": "easypost",
        "external_id": _text(tracker.get("id"), 100),
    }
    estimate = _parse_time(tracker.get("est_delivery_date"))
    details = tracker.get("tracking_details")
    details = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    if not details:
        details = [
            {
                "status": tracker.get("status"),
                "message": tracker.get("status_detail"),
                "datetime": tracker.get("updated_at"),
            }
        ]
    updates = []
    for detail in details:
        occurred_at = _parse_time(detail.get("datetime"))
        if occurred_at is None:
            continue
        updates.append(
            {
                **common,
                "carrier_status": _text(detail.get("status"), 64) or "unknown",
                "occurred_at": occurred_at,
                "description": _text(detail.get("message"), 500),
                "location": _location(detail.get("tracking_location")),
                "raw": detail,
            }
        )
    if updates and estimate is not None:
        updates[-1]["estimated_delivery"] = estimate.date()
    return updates


@csrf_exempt
@require_POST
def easypost_webhook(request):
    """Receive an EasyPost event: verify, then record every tracking detail it carries."""
    body = request.body
    header = request.headers.get("X-Hmac-Signature", "")
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
