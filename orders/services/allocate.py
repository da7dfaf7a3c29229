"""Allocation by hand: staff try a verified or backordered order again now."""

from django.db import transaction

from ..allocation import order_allocate
from ..events import order_lock
from ..exceptions import OrderTransitionError
from ..models import Order


@transaction.atomic
def order_allocate_now(*, order_id: int, actor=None, notify: bool = True) -> Order:
    """Try to allocate a verified or backordered order now.

    Locks the order, then stock (pk order). Raises OrderTransitionError for other states.
    `notify=False` (staff's choice) sends no backorder e-mail.
    """
    order = order_lock(order_id)
    if order.status not in (Order.Status.VERIFIED, Order.Status.BACKORDERED):
        raise OrderTransitionError(order=order, transition="allocate")
    order_allocate(order=order, actor=actor, notify=notify)
    return order
