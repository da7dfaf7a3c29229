"""Inbound receipts: deliveries we expect from suppliers, received (in part or whole) into stock."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..exceptions import ReceiptError
from ..models import InboundReceipt, InboundReceiptLine, StockMovement
from .ledger import stock_arrival_announce, stock_item_for_receipt, stock_items_lock, stock_movement_record


@dataclass(frozen=True)
class ReceiptLineInput:
    product_id: int
    quantity_expected: int
    bin_location: str = ""


@transaction.atomic
def inbound_receipt_create(
    *,
    supplier: str,
    warehouse_id: int,
    lines: list[ReceiptLineInput],
    supplier_reference: str = "",
    expected_on=None,
    notes: str = "",
) -> InboundReceipt:
    """Announce a delivery we expect from a supplier. Nothing goes on hand until it is received.

    Raises ReceiptError without a supplier, without lines, for a quantity below 1 or a product
    listed twice for the same bin.
    """
    if not supplier.strip():
        raise ReceiptError("Name the supplier.")
    if not lines:
        raise ReceiptError("A receipt needs at least one line.")
    seen = set()
    for line in lines:
        if line.quantity_expected < 1:
            raise ReceiptError("Expected quantities must be at least 1.")
        key = (line.product_id, line.bin_location)
        if key in seen:
            raise ReceiptError("The same product and bin appears twice; add the quantities up.")
        seen.add(key)
    receipt = InboundReceipt.objects.create(
        supplier=supplier.strip()[:200],
        supplier_reference=supplier_reference.strip()[:100],
        warehouse_id=warehouse_id,
        expected_on=expected_on,
        notes=notes,
    )
    InboundReceiptLine.objects.bulk_create(
        InboundReceiptLine(
            receipt=receipt,
            product_id=line.product_id,
            bin_location=line.bin_location.strip()[:32],
            quantity_expected=line.quantity_expected,
        )
        for line in lines
    )
    return receipt


@transaction.atomic
def inbound_receipt_receive(
    *, receipt_id: int, quantities: dict[int, int] | None = None, actor=None
) -> list[StockMovement]:
    """Receive a delivery (or part of one) against an expected receipt.

    `quantities` maps receipt line id to units that arrived now; None receives everything
    outstanding. Locks the receipt row, then every target stock item at once (pk order).
    Raises ReceiptError for a closed receipt, nothing to receive, an unknown line, or more than
    is outstanding on a line, having received nothing. Sends
    `stock_arrived` once after commit for every product received.
    """
    receipt = InboundReceipt.objects.select_for_update().select_related("warehouse").get(pk=receipt_id)
    if not receipt.is_open:
        raise ReceiptError(f"Receipt {receipt.number} is {receipt.get_status_display().lower()}.")
    lines = {line.pk: line for line in receipt.lines.select_related("product").order_by("pk")}
    if quantities is None:
        quantities = {pk: line.outstanding for pk, line in lines.items()}
    wanted = {pk: qty for pk, qty in quantities.items() if qty}
    if not wanted:
        raise ReceiptError("Enter at least one received quantity.")
    for pk, qty in wanted.items():
        line = lines.get(pk)
        if line is None:
            raise ReceiptError(f"Line {pk} is not on receipt {receipt.number}.")
        if qty < 0 or qty > line.outstanding:
            raise ReceiptError(
                f"{line.product.sku}: {line.outstanding} outstanding, can't receive {qty} "
                "(enter a correction as an adjustment once it is on hand)."
            )
    targets = {
        pk: stock_item_for_receipt(
            product=lines[pk].product,
            warehouse=receipt.warehouse,
            bin_location=lines[pk].bin_location or None,
        )
        for pk in wanted
    }
    # All target items at once in pk order, not one per line as we go: an allocation locking the
    # same items in pk order could otherwise deadlock with us.
    stock_items_lock(item.pk for item in targets.values())
    movements = []
    for pk, qty in sorted(wanted.items()):
        movements.append(
            stock_movement_record(
                stock_item_id=targets[pk].pk,
                kind=StockMovement.Kind.RECEIPT,
                quantity=qty,
                reference=f"receipt:{receipt.number}",
                reason=receipt.supplier,
                actor=actor,
                announce=False,
            )
        )
        InboundReceiptLine.objects.filter(pk=pk).update(quantity_received=F("quantity_received") + qty)
        lines[pk].quantity_received += qty
    complete = all(line.outstanding == 0 for line in lines.values())
    receipt.status = InboundReceipt.Status.RECEIVED if complete else InboundReceipt.Status.PARTIALLY_RECEIVED
    receipt.received_at = timezone.now()
    receipt.save(update_fields=["status", "received_at", "updated_at"])
    stock_arrival_announce(lines[pk].product_id for pk in wanted)
    return movements


@transaction.atomic
def inbound_receipt_close(*, receipt_id: int, actor=None, note: str = "") -> InboundReceipt:
    """Stop expecting the rest of a receipt: one never received is cancelled, one partly
    received is closed as received (short). Locks the receipt. Raises ReceiptError if it is
    already closed."""
    receipt = InboundReceipt.objects.select_for_update().get(pk=receipt_id)
    if not receipt.is_open:
        raise ReceiptError(f"Receipt {receipt.number} is already {receipt.get_status_display().lower()}.")
    short = receipt.status == InboundReceipt.Status.PARTIALLY_RECEIVED
    receipt.status = InboundReceipt.Status.RECEIVED if short else InboundReceipt.Status.CANCELLED
    if note:
        receipt.notes = f"{receipt.notes}\n{note}".strip()
    receipt.save(update_fields=["status", "notes", "updated_at"])
    return receipt
