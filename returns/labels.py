"""Prepaid return labels: bought through the carrier gateway when a return is approved and the
shop pays for it (the channel pays for every return, or the reason is free:
OMS_FREE_RETURN_REASONS); the customer downloads it from the return's page and gets it by
e-mail; its tracking moves the return to "on its way back" and "delivered to us".

The purchase is owed to the outside world after the approval commits, so it is a delivery
(core.outbox, topic RETURN_LABEL) whose handler buys with fulfillment's once-only steps on a
ReturnLabel row: a retried delivery finds the platform's shipment id already stored and never
buys a second label. The label travels from the customer to the warehouse that shipped the
order (its ship-from address), as a return shipment (`is_return`), in PDF for home printers, at
the cheapest rate of our set-up services in the order's currency (a return needs no speed).
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from core.fsm import fsm_transition
from core.outbox.errors import DeliveryFailed, DeliveryRetry
from core.outbox.services import delivery_enqueue
from fulfillment.gateway import (
    CarrierUnavailable,
    Parcel,
    PostalAddress,
    ShipmentRequest,
    carrier_gateway_for,
)
from fulfillment.gateway.types import LabelFormat
from fulfillment.labels import (
    LabelNotBought,
    gateway_accounts,
    label_buy_once,
    label_quote_create,
    label_rates,
    rate_options,
    ship_from_for,
)
from fulfillment.models import LabelRecord, Shipment, TrackingEvent
from orders.events import order_event_record, order_lock
from orders.models import OrderEvent

from .exceptions import ReturnTransitionError
from .models import ReturnLabel, ReturnRequest
from .notifications import return_email_after_commit
from .signals import return_changed

RETURN_LABEL = "returns.return_label"
Kind = OrderEvent.Kind
LS = LabelRecord.Status


def return_label_due(rr: ReturnRequest) -> bool:
    """The shop pays the way back: the channel pays for returns, or the reason is free."""
    return rr.order.channel.pays_return_shipping or rr.reason in settings.OMS["FREE_RETURN_REASONS"]


def _first_shipment(rr: ReturnRequest) -> Shipment | None:
    return (
        Shipment.objects.filter(order_id=rr.order_id)
        .exclude(status=Shipment.Status.CANCELLED)
        .select_related("service_level__carrier", "warehouse")
        .order_by("pk")
        .first()
    )


def return_label_gateway(rr: ReturnRequest):
    """The gateway of the carrier that brought the order, when it buys labels; else None."""
    shipment = _first_shipment(rr)
    gateway = carrier_gateway_for(shipment.carrier if shipment else None)
    return gateway if gateway.buys_labels else None


def return_label_enqueue(*, rr: ReturnRequest) -> bool:
    """Owe the customer a return label, bought after commit, when one is due and a gateway that
    buys labels carries the order. Call inside the approval's transaction. True when queued."""
    if not return_label_due(rr) or return_label_gateway(rr) is None:
        return False
    delivery_enqueue(
        target="carrier:returns",
        topic=RETURN_LABEL,
        payload={"return_id": rr.pk},
        reference=rr.number,
        ordering_key=f"return-label:{rr.pk}",
    )
    return True


def _request(rr: ReturnRequest, shipment: Shipment, gateway) -> ShipmentRequest:
    order = rr.order
    weight = sum(
        (line.order_line.product.weight_grams if line.order_line.product else 0) * line.quantity
        for line in rr.lines.select_related("order_line__product")
    )
    return ShipmentRequest(
        reference=rr.number,
        ship_from=PostalAddress.from_model(order.shipping_address, email=order.email),
        ship_to=ship_from_for(shipment.warehouse),
        parcel=Parcel(weight_grams=weight),
        currency=order.currency,
        label_format=LabelFormat.PDF,
        is_return=True,
        carrier_accounts=gateway_accounts(gateway.code),
    )


def return_label_buy(*, return_id: int) -> ReturnLabel:
    """Buy (once) the return label of an approved return, and tell the customer.

    Holds no lock during carrier calls (fulfillment.labels' steps). Raises LabelNotBought when
    no label can be bought now (no set-up rate, refused, unreachable: see its cause).
    """
    rr = ReturnRequest.objects.select_related("order__channel", "order__shipping_address").get(pk=return_id)
    record = rr.labels.filter(status__in=LabelRecord.ACTIVE).first()
    if record is not None and record.status == LS.BOUGHT:
        return record
    shipment = _first_shipment(rr)
    gateway = return_label_gateway(rr)
    if shipment is None or gateway is None:
        raise LabelNotBought(
            "The order's carrier has no labels to buy: send the customer the address instead."
        )
    if record is None:
        record = label_quote_create(
            model=ReturnLabel, gateway=gateway, request=_request(rr, shipment, gateway), return_request=rr
        )
    options = [
        o
        for o in rate_options(rates=label_rates(record), gateway_code=gateway.code)
        if o.service_level is not None and o.rate.price.currency == rr.order.currency
    ]
    if record.status == LS.BUYING:
        options = [o for o in options if o.rate.rate_id == record.rate_id] or options
    if not options:
        offered = "; ".join(f"{r.carrier} {r.service}" for r in label_rates(record)) or "none"
        raise LabelNotBought(f"No set-up service offers a return label (offered: {offered}).")
    record = label_buy_once(model=ReturnLabel, label_id=record.pk, rate=options[0].rate, gateway=gateway)
    _label_ready(return_id=rr.pk, label_id=record.pk, level=options[0].service_level)
    record.refresh_from_db()
    return record


@transaction.atomic
def _label_ready(*, return_id: int, label_id: int, level) -> None:
    """Say on the timeline that the label is ready, and e-mail it (once) after commit. Locks the
    order, then the return's label row."""
    rr = ReturnRequest.objects.get(pk=return_id)
    order = order_lock(rr.order_id)
    record = ReturnLabel.objects.select_for_update().get(pk=label_id)
    if record.emailed_at is not None:
        return
    record.service_level = level
    record.emailed_at = timezone.now()
    record.save(update_fields=["service_level", "emailed_at", "updated_at"])
    order_event_record(
        order=order,
        kind=Kind.RETURN,
        visible=True,
        message=f"Prepaid return label for {rr.number} is ready ({record.carrier_name} "
        f"{record.service_name}, tracking {record.tracking_number}). Print it from your return's page "
        "or the e-mail.",
    )
    order_event_record(
        order=order,
        kind=Kind.NOTE,
        message=f"Return label for {rr.number}: postage {record.postage} {record.currency}.",
    )
    return_email_after_commit(return_id=rr.pk, kind="return_label")


def return_label_send(delivery, http) -> dict:
    """Delivery handler (topic RETURN_LABEL). An unreachable carrier is retried; a refusal (or no
    set-up rate) gives up and leaves staff a note and the "Buy the return label" button."""
    rr = ReturnRequest.objects.filter(pk=delivery.payload["return_id"]).first()
    if rr is None or rr.status not in (ReturnRequest.Status.APPROVED, ReturnRequest.Status.IN_TRANSIT):
        return {"skipped": True}
    try:
        record = return_label_buy(return_id=rr.pk)
    except LabelNotBought as exc:
        if isinstance(exc.__cause__, CarrierUnavailable):
            raise DeliveryRetry(str(exc)) from exc
        with transaction.atomic():
            order_event_record(
                order=order_lock(rr.order_id),
                kind=Kind.NOTE,
                message=f"Return label for {rr.number} not bought: {exc}",
            )
        raise DeliveryFailed(str(exc)) from exc
    return {"tracking_number": record.tracking_number, "reference": record.reference}


# --- its tracking ------------------------------------------------------------------------------
MOVES = {
    TrackingEvent.Status.IN_TRANSIT: ("mark_in_transit", "is on its way back to us"),
    TrackingEvent.Status.OUT_FOR_DELIVERY: ("mark_in_transit", "is on its way back to us"),
    TrackingEvent.Status.DELIVERED: (
        "mark_delivered",
        "was delivered to our warehouse; we will check it soon",
    ),
}


def return_tracking_claim(event: TrackingEvent) -> bool:
    """Apply a carrier event whose tracking number is a return label's (fulfillment calls this
    for events no shipment claims). Moves the return to in transit or delivered to us, with a
    customer-visible event; a return further on is left as it is. True when it was a return's.

    Locks the order, then the return (the caller's transaction).
    """
    record = (
        ReturnLabel.objects.filter(tracking_number=event.tracking_number, status=LS.BOUGHT)
        .only("return_request_id")
        .first()
    )
    if record is None:
        return False
    move = MOVES.get(event.status)
    if move is None:
        return True
    order_id = ReturnRequest.objects.values_list("order_id", flat=True).get(pk=record.return_request_id)
    order = order_lock(order_id)
    rr = ReturnRequest.objects.select_for_update().get(pk=record.return_request_id)
    name, words = move
    if name == "mark_delivered" and can_proceed(rr.mark_in_transit) and not can_proceed(rr.mark_delivered):
        name = "mark_in_transit"
    if not can_proceed(getattr(rr, name)):
        return True
    before, after = fsm_transition(
        obj=rr, name=name, refused=lambda: ReturnTransitionError(return_request=rr, transition=name)
    )
    order_event_record(order=order, kind=Kind.RETURN, visible=True, message=f"Return {rr.number} {words}.")
    return_changed.send(
        sender=ReturnRequest, return_request=rr, order=order, from_status=before, to_status=after
    )
    return True
