"""EasyPost Tracker objects (the `result` of a `tracker.*` event) to carrier tracking events."""

import datetime as dt

from django.utils import timezone

# The events whose `result` is a Tracker; every other event is acknowledged and ignored.
TRACKER_EVENTS = {"tracker.created", "tracker.updated"}


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
