"""Notes: staff write on an order's timeline."""

from django.db import transaction

from ..events import order_event_record
from ..models import Order, OrderEvent

Kind = OrderEvent.Kind


@transaction.atomic
def order_note_add(*, order_id: int, message: str, actor=None, visible: bool = False) -> OrderEvent:
    """Add a staff note to an order's timeline (shown to the customer when `visible`). Takes no
    lock: a note changes no state. The customer's cached page expires after commit."""
    order = Order.objects.get(pk=order_id)
    return order_event_record(order=order, kind=Kind.NOTE, actor=actor, message=message, visible=visible)
