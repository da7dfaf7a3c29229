"""What every order flow needs: the row lock, a transition with its event, an event, a notice.

Services in this app and downstream (fulfillment, returns, support) call these; they never
call each other's private helpers. Every state change goes through `order_transition`, which
saves the order and writes its event in the same transaction (invariant 7).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django_fsm import can_proceed

from core.cache_versions import cache_version_bump

from .exceptions import OrderTransitionError
from .models import Order, OrderEvent
from .notifications import order_email_after_commit

Kind = OrderEvent.Kind


@dataclass
class _DeferredWrites:
    order: Order
    fields: set[str] = field(default_factory=set)
    events: list[OrderEvent] = field(default_factory=list)


_deferred: ContextVar[_DeferredWrites | None] = ContextVar("order_deferred_writes", default=None)


def _deferred_for(order: Order) -> _DeferredWrites | None:
    batch = _deferred.get()
    return batch if batch is not None and batch.order is order else None


@contextmanager
def order_writes_deferred(order: Order):
    """Gather one order's writes while a single service call walks it through several steps.

    A captured order goes pending → verified → allocated (or on hold, or backordered) within one
    transaction that nobody else can see into. Inside this block `order_transition` changes the
    order in memory and `order_event_record` queues the event; on the way out one UPDATE writes the
    order's final state and one INSERT all its events, still in the caller's transaction. That is
    the same rows as a save and an insert per step (invariant 7 holds: every transition has its
    event, committed with it) for two statements instead of six, on a table with many indexes.
    Nothing is written if the block raises; the caller's transaction rolls back anyway.
    """
    batch = _DeferredWrites(order=order)
    token = _deferred.set(batch)
    try:
        yield
        if batch.fields:
            order.save(update_fields=sorted(batch.fields))
        if batch.events:
            OrderEvent.objects.bulk_create(batch.events)
            cache_version_bump(namespace="order", idents=order.number)
    finally:
        _deferred.reset(token)


def order_event_record(
    *,
    order: Order,
    kind: str,
    actor=None,
    message: str = "",
    visible: bool = False,
    from_status: str = "",
    to_status: str = "",
) -> OrderEvent:
    """Append one event to the order's timeline (and, after commit, expire the order's cached
    customer page). Inside `order_writes_deferred` the event is written when the block ends."""
    event = OrderEvent(
        order=order,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        message=message,
        visible_to_customer=visible,
        from_status=from_status,
        to_status=to_status,
    )
    batch = _deferred_for(order)
    if batch is not None:
        batch.events.append(event)
        return event
    cache_version_bump(namespace="order", idents=order.number)
    event.save(force_insert=True)
    return event


def order_transition(
    *,
    order: Order,
    name: str,
    kind: str,
    actor=None,
    message: str = "",
    visible: bool = False,
    update_fields: tuple[str, ...] = (),
    **kwargs,
) -> OrderEvent:
    """Run one FSM transition, save the order and write its event.

    The caller holds the order row lock (select_for_update). Raises OrderTransitionError if the
    order's state does not allow the transition. Inside `order_writes_deferred` the save and the
    event wait for the end of the block.
    """
    method = getattr(order, name)
    if not can_proceed(method):
        raise OrderTransitionError(order=order, transition=name)
    before = order.status
    method(**kwargs)
    fields = ["status", "updated_at", *update_fields]
    batch = _deferred_for(order)
    if batch is not None:
        batch.fields.update(fields)
    else:
        order.save(update_fields=fields)
    return order_event_record(
        order=order,
        kind=kind,
        actor=actor,
        message=message,
        visible=visible,
        from_status=before,
        to_status=order.status,
    )


def order_notify(
    *, order: Order, kind: str, notify: bool = True, actor=None, extra: dict | None = None
) -> None:
    """Queue a customer e-mail after commit, or, when staff chose not to notify for a manual
    change, say so on the order's timeline instead."""
    if notify:
        order_email_after_commit(order_id=order.pk, kind=kind, extra=extra)
    else:
        order_event_record(
            order=order,
            kind=Kind.NOTE,
            actor=actor,
            message=f"Customer not e-mailed ({kind.replace('_', ' ')}): staff chose not to notify.",
        )


def order_fields_save(order: Order, *fields: str) -> None:
    """Save some of the order's fields now, or with the rest of a deferred block's writes."""
    batch = _deferred_for(order)
    if batch is not None:
        batch.fields.update(fields)
    else:
        order.save(update_fields=[*fields, "updated_at"])


def order_lock(order_id: int) -> Order:
    """Lock the order row for a write; after commit the order's cached customer page expires."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("shipping_address", "channel")
        .get(pk=order_id)
    )
    cache_version_bump(namespace="order", idents=order.number)
    return order
