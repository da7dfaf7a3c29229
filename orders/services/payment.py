"""Payment corrections: staff fix the payment of an order that waits on it."""

from django.db import transaction

from ..events import order_event_record, order_lock
from ..exceptions import CaptureError, OrderTransitionError
from ..models import Order, OrderEvent
from ..payments import order_payments_give_back

Kind = OrderEvent.Kind


@transaction.atomic
def order_payment_correct(*, order_id: int, method: str, reference: str, status: str, actor=None) -> Order:
    """Correct the payment of an order that is waiting on it (pending or on hold): the method,
    its reference (a store-credit code) and its status. Releasing the hold then checks it again.

    Locks the order. What this system had already collected under the old details (store credit)
    is given back first, so the re-check collects from the corrected ones. Raises
    OrderTransitionError past verification, CaptureError for an unknown status.
    """
    order = order_lock(order_id)
    if order.status not in (Order.Status.PENDING, Order.Status.ON_HOLD):
        raise OrderTransitionError(order=order, transition="correct the payment")
    if status not in Order.PaymentStatus.values:
        raise CaptureError({"payment_status": "Unknown payment status."})
    method, reference = method.strip()[:40], reference.strip()[:100]
    before = f"{order.payment_method or 'no method'} {order.payment_reference}".strip()
    if (method, reference) != (order.payment_method, order.payment_reference):
        order_payments_give_back(order=order, actor=actor)
    order.payment_method, order.payment_reference, order.payment_status = method, reference, status
    order.save(update_fields=["payment_method", "payment_reference", "payment_status", "updated_at"])
    order_event_record(
        order=order,
        kind=Kind.NOTE,
        actor=actor,
        message=f"Payment corrected: {method} {reference} ({order.get_payment_status_display().lower()}),"
        f" was {before}.",
    )
    return order
