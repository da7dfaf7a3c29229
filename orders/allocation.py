"""Allocation: choose the warehouse that fills an order and reserve its stock there."""

from django.utils import timezone

from inventory.exceptions import InsufficientStock
from inventory.models import Warehouse
from inventory.selectors import stock_list_available
from inventory.services import ReserveRequest, stock_reserve

from .models import Order, OrderEvent
from .notifications import order_email_after_commit


def order_allocate(*, order: Order, actor=None) -> bool:
    """Reserve the whole order in the highest-priority warehouse that can fill it.

    The caller holds the order row lock; the order is `verified` or `backordered`. Stock rows
    are locked by stock_reserve (pk order). When no warehouse can fill the order it becomes (or
    stays) `backordered` and the customer is told. Returns True when allocated.
    """
    from .services import order_event_record, order_transition

    lines = [line for line in order.lines.all() if line.product_id and line.quantity]
    requests = [
        ReserveRequest(line.stock_reference, line.product_id, line.quantity - line.quantity_shipped)
        for line in lines
    ]
    needed: dict[int, int] = {}
    for req in requests:
        needed[req.product_id] = needed.get(req.product_id, 0) + req.quantity
    available = stock_list_available(product_ids=list(needed))
    warehouses = Warehouse.objects.filter(is_active=True, pk__in=list(available)).order_by("priority", "code")
    tried = []
    for warehouse in warehouses:
        stock = available.get(warehouse.pk, {})
        if any(stock.get(pid, 0) < qty for pid, qty in needed.items()):
            continue
        try:
            stock_reserve(reference=order.stock_reference, warehouse_id=warehouse.pk, requests=requests)
        except InsufficientStock:
            tried.append(warehouse.code)  # taken by a concurrent order since we looked
            continue
        was_backordered = order.status == Order.Status.BACKORDERED
        order_transition(
            order=order,
            name="allocate",
            kind=OrderEvent.Kind.ALLOCATED,
            actor=actor,
            at=timezone.now(),
            update_fields=("allocated_at",),
            message=(
                f"Reserved in {warehouse.code} ({warehouse.name}): highest-priority warehouse "
                "that can ship the whole order."
            ),
        )
        if was_backordered:
            order_email_after_commit(order_id=order.pk, kind="backorder_released")
        return True

    if order.status == Order.Status.VERIFIED:
        order_transition(
            order=order,
            name="backorder",
            kind=OrderEvent.Kind.BACKORDERED,
            actor=actor,
            visible=True,
            message="Some items are out of stock; we will ship as soon as they arrive.",
        )
        order_email_after_commit(order_id=order.pk, kind="backordered")
    else:
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            actor=actor,
            message="Allocation tried again: still not enough stock in any warehouse.",
        )
    return False
