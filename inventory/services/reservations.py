"""Reservations: units held for an opaque reference (an order, for orders), released or
consumed when it ships.

Lock order: the stock items involved, all at once, in primary-key order (stock_items_lock).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from core.db import rows_insert

from ..exceptions import InsufficientStock, Shortfall
from ..models import Product, Reservation, StockItem, StockMovement
from ..signals import stock_levels_changed_send
from .ledger import stock_arrival_announce, stock_items_lock, stock_ledger_write, stock_lock_products


@dataclass(frozen=True)
class ReserveRequest:
    line_reference: str
    product_id: int
    quantity: int


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
    items = stock_items_lock(candidate_ids)
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


@dataclass
class StockBatch:
    """Every stock item of some products, locked once (pk order) for a run of reservations that
    are decided in memory, one after another, and written together (stock_batch_write).

    A batch capture reserves for hundreds of orders under one lock: each reservation sees the
    units the earlier ones took (item.reserved is kept up to date in memory), and the batch
    writes one INSERT of reservations and one UPDATE of reserved counts, whatever the number of
    orders. A single allocation is a batch of one.
    """

    items: list[StockItem]
    reservations: list[Reservation] = field(default_factory=list)
    taken: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def items_of(self, product_ids) -> list[StockItem]:
        """The locked items of these products (with their warehouses), in pk order."""
        wanted = set(product_ids)
        return [item for item in self.items if item.product_id in wanted]


def stock_batch_lock(*, product_ids: Iterable[int]) -> StockBatch:
    """Lock every stock item of these products, in every warehouse (stock_lock_products: one
    query, pk order) for reservations made in memory. Must run inside a transaction."""
    return StockBatch(items=stock_lock_products(product_ids=product_ids))


def stock_batch_reserve(
    batch: StockBatch, *, reference: str, warehouse_ids: list[int], requests: list[ReserveRequest]
) -> list[Reservation]:
    """Reserve every request from the batch's locked items, in memory, or nothing.

    Each line is drawn from the warehouses in the order given (the first as far as it goes,
    then the next), and inside a warehouse bin by bin. Raises InsufficientStock naming every
    product short over all of them (its SKU left blank: the caller knows its lines), having
    reserved nothing. Nothing is written until stock_batch_write.
    """
    needed = _needed(requests)
    rank = {wid: i for i, wid in enumerate(warehouse_ids)}
    by_product: dict[int, list[StockItem]] = defaultdict(list)
    candidates = [i for i in batch.items if i.warehouse_id in rank and i.product_id in needed]
    for item in sorted(candidates, key=lambda i: (rank[i.warehouse_id], i.bin_location, i.pk)):
        by_product[item.product_id].append(item)
    short = [
        Shortfall(pid, "", quantity, available)
        for pid, quantity in needed.items()
        if (available := sum(i.available for i in by_product[pid])) < quantity
    ]
    if short:
        raise InsufficientStock(short)
    reservations = _draw(reference=reference, by_product=by_product, requests=requests, taken=batch.taken)
    batch.reservations.extend(reservations)
    return reservations


def stock_batch_write(batch: StockBatch) -> None:
    """Write what the batch reserved: one INSERT of reservations, one UPDATE of the items'
    reserved counts (by how much each moved: the rows are locked, so nobody moved them since)."""
    if not batch.reservations:
        return
    rows_insert(Reservation, batch.reservations)
    _reserved_add(batch.taken)
    stock_levels_changed_send(product_ids={r.stock_item.product_id for r in batch.reservations})
    batch.reservations = []
    batch.taken = defaultdict(int)


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


def _draw(
    *, reference: str, by_product: dict[int, list[StockItem]], requests: list[ReserveRequest], taken
) -> list[Reservation]:
    """Draw each request from its product's (locked, ranked) items, in memory: the items'
    reserved counts go up and `taken` (units per item) records by how much."""
    reservations = []
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
    return reservations


def _reserved_add(taken: dict[int, int]) -> None:
    """One UPDATE adding each item's units to its reserved count."""
    StockItem.objects.filter(pk__in=list(taken)).update(
        reserved=F("reserved")
        + Case(*(When(pk=pk, then=Value(qty)) for pk, qty in taken.items()), output_field=IntegerField()),
        updated_at=timezone.now(),
    )


def _reserve_from(
    *, reference: str, by_product: dict[int, list[StockItem]], requests: list[ReserveRequest]
) -> list[Reservation]:
    """Draw each request from its product's (locked, ranked) items; one insert for the
    reservations and one update for the items' reserved counts."""
    taken: dict[int, int] = defaultdict(int)
    reservations = _draw(reference=reference, by_product=by_product, requests=requests, taken=taken)
    Reservation.objects.bulk_create(reservations)
    if taken:
        _reserved_add(taken)
        stock_levels_changed_send(product_ids=by_product)
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
    items = stock_items_lock(item_ids)
    reservations = list(qs.select_for_update())
    per_item = _close_reservations(reservations, Reservation.Status.RELEASED)
    if not per_item:
        return 0  # released by someone else between the read and the lock
    # One UPDATE for every item, whatever the number of lines released (an order edit releases
    # all of an order's lines at once).
    StockItem.objects.filter(pk__in=list(per_item)).update(
        reserved=F("reserved")
        - Case(*(When(pk=pk, then=Value(qty)) for pk, qty in per_item.items()), output_field=IntegerField()),
        updated_at=timezone.now(),
    )
    product_ids = {items[item_id].product_id for item_id in per_item}
    stock_levels_changed_send(product_ids=product_ids)
    stock_arrival_announce(product_ids)
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
    with a SHIPMENT ledger line per stock item (stock_ledger_write).

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
    items = stock_items_lock(item_ids)
    reservations = list(qs.select_for_update())
    per_line: dict[str, int] = defaultdict(int)
    for res in reservations:
        per_line[res.line_reference] += res.quantity
    per_item = _close_reservations(reservations, Reservation.Status.CONSUMED)
    for item_id, qty in sorted(per_item.items()):
        stock_ledger_write(
            stock_item=items[item_id],
            kind=StockMovement.Kind.SHIPMENT,
            quantity=-qty,
            reference=movement_reference or reference,
            actor=actor,
            reserved_taken=qty,
        )
    return dict(per_line)
