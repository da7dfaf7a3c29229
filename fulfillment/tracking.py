"""Carrier tracking events: a generic mapping from carrier statuses to shipment states, and the
service that records one event and moves the shipment (and its order) forward.

Rules, whatever the carrier:
- an event is stored once: (tracking number, status, time, carrier status) is unique;
- an event for a tracking number no shipment has is stored with no shipment (flagged), never
  dropped; shipping a shipment with that number later claims it;
- a delivered shipment never moves backwards; `delivered` wins whenever it arrives (carriers
  stamp the delivery scan oddly, e.g. before the out-for-delivery scan);
- any other status moves the shipment only when it is not older than the newest event already
  known for it, so late-arriving stale events are kept in the history but change nothing.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max
from django_fsm import can_proceed

from orders.events import order_notify
from orders.models import OrderEvent

from .models import Shipment, TrackingEvent
from .shipments import shipment_deliver_locked, shipment_lock, shipment_transition
from .signals import shipment_tracking_recorded

logger = logging.getLogger(__name__)
TS = TrackingEvent.Status

# Carrier vocabularies (EasyPost, Shopify fulfillment events, common carrier wording) mapped
# onto ours. Keys are lower-case with spaces and hyphens as underscores.
CARRIER_STATUS_MAP = {
    "pre_transit": TS.PRE_TRANSIT,
    "label_created": TS.PRE_TRANSIT,
    "label_printed": TS.PRE_TRANSIT,
    "label_purchased": TS.PRE_TRANSIT,
    "confirmed": TS.PRE_TRANSIT,
    "information_received": TS.PRE_TRANSIT,
    "accepted": TS.IN_TRANSIT,
    "picked_up": TS.IN_TRANSIT,
    "in_transit": TS.IN_TRANSIT,
    "transit": TS.IN_TRANSIT,
    "arrived_at_facility": TS.IN_TRANSIT,
    "departed_facility": TS.IN_TRANSIT,
    "out_for_delivery": TS.OUT_FOR_DELIVERY,
    "available_for_pickup": TS.OUT_FOR_DELIVERY,
    "ready_for_pickup": TS.OUT_FOR_DELIVERY,
    "delivered": TS.DELIVERED,
    "exception": TS.EXCEPTION,
    "failure": TS.EXCEPTION,
    "error": TS.EXCEPTION,
    "attempted_delivery": TS.EXCEPTION,
    "delivery_attempted": TS.EXCEPTION,
    "return_to_sender": TS.EXCEPTION,
    "returned": TS.EXCEPTION,
    "lost": TS.EXCEPTION,
    "damaged": TS.EXCEPTION,
    "cancelled": TS.EXCEPTION,
}

# The shipment transition, order event kind and customer e-mail for each status that moves a
# shipment. (`delivered` goes through the delivery service; the others change no order state.)
MOVES = {
    TS.IN_TRANSIT: ("mark_in_transit", OrderEvent.Kind.IN_TRANSIT, None),
    TS.OUT_FOR_DELIVERY: ("mark_out_for_delivery", OrderEvent.Kind.OUT_FOR_DELIVERY, "out_for_delivery"),
    TS.EXCEPTION: ("mark_exception", OrderEvent.Kind.DELIVERY_EXCEPTION, "delivery_exception"),
}
STATE_STATUSES = [TS.IN_TRANSIT, TS.OUT_FOR_DELIVERY, TS.DELIVERED, TS.EXCEPTION]


# Apps further down (returns) claim events for tracking numbers that are theirs, not a shipment's:
# claimer(event) -> True when the event was theirs (called in the recording transaction).
_claimers: list = []


def tracking_claimer_register(claimer) -> None:
    """Let a downstream app apply events whose tracking number no shipment has (AppConfig.ready)."""
    if claimer not in _claimers:
        _claimers.append(claimer)


def tracking_status_normalize(carrier_status: str) -> str:
    """Our TrackingEvent.Status for whatever the carrier called it (`unknown` when unmapped)."""
    key = (carrier_status or "").strip().lower().replace("-", "_").replace(" ", "_")
    return CARRIER_STATUS_MAP.get(key, TS.UNKNOWN)


@dataclass(frozen=True)
class TrackingResult:
    event: TrackingEvent
    created: bool  # False: a duplicate of an event already stored
    moved_to: str = ""  # the shipment's new status, when the event moved it


def _message(shipment: Shipment, status: str, description: str, location: str) -> str:
    text = f"Shipment {shipment.number}: {TS(status).label.lower()}"
    detail = " · ".join(p for p in [description, location] if p)
    return f"{text} ({detail})." if detail else f"{text}."


@transaction.atomic
def shipment_record_tracking_event(
    *,
    tracking_number: str,
    carrier_status: str,
    occurred_at: dt.datetime,
    description: str = "",
    location: str = "",
    carrier_code: str = "",
    source: str = "manual",
    external_id: str = "",
    raw=None,
    estimated_delivery: dt.date | None = None,
    status: str | None = None,
) -> TrackingResult:
    """Store one carrier tracking event and apply it to its shipment.

    Locks the shipment's order, then the shipment (when one has the tracking number). A
    duplicate returns the stored event and changes nothing. `status` overrides the generic
    mapping of `carrier_status`. E-mails the customer after commit on out-for-delivery, a
    delivery problem, and the order's delivery.
    """
    tracking_number = (tracking_number or "").strip()[:64]
    carrier_status = (carrier_status or "").strip()[:64]
    status = status or tracking_status_normalize(carrier_status)
    key = {
        "tracking_number": tracking_number,
        "status": status,
        "occurred_at": occurred_at,
        "carrier_status": carrier_status,
    }
    shipment_id = (
        Shipment.objects.filter(tracking_number=tracking_number)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        if tracking_number
        else None
    )
    order = shipment = None
    if shipment_id is not None:
        order, shipment = shipment_lock(shipment_id)
    existing = TrackingEvent.objects.filter(**key).first()
    if existing is not None:
        return TrackingResult(existing, created=False)
    try:
        with transaction.atomic():  # savepoint: a concurrent duplicate loses the race cleanly
            event = TrackingEvent.objects.create(
                shipment=shipment,
                carrier_code=(carrier_code or "")[:32],
                description=(description or "")[:500],
                location=(location or "")[:200],
                source=source[:32],
                external_id=(external_id or "")[:100],
                raw=raw,
                **key,
            )
    except IntegrityError:
        return TrackingResult(TrackingEvent.objects.get(**key), created=False)
    if shipment is None:
        if not any(claimer(event) for claimer in _claimers):
            logger.warning("Tracking event for unknown tracking number %r stored unmatched.", tracking_number)
        return TrackingResult(event, created=True)

    if (
        estimated_delivery
        and shipment.status != Shipment.Status.DELIVERED
        and estimated_delivery != shipment.estimated_delivery
    ):
        shipment.estimated_delivery = estimated_delivery
        shipment.save(update_fields=["estimated_delivery", "updated_at"])
    moved_to = _apply(order=order, shipment=shipment, event=event)
    shipment_tracking_recorded.send(sender=Shipment, shipment=shipment, event=event, moved_to=moved_to)
    return TrackingResult(event, created=True, moved_to=moved_to)


def _apply(*, order, shipment: Shipment, event: TrackingEvent) -> str:
    if shipment.status == Shipment.Status.DELIVERED or event.status not in STATE_STATUSES:
        return ""
    if event.status == TS.DELIVERED:
        if not can_proceed(shipment.deliver):
            return ""
        shipment_deliver_locked(order=order, shipment=shipment, actor=None, at=event.occurred_at, notify=True)
        return shipment.status
    newest = (
        shipment.tracking_events.exclude(pk=event.pk)
        .filter(status__in=STATE_STATUSES)
        .aggregate(newest=Max("occurred_at"))["newest"]
    )
    if newest is not None and event.occurred_at < newest:
        return ""  # stale: kept in the history, but something newer is already known
    transition, kind, email = MOVES[event.status]
    if not can_proceed(getattr(shipment, transition)):
        return ""
    shipment_transition(
        shipment=shipment,
        name=transition,
        order=order,
        kind=kind,
        visible=True,
        message=_message(shipment, event.status, event.description, event.location),
    )
    if email:
        order_notify(
            order=order, kind=email, notify=True, extra={"shipment_id": shipment.pk, "event_id": event.pk}
        )
    return shipment.status
