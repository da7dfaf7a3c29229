"""Corrections of what is on hand: adjustments, cycle counts and transfers, each a ledger line."""

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from ..exceptions import StockMovementRefused
from ..models import StockItem, StockMovement, Warehouse
from .ledger import stock_item_for_receipt, stock_items_lock, stock_movement_record


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
    item = stock_items_lock([stock_item_id])[stock_item_id]
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
    locked = stock_items_lock([source.pk, target.pk])
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
