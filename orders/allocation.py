"""Allocation: choose the warehouse(s) that fill an order and reserve stock there.

The channel's `allocation_strategy` decides:
- priority: ship complete from the highest-priority warehouse that can fill the whole order;
- nearest: ship complete from the warehouse nearest the customer (same region, then same
  country, then the rest), priority breaking ties;
- split: ship complete when one warehouse can; otherwise split across warehouses (those that
  can cover most of the order first), one shipment per warehouse.
The choice and its reason are written to the order's timeline. An order no strategy can fill
waits as `backordered`; orders.backorders allocates it when stock arrives.
"""

from dataclasses import dataclass

from django.utils import timezone

from inventory.exceptions import InsufficientStock
from inventory.models import Warehouse
from inventory.services import (
    ReserveRequest,
    StockBatch,
    stock_batch_lock,
    stock_batch_reserve,
    stock_batch_write,
)

from .events import OrderWrites, order_event_record, order_notify, order_transition
from .models import Channel, Order, OrderEvent

Strategy = Channel.AllocationStrategy


@dataclass(frozen=True)
class Candidate:
    warehouse: Warehouse
    reason: str


def _can_fill(stock: dict[int, int], needed: dict[int, int]) -> bool:
    return all(stock.get(pid, 0) >= qty for pid, qty in needed.items())


def _units_covered(stock: dict[int, int], needed: dict[int, int]) -> int:
    return sum(min(stock.get(pid, 0), qty) for pid, qty in needed.items())


def _distance(warehouse: Warehouse, country: str, region: str) -> tuple[int, str]:
    """0 same region, 1 same country, 2 elsewhere (we hold no coordinates; region and country
    are what every address has)."""
    if country and warehouse.country.upper() == country:
        if region and warehouse.region.strip().lower() == region:
            return 0, f"same region as the customer ({warehouse.region}, {warehouse.country})"
        return 1, f"same country as the customer ({warehouse.country})"
    return 2, f"no warehouse in the customer's country {country or '(unknown)'} can ship it all"


def _single_candidates(
    *, order: Order, strategy: str, warehouses: list[Warehouse], available, needed
) -> list[Candidate]:
    """Warehouses that (on the locked numbers) can ship the whole order, best first."""
    fillable = [w for w in warehouses if _can_fill(available.get(w.pk, {}), needed)]
    if strategy == Strategy.NEAREST:
        address = order.shipping_address
        country = (address.country if address else "").strip().upper()
        region = (address.region if address else "").strip().lower()
        ranked = sorted(fillable, key=lambda w: (_distance(w, country, region)[0], w.priority, w.code))
        return [Candidate(w, f"nearest: {_distance(w, country, region)[1]}") for w in ranked]
    return [Candidate(w, "highest-priority warehouse that can ship the whole order") for w in fillable]


def _shortage_text(needed: dict[int, int], available, skus: dict[int, str]) -> str:
    parts = []
    for pid, qty in needed.items():
        total = sum(stock.get(pid, 0) for stock in available.values())
        if total < qty:
            parts.append(f"{skus[pid]}: {total} available in all warehouses, {qty} needed")
        else:
            best = max((stock.get(pid, 0) for stock in available.values()), default=0)
            if best < qty:
                parts.append(f"{skus[pid]}: at most {best} in one warehouse, {qty} needed")
    return "; ".join(parts) or "no stock"


def _available_from(items) -> tuple[dict[int, dict[int, int]], list[Warehouse]]:
    """Available units as {warehouse_id: {product_id: units}} and the active warehouses holding
    them (priority, code order), read from stock items this transaction has locked."""
    available: dict[int, dict[int, int]] = {}
    warehouses: dict[int, Warehouse] = {}
    for item in items:
        if not item.warehouse.is_active:
            continue
        warehouses[item.warehouse_id] = item.warehouse
        stock = available.setdefault(item.warehouse_id, {})
        stock[item.product_id] = stock.get(item.product_id, 0) + item.on_hand - item.reserved
    return available, sorted(warehouses.values(), key=lambda w: (w.priority, w.code))


@dataclass(frozen=True)
class AllocationOutcome:
    """What `allocation_reserve` did: `reserved` every unshipped unit (`message` says where and
    why there), or nothing (`message` says what is short)."""

    reserved: bool
    message: str


def allocation_reserve(*, order: Order, lines=None, stock: StockBatch | None = None) -> AllocationOutcome:
    """Reserve the unshipped units of the order's lines following its channel's allocation
    strategy, all or nothing. No transition, no event: order_allocate and order edits do those.

    The caller holds the order row lock. Every stock item of the lines' products is locked (pk
    order, all at once) before availability is read, and held until commit. `lines` are the
    order's lines when the caller has them in hand, else they are read. `stock`: a batch the
    caller locked for many orders (batch capture), reserved in memory and written by the caller
    (stock_batch_write) once every order of the batch has had its turn; without it the order is
    a batch of one, locked and written here.
    """
    strategy = order.channel.allocation_strategy
    lines = [
        line
        for line in (order.lines.all() if lines is None else lines)
        if line.product_id and line.quantity > line.quantity_shipped
    ]
    requests = [
        ReserveRequest(line.stock_reference, line.product_id, line.quantity - line.quantity_shipped)
        for line in lines
    ]
    skus = {line.product_id: line.sku for line in lines}
    needed: dict[int, int] = {}
    for req in requests:
        needed[req.product_id] = needed.get(req.product_id, 0) + req.quantity
    # Lock first, then read: the decision below is made on numbers no one can change until we
    # commit (see stock_lock_products), so no order is backordered beside free stock.
    # One query locks the items and brings their numbers and warehouses.
    own_batch = stock is None
    if stock is None:
        stock = stock_batch_lock(product_ids=list(needed))
    available, warehouses = _available_from(stock.items_of(needed))
    label = Strategy(strategy).value

    decision = ""
    if requests:
        for candidate in _single_candidates(
            order=order, strategy=strategy, warehouses=warehouses, available=available, needed=needed
        ):
            try:
                stock_batch_reserve(
                    stock,
                    reference=order.stock_reference,
                    warehouse_ids=[candidate.warehouse.pk],
                    requests=requests,
                )
            except InsufficientStock:
                continue  # not on locked numbers; kept so a surprise falls through to the next
            w = candidate.warehouse
            decision = f"Strategy “{label}”: reserved in {w.code} ({w.name}), {candidate.reason}."
            break
        if not decision and strategy == Strategy.SPLIT and warehouses:
            # Warehouses covering most of the order first, so it ships in as few parcels as it can.
            ranked = sorted(
                warehouses,
                key=lambda w: (-_units_covered(available.get(w.pk, {}), needed), w.priority, w.code),
            )
            try:
                reservations = stock_batch_reserve(
                    stock,
                    reference=order.stock_reference,
                    warehouse_ids=[w.pk for w in ranked],
                    requests=requests,
                )
            except InsufficientStock:
                reservations = []
            if reservations:
                per_warehouse: dict[int, int] = {}
                for res in reservations:
                    wid = res.stock_item.warehouse_id
                    per_warehouse[wid] = per_warehouse.get(wid, 0) + res.quantity
                codes = {w.pk: w.code for w in warehouses}
                parts = ", ".join(
                    f"{codes[w.pk]} ({per_warehouse[w.pk]} units)" for w in ranked if w.pk in per_warehouse
                )
                decision = (
                    f"Strategy “{label}”: no single warehouse can ship the whole order; split across "
                    f"{parts}, one shipment each."
                )
    if own_batch:
        stock_batch_write(stock)
    if decision:
        return AllocationOutcome(reserved=True, message=decision)
    reason = f"Strategy “{label}”: " + (
        "no warehouse can ship the whole order ("
        if strategy != Strategy.SPLIT
        else "not enough stock even across all warehouses ("
    )
    reason += (_shortage_text(needed, available, skus) if requests else "no line can be stocked") + ")."
    return AllocationOutcome(reserved=False, message=reason)


def order_allocate(
    *,
    order: Order,
    actor=None,
    record_miss: bool = True,
    lines=None,
    notify: bool = True,
    writes: OrderWrites | None = None,
    stock: StockBatch | None = None,
) -> bool:
    """Reserve the order's stock following its channel's allocation strategy.

    The caller holds the order row lock; the order is `verified` or `backordered`. Then every
    stock item of the order's products is locked (pk order, all at once) before availability is
    read, and held until commit (allocation_reserve). When nothing can fill
    the order it becomes (or stays) `backordered` and the customer is told after commit; a
    released backorder e-mails the customer too. Returns True when allocated. With
    `record_miss` False a backorder that still can't be filled leaves no note (automatic retries).
    `lines` are the order's lines when the caller has them in hand (capture), else they are read.
    `writes` gathers the order's writes for the caller to flush (capture); `stock` is the batch
    capture's locked stock (allocation_reserve).
    """
    outcome = allocation_reserve(order=order, lines=lines, stock=stock)
    decision = outcome.message if outcome.reserved else ""
    if decision:
        was_backordered = order.status == Order.Status.BACKORDERED
        order_transition(
            order=order,
            name="allocate",
            kind=OrderEvent.Kind.ALLOCATED,
            actor=actor,
            at=timezone.now(),
            update_fields=("allocated_at",),
            message=decision,
            writes=writes,
        )
        if was_backordered:
            order_event_record(
                order=order,
                kind=OrderEvent.Kind.ALLOCATED,
                actor=actor,
                visible=True,
                message="The items you were waiting for have arrived; your order is being prepared.",
                writes=writes,
            )
            order_notify(order=order, kind="backorder_released", notify=notify, actor=actor, writes=writes)
        return True

    reason = outcome.message
    if order.status == Order.Status.VERIFIED:
        order_transition(
            order=order,
            name="backorder",
            kind=OrderEvent.Kind.BACKORDERED,
            actor=actor,
            visible=True,
            message="Some items are out of stock; we will ship as soon as they arrive.",
            writes=writes,
        )
        order_event_record(order=order, kind=OrderEvent.Kind.NOTE, actor=actor, message=reason, writes=writes)
        order_notify(order=order, kind="backordered", notify=notify, actor=actor, writes=writes)
    elif record_miss:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            actor=actor,
            message=f"Allocation tried again, still backordered. {reason}",
            writes=writes,
        )
    return False
