"""Writes to stock. Every change to on-hand goes through `stock_movement_record`, which writes the
ledger row and the F()-update together, so on_hand always equals the sum of movements.

Lock order: stock items are always locked with select_for_update() in primary-key order, so two
transactions that touch overlapping items queue instead of deadlocking.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.crypto import get_random_string

from .exceptions import InsufficientStock, ReceiptError, Shortfall, StockMovementRefused
from .models import (
    InboundReceipt,
    InboundReceiptLine,
    Product,
    Reservation,
    StockItem,
    StockMovement,
    Warehouse,
)
from .signals import stock_arrived


@dataclass(frozen=True)
class ReserveRequest:
    line_reference: str
    product_id: int
    quantity: int


def _lock_items(item_ids: Iterable[int]) -> dict[int, StockItem]:
    # Primary-key order: every locker takes rows in the same order, so none can deadlock.
    items = StockItem.objects.select_for_update().filter(pk__in=set(item_ids)).order_by("pk")
    return {item.pk: item for item in items}


def stock_lock_products(*, product_ids: Iterable[int]) -> list[StockItem]:
    """Lock every stock item of these products, in every warehouse, in pk order, and return
    them (with their warehouse, which is read, not locked).

    Allocation takes these locks before it reads availability, so its decision (reserve here,
    split, or backorder) is made on numbers nobody can change until it commits. Without them an
    order could read "none left", lose the race to a cancellation that frees units and announces
    them, and commit a backorder nobody will wake again. Must run inside a transaction.
    """
    product_ids = set(product_ids)
    if not product_ids:
        return []
    return list(
        StockItem.objects.select_for_update(of=("self",))
        .select_related("warehouse")
        .filter(product_id__in=product_ids)
        .order_by("pk")
    )


def stock_item_get_or_create(*, product: Product, warehouse: Warehouse, bin_location: str = ""):
    item, _ = StockItem.objects.get_or_create(product=product, warehouse=warehouse, bin_location=bin_location)
    return item


def _announce_arrival(product_ids: Iterable[int]) -> None:
    """Tell downstream apps, once this transaction commits, that units became available.

    robust=True: a failing receiver (say, a backorder that can't be allocated) is logged and
    must not turn a committed receipt into an error page.
    """
    ids = frozenset(product_ids)
    if ids:
        transaction.on_commit(partial(stock_arrived.send, sender=StockItem, product_ids=ids), robust=True)


@transaction.atomic
def stock_movement_record(
    *,
    stock_item_id: int,
    kind: str,
    quantity: int,
    reference: str = "",
    reason: str = "",
    reason_code: str = "",
    actor=None,
    announce: bool = True,
) -> StockMovement:
    """Add one ledger line and apply it to on-hand: the only way on-hand changes.

    Locks the stock item. Raises StockMovementRefused for zero units, an adjustment without a
    known reason code, or a movement that would take on-hand below zero or below what is
    reserved (reservations must be released or consumed first). After commit, a movement that
    adds units sends `stock_arrived` (unless `announce` is False: the caller announces once).
    """
    if quantity == 0:
        raise StockMovementRefused("A movement of zero units changes nothing.")
    if kind not in StockMovement.Kind.values:
        raise StockMovementRefused(f"Unknown movement kind “{kind}”.")
    if reason_code and reason_code not in StockMovement.ReasonCode.values:
        raise StockMovementRefused(f"Unknown reason code “{reason_code}”.")
    if kind == StockMovement.Kind.ADJUSTMENT and not reason_code:
        raise StockMovementRefused("An adjustment needs a reason code.")
    item = _lock_items([stock_item_id])[stock_item_id]
    if item.on_hand + quantity < item.reserved:
        raise StockMovementRefused(
            f"{item}: {item.on_hand} on hand, {item.reserved} reserved; can't remove {-quantity}."
        )
    movement = StockMovement.objects.create(
        stock_item=item,
        kind=kind,
        quantity=quantity,
        reference=reference[:100],
        reason=reason[:255],
        reason_code=reason_code,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + quantity, updated_at=timezone.now())
    if quantity > 0 and announce:
        _announce_arrival([item.product_id])
    return movement


def stock_item_for_receipt(*, product: Product, warehouse: Warehouse, bin_location: str | None = None):
    """The stock item new units go to: the given bin, else the product's first bin in that
    warehouse, else a new item without a bin."""
    if bin_location is None:
        existing = StockItem.objects.filter(product=product, warehouse=warehouse).order_by(
            "bin_location", "pk"
        )
        item = existing.first()
        if item is not None:
            return item
        bin_location = ""
    return stock_item_get_or_create(product=product, warehouse=warehouse, bin_location=bin_location)


def stock_receive(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: int,
    bin_location: str | None = None,
    reference: str = "",
    actor=None,
    kind: str = StockMovement.Kind.RECEIPT,
    reason: str = "",
    announce: bool = True,
) -> StockMovement:
    """Put units on hand (receipt, return restock, transfer in).

    Locks the stock item. Raises StockMovementRefused for less than one unit. Sends
    `stock_arrived` after commit (see stock_movement_record).
    """
    if quantity <= 0:
        raise StockMovementRefused("Received quantity must be at least 1.")
    item = stock_item_for_receipt(product=product, warehouse=warehouse, bin_location=bin_location)
    return stock_movement_record(
        stock_item_id=item.pk,
        kind=kind,
        quantity=quantity,
        reference=reference,
        reason=reason,
        actor=actor,
        announce=announce,
    )


@transaction.atomic
def stock_reserve(*, reference: str, warehouse_id: int, requests: list[ReserveRequest]) -> list[Reservation]:
    """Reserve every request from one warehouse, or nothing.

    Locks the warehouse's stock items for the requested products (pk order). Bins are drawn in
    bin order. Raises InsufficientStock naming every short product, having reserved nothing.
    """
    return stock_reserve_split(reference=reference, warehouse_ids=[warehouse_id], requests=requests)


@transaction.atomic
def stock_reserve_split(
    *, reference: str, warehouse_ids: list[int], requests: list[ReserveRequest]
) -> list[Reservation]:
    """Reserve every request across the given warehouses, or nothing.

    Each line is drawn from the warehouses in the order given (the first as far as it goes,
    then the next), and inside a warehouse bin by bin. Locks every candidate stock item in all
    those warehouses at once, in pk order, so concurrent reservations queue instead of
    deadlocking. Raises InsufficientStock naming every product short over all of them, having
    reserved nothing.
    """
    needed = _needed(requests)
    rank = {wid: i for i, wid in enumerate(warehouse_ids)}
    candidate_ids = StockItem.objects.filter(warehouse_id__in=rank, product_id__in=needed).values_list(
        "pk", flat=True
    )
    items = _lock_items(candidate_ids)
    by_product: dict[int, list[StockItem]] = defaultdict(list)
    for item in sorted(items.values(), key=lambda i: (rank[i.warehouse_id], i.bin_location, i.pk)):
        by_product[item.product_id].append(item)

    _raise_if_short(needed=needed, by_product=by_product)
    return _reserve_from(reference=reference, by_product=by_product, requests=requests)


@transaction.atomic(savepoint=False)
def stock_reserve_locked(
    *, reference: str, items: list[StockItem], warehouse_id: int, requests: list[ReserveRequest]
) -> list[Reservation]:
    """Reserve every request from one warehouse out of stock items the caller has already
    locked in this transaction (stock_lock_products) and read since: no second lookup or lock.

    Bins are drawn in bin order. Raises InsufficientStock naming every short product, having
    reserved nothing. No savepoint of its own: it writes nothing before it can fail, and the
    CHECK constraints still refuse reserved > on_hand (aborting the caller's transaction) if
    `items` were stale.
    """
    by_product: dict[int, list[StockItem]] = defaultdict(list)
    for item in sorted(items, key=lambda i: (i.bin_location, i.pk)):
        if item.warehouse_id == warehouse_id:
            by_product[item.product_id].append(item)
    _raise_if_short(needed=_needed(requests), by_product=by_product)
    return _reserve_from(reference=reference, by_product=by_product, requests=requests)


def _needed(requests: list[ReserveRequest]) -> dict[int, int]:
    """Units wanted per product over all requests."""
    needed: dict[int, int] = defaultdict(int)
    for req in requests:
        needed[req.product_id] += req.quantity
    return needed


def _raise_if_short(*, needed: dict[int, int], by_product: dict[int, list[StockItem]]) -> None:
    """Raise InsufficientStock naming every product the locked items can't cover (their SKUs in
    one query), before anything is written."""
    short = {}
    for product_id, quantity in needed.items():
        available = sum(i.available for i in by_product[product_id])
        if available < quantity:
            short[product_id] = (quantity, available)
    if short:
        skus = dict(Product.objects.filter(pk__in=short).values_list("pk", "sku"))
        raise InsufficientStock(
            [
                Shortfall(pid, skus.get(pid, ""), wanted, available)
                for pid, (wanted, available) in short.items()
            ]
        )


def _reserve_from(
    *, reference: str, by_product: dict[int, list[StockItem]], requests: list[ReserveRequest]
) -> list[Reservation]:
    """Draw each request from its product's (locked, ranked) items; one insert for the
    reservations and one update for the items' reserved counts."""
    reservations = []
    taken: dict[int, int] = defaultdict(int)
    for req in requests:
        remaining = req.quantity
        for item in by_product[req.product_id]:
            free = item.available
            if free <= 0:
                continue
            qty = min(free, remaining)
            taken[item.pk] += qty
            item.reserved += qty
            remaining -= qty
            reservations.append(
                Reservation(
                    stock_item=item,
                    reference=reference,
                    line_reference=req.line_reference,
                    quantity=qty,
                )
            )
            if remaining == 0:
                break
    Reservation.objects.bulk_create(reservations)
    if taken:
        StockItem.objects.filter(pk__in=list(taken)).update(
            reserved=F("reserved")
            + Case(*(When(pk=pk, then=Value(qty)) for pk, qty in taken.items()), output_field=IntegerField()),
            updated_at=timezone.now(),
        )
    return reservations


def _close_reservations(reservations: list[Reservation], status: str) -> dict[int, int]:
    per_item: dict[int, int] = defaultdict(int)
    for res in reservations:
        per_item[res.stock_item_id] += res.quantity
    now = timezone.now()
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(status=status, closed_at=now)
    return per_item


@transaction.atomic
def stock_release(*, reference: str, line_references: Iterable[str] | None = None) -> int:
    """Release the active reservations held under `reference` (optionally only some lines).

    Locks the affected stock items (pk order). Returns the number of units released. The freed
    units are announced with `stock_arrived` after commit, so backorders can take them.
    """
    qs = Reservation.objects.filter(reference=reference, status=Reservation.Status.ACTIVE)
    if line_references is not None:
        qs = qs.filter(line_reference__in=list(line_references))
    item_ids = list(qs.values_list("stock_item_id", flat=True))
    if not item_ids:
        return 0
    _lock_items(item_ids)
    reservations = list(qs.select_for_update())
    per_item = _close_reservations(reservations, Reservation.Status.RELEASED)
    now = timezone.now()
    for item_id, qty in per_item.items():
        StockItem.objects.filter(pk=item_id).update(reserved=F("reserved") - qty, updated_at=now)
    _announce_arrival(StockItem.objects.filter(pk__in=per_item).values_list("product_id", flat=True))
    return sum(per_item.values())


@transaction.atomic
def stock_consume(
    *,
    reference: str,
    warehouse_id: int,
    line_references: Iterable[str],
    actor=None,
    movement_reference: str = "",
) -> dict[str, int]:
    """Turn active reservations into shipped units: they leave reserved and on-hand together,
    with a SHIPMENT ledger line per stock item.

    Locks the affected stock items (pk order). Returns units consumed per line reference.
    """
    qs = Reservation.objects.filter(
        reference=reference,
        status=Reservation.Status.ACTIVE,
        stock_item__warehouse_id=warehouse_id,
        line_reference__in=list(line_references),
    )
    item_ids = list(qs.values_list("stock_item_id", flat=True))
    if not item_ids:
        return {}
    _lock_items(item_ids)
    reservations = list(qs.select_for_update())
    per_line: dict[str, int] = defaultdict(int)
    for res in reservations:
        per_line[res.line_reference] += res.quantity
    per_item = _close_reservations(reservations, Reservation.Status.CONSUMED)
    now = timezone.now()
    for item_id, qty in sorted(per_item.items()):
        StockMovement.objects.create(
            stock_item_id=item_id,
            kind=StockMovement.Kind.SHIPMENT,
            quantity=-qty,
            reference=movement_reference or reference,
            actor=actor,
        )
        StockItem.objects.filter(pk=item_id).update(
            on_hand=F("on_hand") - qty, reserved=F("reserved") - qty, updated_at=now
        )
    return dict(per_line)


# --- adjustments, counts, transfers --------------------------------------------------------------
@transaction.atomic
def stock_adjust(
    *, stock_item_id: int, quantity: int, reason_code: str, note: str = "", reference: str = "", actor=None
) -> StockMovement:
    """Correct on-hand by a signed number of units, for a stated reason (damage, loss, found...).

    Locks the stock item. Raises StockMovementRefused for zero units, a missing or unknown
    reason code, or taking on-hand below what is reserved. Positive adjustments send
    `stock_arrived` after commit.
    """
    return stock_movement_record(
        stock_item_id=stock_item_id,
        kind=StockMovement.Kind.ADJUSTMENT,
        quantity=quantity,
        reason_code=reason_code,
        reason=note,
        reference=reference or f"adjustment:{stock_item_id}",
        actor=actor,
    )


@transaction.atomic
def stock_count_record(
    *, stock_item_id: int, counted: int, note: str = "", actor=None
) -> StockMovement | None:
    """Record a cycle count: the difference to on-hand becomes a COUNT movement.

    Locks the stock item. Returns None when the count matches (the count date is still kept).
    Raises StockMovementRefused for a negative count or one below the units reserved there
    (those belong to orders: cancel or re-allocate them first, then count again).
    """
    if counted < 0:
        raise StockMovementRefused("A count can't be negative.")
    item = _lock_items([stock_item_id])[stock_item_id]
    if counted < item.reserved:
        raise StockMovementRefused(
            f"{item}: counted {counted} but {item.reserved} are reserved for orders; "
            "re-allocate or cancel those orders before recording this count."
        )
    now = timezone.now()
    StockItem.objects.filter(pk=item.pk).update(last_counted_at=now, updated_at=now)
    difference = counted - item.on_hand
    if difference == 0:
        return None
    return stock_movement_record(
        stock_item_id=item.pk,
        kind=StockMovement.Kind.COUNT,
        quantity=difference,
        reason=(f"Counted {counted}, system had {item.on_hand}. {note}").strip(),
        reference=f"count:{timezone.localdate(now):%Y-%m-%d}",  # the day the staff counted, locally
        actor=actor,
    )


@transaction.atomic
def stock_transfer(
    *,
    stock_item_id: int,
    to_warehouse_id: int,
    quantity: int,
    to_bin_location: str | None = None,
    note: str = "",
    actor=None,
) -> tuple[StockMovement, StockMovement]:
    """Move units from one stock item to a warehouse (or another bin): a TRANSFER_OUT and a
    TRANSFER_IN movement sharing one reference.

    Locks both stock items together in pk order (never one then the other, which could
    deadlock against a reservation locking them the other way round). Raises
    StockMovementRefused for less than one unit, a transfer onto the same item, to an inactive
    warehouse, or of more than the source's available units. Sends `stock_arrived` after commit.
    """
    if quantity <= 0:
        raise StockMovementRefused("Transfer at least one unit.")
    source = StockItem.objects.select_related("product", "warehouse").get(pk=stock_item_id)
    target_warehouse = Warehouse.objects.get(pk=to_warehouse_id)
    if not target_warehouse.is_active:
        raise StockMovementRefused(f"{target_warehouse} is inactive.")
    if to_bin_location is None and target_warehouse.pk == source.warehouse_id:
        raise StockMovementRefused("Choose a bin: the stock is already in that warehouse.")
    target = stock_item_for_receipt(
        product=source.product, warehouse=target_warehouse, bin_location=to_bin_location
    )
    if target.pk == source.pk:
        raise StockMovementRefused("That is the same warehouse and bin.")
    locked = _lock_items([source.pk, target.pk])
    if locked[source.pk].available < quantity:
        raise StockMovementRefused(
            f"{source}: only {locked[source.pk].available} available (the rest is reserved); "
            f"can't transfer {quantity}."
        )
    reference = f"transfer:{get_random_string(8, '0123456789ABCDEFGHJKMNPQRSTVWXYZ')}"
    reason = f"{source} → {target}. {note}".strip()
    out = stock_movement_record(
        stock_item_id=source.pk,
        kind=StockMovement.Kind.TRANSFER_OUT,
        quantity=-quantity,
        reference=reference,
        reason=reason,
        actor=actor,
    )
    into = stock_movement_record(
        stock_item_id=target.pk,
        kind=StockMovement.Kind.TRANSFER_IN,
        quantity=quantity,
        reference=reference,
        reason=reason,
        actor=actor,
    )
    return out, into


# --- inbound receipts ----------------------------------------------------------------------------
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
    _lock_items(item.pk for item in targets.values())
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
    _announce_arrival(lines[pk].product_id for pk in wanted)
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
