"""Writes to stock. Every change to on-hand goes through `stock_movement_record`, which writes the
ledger row and the F()-update together, so on_hand always equals the sum of movements.

Lock order: stock items are always locked with select_for_update() in primary-key order, so two
transactions that touch overlapping items queue instead of deadlocking.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .exceptions import InsufficientStock, Shortfall, StockMovementRefused
from .models import Product, Reservation, StockItem, StockMovement, Warehouse


@dataclass(frozen=True)
class ReserveRequest:
    line_reference: str
    product_id: int
    quantity: int


def _lock_items(item_ids: Iterable[int]) -> dict[int, StockItem]:
    # Primary-key order: every locker takes rows in the same order, so none can deadlock.
    items = StockItem.objects.select_for_update().filter(pk__in=set(item_ids)).order_by("pk")
    return {item.pk: item for item in items}


def stock_item_get_or_create(*, product: Product, warehouse: Warehouse, bin_location: str = ""):
    item, _ = StockItem.objects.get_or_create(product=product, warehouse=warehouse, bin_location=bin_location)
    return item


@transaction.atomic
def stock_movement_record(
    *,
    stock_item_id: int,
    kind: str,
    quantity: int,
    reference: str = "",
    reason: str = "",
    actor=None,
) -> StockMovement:
    """Add one ledger line and apply it to on-hand.

    Locks the stock item. Raises StockMovementRefused if the movement would take on-hand below
    zero or below what is reserved (reservations must be released or consumed first).
    """
    if quantity == 0:
        raise StockMovementRefused("A movement of zero units changes nothing.")
    item = _lock_items([stock_item_id])[stock_item_id]
    if item.on_hand + quantity < item.reserved:
        raise StockMovementRefused(
            f"{item}: {item.on_hand} on hand, {item.reserved} reserved; can't remove {-quantity}."
        )
    movement = StockMovement.objects.create(
        stock_item=item,
        kind=kind,
        quantity=quantity,
        reference=reference,
        reason=reason,
        actor=actor,
    )
    StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + quantity, updated_at=timezone.now())
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
) -> StockMovement:
    """Put units on hand (receipt, return restock, transfer in)."""
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
    )


@transaction.atomic
def stock_reserve(*, reference: str, warehouse_id: int, requests: list[ReserveRequest]) -> list[Reservation]:
    """Reserve every request from one warehouse, or nothing.

    Locks the warehouse's stock items for the requested products (pk order). Bins are drawn in
    bin order. Raises InsufficientStock naming every short product, having reserved nothing.
    """
    needed: dict[int, int] = defaultdict(int)
    for req in requests:
        needed[req.product_id] += req.quantity
    candidate_ids = StockItem.objects.filter(warehouse_id=warehouse_id, product_id__in=needed).values_list(
        "pk", flat=True
    )
    items = _lock_items(candidate_ids)
    by_product: dict[int, list[StockItem]] = defaultdict(list)
    for item in sorted(items.values(), key=lambda i: (i.bin_location, i.pk)):
        by_product[item.product_id].append(item)

    shortfalls = []
    for product_id, quantity in needed.items():
        available = sum(i.available for i in by_product[product_id])
        if available < quantity:
            sku = Product.objects.values_list("sku", flat=True).get(pk=product_id)
            shortfalls.append(Shortfall(product_id, sku, quantity, available))
    if shortfalls:
        raise InsufficientStock(shortfalls)

    reservations = []
    taken: dict[int, int] = defaultdict(int)
    for req in requests:
        remaining = req.quantity
        for item in by_product[req.product_id]:
            free = item.available - taken[item.pk]
            if free <= 0:
                continue
            qty = min(free, remaining)
            taken[item.pk] += qty
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
    now = timezone.now()
    for item_id, qty in taken.items():
        StockItem.objects.filter(pk=item_id).update(reserved=F("reserved") + qty, updated_at=now)
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

    Locks the affected stock items (pk order). Returns the number of units released.
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
