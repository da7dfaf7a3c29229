"""Backorders: verified orders waiting for stock, allocated oldest first when stock arrives.

inventory sends `stock_arrived` after committing any movement that adds units (receipt,
positive adjustment or count, transfer in, return restock) or released reservations;
`stock_arrived_receiver` (connected in OrdersConfig.ready) queues `backorders_allocate_task`,
which runs `backorders_allocate` for the products that arrived.
"""

from django.db import transaction
from django.tasks import task

from .allocation import order_allocate
from .events import order_lock
from .models import Order


def backorder_list_waiting(*, product_ids) -> list[int]:
    """Ids of backordered orders with a line for any of these products, oldest first (by when
    the customer placed them)."""
    return list(
        Order.objects.filter(status=Order.Status.BACKORDERED, lines__product_id__in=list(product_ids))
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def backorders_allocate(*, product_ids, actor=None) -> list[int]:
    """Try to allocate every backordered order waiting for these products, oldest first.

    Not atomic as a whole: each order is tried in its own transaction that locks that order's
    row, then the stock items (pk order, inside inventory), so one order's failure or a long
    queue never holds locks on the others. An order whose state changed meanwhile (cancelled,
    allocated by hand) is skipped. An order that still can't be filled keeps its place and is
    passed over, so one large order doesn't block smaller ones behind it. Released customers
    are e-mailed after each order's commit. Returns the ids of the orders allocated.
    """

    allocated = []
    for order_id in backorder_list_waiting(product_ids=product_ids):
        with transaction.atomic():
            order = order_lock(order_id)
            if order.status != Order.Status.BACKORDERED:
                continue
            if order_allocate(order=order, actor=actor, record_miss=False):
                allocated.append(order_id)
    return allocated


@task
def backorders_allocate_task(*, product_ids: list[int]) -> list[int]:
    """Background form of backorders_allocate (a worker in production, inline in tests)."""
    return backorders_allocate(product_ids=product_ids)


def stock_arrived_receiver(sender, *, product_ids, **kwargs) -> None:
    """inventory.signals.stock_arrived: units became available; queue the backorder run."""
    if Order.objects.filter(
        status=Order.Status.BACKORDERED, lines__product_id__in=list(product_ids)
    ).exists():
        backorders_allocate_task.enqueue(product_ids=sorted(product_ids))
