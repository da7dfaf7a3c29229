"""Cancellation: an order that has not started fulfilment gives back its stock and payment."""

from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django_fsm import can_proceed

from inventory.services import stock_release

from ..events import order_lock, order_notify, order_transition
from ..exceptions import OrderTransitionError
from ..models import Order, OrderEvent
from ..payments import order_payments_give_back

Kind = OrderEvent.Kind


@transaction.atomic
def order_cancel(*, order_id: int, actor=None, reason: str = "", notify: bool = True) -> Order:
    """Cancel an order that has not started fulfilment and release its stock.

    Locks the order, then its stock items. Raises OrderTransitionError if it can't be cancelled.
    Store credit it spent is given back. E-mails the customer after commit (unless `notify` is
    False: staff's choice, said on the timeline).
    """
    order = order_lock(order_id)
    if not can_proceed(order.cancel):
        raise OrderTransitionError(order=order, transition="cancel")
    released = stock_release(reference=order.stock_reference)
    order.holds.filter(released_at__isnull=True).update(released_at=timezone.now(), released_by=actor)
    order_transition(
        order=order,
        name="cancel",
        kind=Kind.CANCELLED,
        actor=actor,
        visible=True,
        at=timezone.now(),
        reason=reason,
        update_fields=("cancelled_at", "cancel_reason"),
        message=(reason or "Order cancelled.")
        + (f" {released} reserved unit{pluralize(released)} released." if released else ""),
    )
    if order_payments_give_back(order=order, actor=actor):
        order.payment_status = Order.PaymentStatus.REFUNDED
        order.save(update_fields=["payment_status", "updated_at"])
    order_notify(order=order, kind="cancelled", notify=notify, actor=actor)
    return order
