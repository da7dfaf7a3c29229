"""The stock ledger and the locks every stock write takes.

Every change to on-hand is a ledger row written together with its F()-update
(`stock_ledger_write`), so on_hand always equals the sum of movements (invariant 1).

Lock order: stock items are always locked with select_for_update() in primary-key order, so two
transactions that touch overlapping items queue instead of deadlocking.
"""

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..exceptions import StockMovementRefused
from ..models import Product, StockItem, StockMovement, Warehouse
from ..signals import stock_arrived, stock_levels_changed_send


def stock_items_lock(item_ids: Iterable[int]) -> dict[int, StockItem]:
    """Lock these stock items in primary-key order (every locker takes rows in the same order,
    so none can deadlock) and return them by pk. Must run inside a transaction."""
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


def stock_arrival_announce(product_ids: Iterable[int]) -> None:
    """Tell downstream apps, once this transaction commits, that units became available.

    robust=True: a failing receiver (say, a backorder that can't be allocated) is logged and
    must not turn a committed receipt into an error page.
    """
    ids = frozenset(product_ids)
    if ids:
        transaction.on_commit(partial(stock_arrived.send, sender=StockItem, product_ids=ids), robust=True)


def stock_ledger_write(
    *,
    stock_item: StockItem,
    kind: str,
    quantity: int,
    reference: str = "",
    reason: str = "",
    reason_code: str = "",
    actor=None,
    reserved_taken: int = 0,
) -> StockMovement:
    """Write one ledger line and apply it to on-hand in the same breath: one INSERT, one UPDATE.

    The caller has locked `stock_item` and checked the movement (stock_movement_record does both);
    `reserved_taken` units leave `reserved` in the same UPDATE (a shipment consuming its
    reservations). Nothing here refuses: the CHECK constraints are the last line.
    """
    movement = StockMovement.objects.create(
        stock_item=stock_item,
        kind=kind,
        quantity=quantity,
        reference=reference[:100],
        reason=reason[:255],
        reason_code=reason_code,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    changes = {"on_hand": F("on_hand") + quantity, "updated_at": timezone.now()}
    if reserved_taken:
        changes["reserved"] = F("reserved") - reserved_taken
    StockItem.objects.filter(pk=stock_item.pk).update(**changes)
    stock_levels_changed_send(product_ids=[stock_item.product_id])
    return movement


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
    """Add one ledger line and apply it to on-hand: the only way on-hand changes (besides a
    shipment consuming its reservations, which writes through stock_ledger_write too).

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
    item = stock_items_lock([stock_item_id])[stock_item_id]
    if item.on_hand + quantity < item.reserved:
        raise StockMovementRefused(
            f"{item}: {item.on_hand} on hand, {item.reserved} reserved; can't remove {-quantity}."
        )
    movement = stock_ledger_write(
        stock_item=item,
        kind=kind,
        quantity=quantity,
        reference=reference,
        reason=reason,
        reason_code=reason_code,
        actor=actor,
    )
    if quantity > 0 and announce:
        stock_arrival_announce([item.product_id])
    return movement


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
