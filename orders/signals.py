"""Signals orders sends to apps further down the chain (it imports none of them).

`order_changed` is sent, inside the writer's transaction, whenever something about these orders
may change: a service locked the order for a write, an event was recorded on its timeline, a
pick list took its shipments. Keyword argument: `numbers` (a tuple of order numbers). It may be
sent several times in one transaction, and for a write that is rolled back: receivers that act
outside the database do so after commit, once per commit is enough (portal expires the cached
order page through core.cache_versions, which waits for the commit).

`order_status_changed` is sent, inside the writer's transaction, when a transition of an order
that already existed is saved (orders.events.order_transition): a hold released, an order held,
verified, allocated, shipped, cancelled. Keyword arguments: `order`, `from_status`, `to_status`.
A capture's own steps (gathered in an OrderWrites and written together) are not sent: nobody
downstream knew the order before, and the capturer reads its final state. Intake's inbound log
follows it (an inbound request's outcome says what became of its order).
"""

from collections.abc import Iterable

from django.dispatch import Signal

from .models import Order

order_changed = Signal()
# Sent inside the writer's transaction once events are written to an order's timeline (one at a
# time, or a capture's together). Keyword arguments: `order`, `events` (saved OrderEvents, in
# order). Connectors listen to tell subscribers and channels, in the same transaction.
order_events_recorded = Signal()


def order_events_recorded_send(*, order: Order, events: list) -> None:
    if events:
        order_events_recorded.send(sender=Order, order=order, events=tuple(events))


order_status_changed = Signal()


def order_changed_send(*, numbers: Iterable[str]) -> None:
    """Tell the receivers that these orders change in the current transaction."""
    numbers = tuple(numbers)
    if numbers:
        order_changed.send(sender=Order, numbers=numbers)


def order_status_changed_send(*, order: Order, from_status: str, to_status: str) -> None:
    """Tell the receivers that this order's new status was just saved."""
    order_status_changed.send(sender=Order, order=order, from_status=from_status, to_status=to_status)
