"""Writes to shipments: start fulfilment, pick, pack, ship, deliver, tracking events.

Lock order, always: the order row, then its shipment rows (pk order), then stock items (pk order,
inside inventory's services). Every path takes them in that order, so none can deadlock.
"""

import secrets
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import can_proceed

from inventory.selectors import reservation_list_active
from inventory.services import stock_consume
from orders.events import order_event_record, order_lock, order_notify, order_transition
from orders.exceptions import OrderTransitionError
from orders.models import Order, OrderEvent, OrderLine

from .estimates import estimate_delivery
from .exceptions import ServiceLevelOverrideRefused, ShipmentTransitionError, TrackingChangeRefused
from .models import ServiceLevel, Shipment, ShipmentLine, TrackingEvent
from .rules import Parcel, parcel_for_items, service_level_choose, service_level_refusal
from .shipments import shipment_deliver_locked, shipment_lock, shipment_next_index, shipment_transition
from .signals import shipment_shipped, shipment_tracking_changed

Kind = OrderEvent.Kind


def _shipment_number(order: Order, index: int) -> str:
    return f"{order.number}-{index}"


def _parcel_for(shipment_lines: list[ShipmentLine], country: str) -> Parcel:
    return parcel_for_items(((sl.order_line.product, sl.quantity) for sl in shipment_lines), country)


@transaction.atomic
def order_start_fulfillment(*, order_id: int, actor=None) -> list[Shipment]:
    """Create one shipment per warehouse holding the order's reservations, choose each one's
    carrier service and delivery estimate, and move the order to `processing`.

    Locks the order. Raises OrderTransitionError unless the order is `allocated`.
    """
    order = order_lock(order_id)
    if not can_proceed(order.start_fulfillment):
        raise OrderTransitionError(order=order, transition="start_fulfillment")
    lines = {line.stock_reference: line for line in order.lines.select_related("product")}
    per_warehouse: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    warehouses = {}
    for res in reservation_list_active(reference=order.stock_reference):
        warehouses[res.stock_item.warehouse_id] = res.stock_item.warehouse
        per_warehouse[res.stock_item.warehouse_id][res.line_reference] += res.quantity

    country = order.shipping_address.country if order.shipping_address else ""
    now = timezone.now()
    shipments = []
    notes = []
    start_index = shipment_next_index(order)
    for index, (warehouse_id, quantities) in enumerate(sorted(per_warehouse.items()), start_index):
        shipment = Shipment.objects.create(
            number=_shipment_number(order, index), order=order, warehouse_id=warehouse_id
        )
        shipment_lines = ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line=lines[ref], quantity=qty)
            for ref, qty in quantities.items()
        )
        parcel = _parcel_for(shipment_lines, country)
        choice = service_level_choose(speed=order.shipping_speed, parcel=parcel)
        shipment.weight_grams = parcel.weight_grams
        shipment.service_level = choice.service_level
        if choice.service_level:
            shipment.estimated_delivery = estimate_delivery(
                now,
                cutoff=choice.service_level.cutoff_time,
                transit_days=choice.service_level.transit_days,
            )
        shipment.save(update_fields=["weight_grams", "service_level", "estimated_delivery"])
        shipments.append(shipment)
        notes.append(f"{shipment.number} from {warehouses[warehouse_id].code}: {choice.reason}")

    order_transition(
        order=order,
        name="start_fulfillment",
        kind=Kind.FULFILLMENT_STARTED,
        actor=actor,
        visible=True,
        message="We are preparing your order.",
    )
    order_event_record(order=order, kind=Kind.NOTE, actor=actor, message="\n".join(notes))
    return shipments


@transaction.atomic
def shipment_start_picking(*, shipment_id: int, actor=None) -> Shipment:
    """Move a ready shipment to `picking`. Locks order then shipment."""
    _, shipment = shipment_lock(shipment_id)
    shipment_transition(shipment=shipment, name="start_picking")
    return shipment


@transaction.atomic
def shipment_pack(*, shipment_id: int, actor=None) -> Shipment:
    """Mark every unit of a shipment packed. Locks order then shipment."""
    order, shipment = shipment_lock(shipment_id)
    shipment_transition(
        shipment=shipment,
        name="pack",
        at=timezone.now(),
        update_fields=("packed_at",),
        order=order,
        kind=Kind.PACKED,
        actor=actor,
        message=f"Shipment {shipment.number} packed.",
    )
    for line in shipment.lines.all():
        if line.quantity_packed != line.quantity:
            line.quantity_packed = line.quantity
            line.save(update_fields=["quantity_packed"])
    return shipment


def generate_tracking_number() -> str:
    """A tracking number for our own local courier (carriers' numbers are entered or scanned)."""
    return "LC" + "".join(secrets.choice("0123456789") for _ in range(12))


@transaction.atomic
def shipment_ship(
    *, shipment_id: int, tracking_number: str = "", actor=None, notify: bool = True
) -> Shipment:
    """Hand a packed shipment to the carrier: its stock leaves the ledger and the order becomes
    `partially_shipped` or `shipped`.

    Locks the order, the shipment, then its stock items. Raises ShipmentTransitionError unless
    packed, OrderTransitionError if the order can't ship. E-mails the customer after commit.
    """
    order, shipment = shipment_lock(shipment_id)
    # A bought label's number is already on the shipment; typed beats it, else the local courier's.
    tracking_number = (
        (tracking_number or "").strip() or shipment.tracking_number or generate_tracking_number()
    )
    if not can_proceed(shipment.ship):
        raise ShipmentTransitionError(shipment=shipment, transition="ship")
    now = timezone.now()
    lines = list(shipment.lines.select_related("order_line"))
    consumed = stock_consume(
        reference=order.stock_reference,
        warehouse_id=shipment.warehouse_id,
        line_references=[sl.order_line.stock_reference for sl in lines],
        actor=actor,
        movement_reference=f"shipment:{shipment.number}",
    )
    for sl in lines:
        shipped = consumed.get(sl.order_line.stock_reference, 0)
        if shipped:
            OrderLine.objects.filter(pk=sl.order_line_id).update(
                quantity_shipped=F("quantity_shipped") + shipped
            )
    shipment_transition(
        shipment=shipment,
        name="ship",
        at=now,
        tracking_number=tracking_number,
        update_fields=("shipped_at", "tracking_number"),
    )
    open_shipments = order.shipments.exclude(
        status__in=[*Shipment.ON_THE_WAY, Shipment.Status.DELIVERED]
    ).exists()
    carrier = shipment.carrier
    message = (
        f"Shipment {shipment.number} handed to {carrier.name if carrier else 'the carrier'}, "
        f"tracking number {tracking_number}."
    )
    if shipment.estimated_delivery:
        message += f" Estimated delivery {shipment.estimated_delivery:%A %d %B}."
    order_transition(
        order=order,
        name="ship_partially" if open_shipments else "ship",
        kind=Kind.SHIPPED,
        actor=actor,
        visible=True,
        at=now,
        update_fields=("shipped_at",),
        message=message,
    )
    # Carrier events that arrived before the number was entered were kept unmatched: claim them.
    TrackingEvent.objects.filter(shipment__isnull=True, tracking_number=tracking_number).update(
        shipment=shipment
    )
    order_notify(order=order, kind="shipped", notify=notify, actor=actor, extra={"shipment_id": shipment.pk})
    shipment_shipped.send(sender=Shipment, shipment=shipment, order=order)
    return shipment


@transaction.atomic
def shipment_deliver(*, shipment_id: int, actor=None, at=None, notify: bool = True) -> Shipment:
    """Mark a shipment delivered; when every shipment is delivered, so is the order.

    Locks order then shipment. Raises ShipmentTransitionError unless the shipment is on its way.
    E-mails the customer after commit when the whole order is delivered, unless notify=False.
    """
    order, shipment = shipment_lock(shipment_id)
    shipment_deliver_locked(
        order=order, shipment=shipment, actor=actor, at=at or timezone.now(), notify=notify
    )
    return shipment


@transaction.atomic
def shipment_change_service_level(
    *, shipment_id: int, service_level_id: int, reason: str, actor=None
) -> Shipment:
    """Staff override of the carrier service the rules chose, with the reason on the timeline.

    Locks order then shipment. Allowed until the shipment is handed to the carrier. The new
    service may be one the rules would refuse (staff know something they don't): the refusal is
    written into the event so the choice stays explainable. Recomputes the delivery estimate.
    Raises ServiceLevelOverrideRefused without a reason, for an unknown or inactive service, or
    once the shipment has shipped.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ServiceLevelOverrideRefused("Say why the carrier service is changed.")
    order, shipment = shipment_lock(shipment_id)
    if shipment.status not in (Shipment.Status.PENDING, Shipment.Status.PICKING, Shipment.Status.PACKED):
        raise ServiceLevelOverrideRefused(
            f"Shipment {shipment.number} is {shipment.get_status_display().lower()}: "
            "its carrier can't change any more."
        )
    level = (
        ServiceLevel.objects.select_related("carrier")
        .filter(pk=service_level_id, is_active=True, carrier__is_active=True)
        .first()
    )
    if level is None:
        raise ServiceLevelOverrideRefused("That carrier service does not exist or is inactive.")
    before = shipment.service_level
    if before is not None and before.pk == level.pk:
        raise ServiceLevelOverrideRefused(f"Shipment {shipment.number} already goes by {level}.")
    lines = list(shipment.lines.select_related("order_line__product"))
    country = order.shipping_address.country if order.shipping_address else ""
    refusal = service_level_refusal(level, _parcel_for(lines, country))
    shipment.service_level = level
    shipment.estimated_delivery = estimate_delivery(
        timezone.now(), cutoff=level.cutoff_time, transit_days=level.transit_days
    )
    shipment.save(update_fields=["service_level", "estimated_delivery", "updated_at"])
    message = (
        f"Carrier service of {shipment.number} changed by staff from {before or 'none'} to {level}: "
        f"{reason}. New estimate {shipment.estimated_delivery:%a %d %b}."
    )
    if refusal:
        message += f" Overrides the rules, which refuse it: {refusal}."
    order_event_record(order=order, kind=Kind.NOTE, actor=actor, message=message)
    return shipment


@transaction.atomic
def shipment_tracking_change(
    *, shipment_id: int, tracking_number: str, reason: str = "", actor=None
) -> Shipment:
    """Correct the tracking number of a shipment already handed to the carrier (a mistyped or
    relabelled parcel), say so on the order's timeline, and tell the channel (signal
    `shipment_tracking_changed`, in this transaction).

    Locks order then shipment. Raises TrackingChangeRefused unless the shipment is on its way,
    or when the number is empty or unchanged.
    """
    tracking_number = (tracking_number or "").strip()[:64]
    if not tracking_number:
        raise TrackingChangeRefused("Give the new tracking number.")
    order, shipment = shipment_lock(shipment_id)
    if shipment.status not in Shipment.ON_THE_WAY:
        raise TrackingChangeRefused(
            f"Shipment {shipment.number} is {shipment.get_status_display().lower()}: "
            "only a shipment on its way gets a new tracking number."
        )
    previous = shipment.tracking_number
    if tracking_number == previous:
        raise TrackingChangeRefused(f"Shipment {shipment.number} already has tracking number {previous}.")
    shipment.tracking_number = tracking_number
    shipment.save(update_fields=["tracking_number", "updated_at"])
    message = f"Tracking number of {shipment.number} changed from {previous} to {tracking_number}."
    if reason.strip():
        message += f" {reason.strip()}"
    order_event_record(order=order, kind=Kind.NOTE, actor=actor, message=message)
    shipment_tracking_changed.send(sender=Shipment, shipment=shipment, order=order, previous=previous)
    return shipment
