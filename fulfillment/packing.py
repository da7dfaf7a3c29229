"""Scan-to-pack: the packer scans a shipment, then every unit going into its box."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orders.events import order_event_record
from orders.models import OrderEvent

from .exceptions import ShipmentNotFound, ShipmentTransitionError, TooManyScanned, WrongItemScanned
from .labels import shipment_label_void_locked
from .models import Box, Shipment, ShipmentLine
from .shipments import shipment_lock, shipment_transition

PACKABLE = (Shipment.Status.PENDING, Shipment.Status.PICKING)


@dataclass(frozen=True)
class PackScan:
    shipment: Shipment
    line: ShipmentLine
    complete: bool


def shipment_get_by_barcode(*, code: str) -> Shipment:
    """The shipment whose number was scanned. Raises ShipmentNotFound."""
    code = (code or "").strip()
    shipment = Shipment.objects.filter(number__iexact=code).first() if code else None
    if shipment is None:
        raise ShipmentNotFound(f"No shipment has the number “{code[:64]}”. Scan the shipment's barcode.")
    return shipment


def line_matches_code(line: ShipmentLine, code: str) -> bool:
    """An item's barcode is its product's barcode; its SKU works too (labels without a GTIN)."""
    code = code.strip().upper()
    product = line.order_line.product
    if product is not None and product.barcode and product.barcode.strip().upper() == code:
        return True
    return line.order_line.sku.strip().upper() == code


def box_get_by_code(code: str) -> Box | None:
    """The active box whose code was scanned (boxes are scanned like items), or None."""
    code = (code or "").strip()
    return Box.objects.filter(code__iexact=code, is_active=True).first() if code else None


@transaction.atomic
def shipment_box_set(*, shipment_id: int, box_id: int | None, actor=None) -> Shipment:
    """Choose the box a shipment goes in (scanned or picked while packing). Locks order then
    shipment. Raises ShipmentTransitionError once it has shipped."""
    _, shipment = shipment_lock(shipment_id)
    if shipment.status not in (*PACKABLE, Shipment.Status.PACKED):
        raise ShipmentTransitionError(shipment=shipment, transition="change the box of")
    shipment.box_id = box_id
    shipment.save(update_fields=["box", "updated_at"])
    return shipment


@transaction.atomic
def shipment_pack_scan(*, shipment_id: int, code: str, actor=None) -> PackScan:
    """Pack one scanned unit; when the last unit is scanned the shipment becomes `packed`.

    Locks order then shipment. Raises ShipmentTransitionError unless the shipment is ready or
    being picked, WrongItemScanned when the code is no item of this shipment, TooManyScanned
    when every unit of that item is already in the box. A refused scan changes nothing.
    """
    order, shipment = shipment_lock(shipment_id)
    if shipment.status not in PACKABLE:
        raise ShipmentTransitionError(shipment=shipment, transition="pack")
    code = (code or "").strip()
    lines = list(shipment.lines.select_related("order_line__product").order_by("pk"))
    matching = [line for line in lines if code and line_matches_code(line, code)]
    if not matching:
        raise WrongItemScanned(
            f"Wrong item: “{code[:64]}” is not in shipment {shipment.number}. "
            "Put it back and scan the next item."
        )
    line = next((ln for ln in matching if ln.quantity_packed < ln.quantity), None)
    if line is None:
        packed = matching[0]
        raise TooManyScanned(
            f"One too many: all {packed.quantity} × {packed.order_line.sku} are already packed "
            f"in shipment {shipment.number}. Take this one out."
        )
    ShipmentLine.objects.filter(pk=line.pk).update(quantity_packed=F("quantity_packed") + 1)
    line.quantity_packed += 1
    complete = all(ln.quantity_packed >= ln.quantity for ln in lines)
    if complete:
        shipment_transition(
            shipment=shipment,
            name="pack",
            at=timezone.now(),
            update_fields=("packed_at",),
            order=order,
            kind=OrderEvent.Kind.PACKED,
            actor=actor,
            message=f"Shipment {shipment.number} packed: {sum(ln.quantity for ln in lines)} units scanned.",
        )
    return PackScan(shipment=shipment, line=line, complete=complete)


@transaction.atomic
def shipment_pack_reset(*, shipment_id: int, actor=None) -> Shipment:
    """Empty the box: set every line's packed count back to zero (the packer starts over).

    Locks order then shipment. Raises ShipmentTransitionError unless the shipment is ready or
    being picked.
    """
    order, shipment = shipment_lock(shipment_id)
    if shipment.status not in PACKABLE:
        raise ShipmentTransitionError(shipment=shipment, transition="restart packing")
    shipment.lines.update(quantity_packed=0)
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        actor=actor,
        message=f"Packing of shipment {shipment.number} restarted: scanned units cleared.",
    )
    return shipment


@transaction.atomic
def shipment_repack(*, shipment_id: int, reason: str, actor=None) -> Shipment:
    """Open a packed box again: the shipment goes back to `picking` with nothing scanned, and its
    label, if one was bought, is voided (the postage refund is asked for after commit).

    Locks order then shipment, then its label. Raises ShipmentTransitionError unless packed,
    LabelPurchaseInProgress while a label purchase is unconfirmed.
    """
    order, shipment = shipment_lock(shipment_id)
    reason = (reason or "").strip() or "repacked"
    if shipment.status != Shipment.Status.PACKED:
        raise ShipmentTransitionError(shipment=shipment, transition="repack")
    shipment_label_void_locked(order=order, shipment=shipment, reason=reason, actor=actor)
    shipment_transition(shipment=shipment, name="unpack", update_fields=("packed_at",))
    shipment.lines.update(quantity_packed=0)
    order_event_record(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        actor=actor,
        message=f"Shipment {shipment.number} opened to be packed again: {reason}.",
    )
    return shipment
