"""What every order flow needs: the row lock, a transition with its event, an event, a notice.

Services in this app and downstream (fulfillment, returns, support) call these; they never
call each other's private helpers. Every state change goes through `order_transition`, which
saves the order and writes its event in the same transaction (invariant 7).

A service that walks one order through several steps in one call (capture) gathers the writes
in an `OrderWrites` and passes it down as `writes=`; the helpers below then change the order in
memory and queue its events, and `OrderWrites.flush` writes them at the end. Without `writes`
they write at once.
"""

from dataclasses import dataclass, field

from core.db import rows_insert, rows_update
from core.fsm import fsm_transition

from .exceptions import OrderTransitionError
from .models import Order, OrderEvent, OrderHold
from .notifications import order_email_after_commit, order_emails_after_commit
from .signals import order_changed_send, order_events_recorded_send, order_status_changed_send

Kind = OrderEvent.Kind


@dataclass
class OrderWrites:
    """One order's writes, gathered while a single service call walks it through several steps.

    A captured order goes pending → verified → allocated (or on hold, or backordered) within one
    transaction that nobody else can see into. The capture service creates an OrderWrites and
    passes it to every helper on the way (`writes=`): `order_transition` changes the order in
    memory and `order_event_record` queues the event; `flush()` then writes the order's final
    state in one UPDATE and all its events in one INSERT, still in the caller's transaction. That
    is the same rows as a save and an insert per step (invariant 7 holds: every transition has
    its event, committed with it) for two statements instead of six, on a table with many
    indexes. Nothing is written before `flush()`; a service that raises first rolls back anyway.

    A batch capture gathers one OrderWrites per order and writes them all with
    `order_writes_flush_many`: the same rows, one statement per kind for the whole batch. Holds
    (and, when `emails` is a list, the customer e-mails) wait for the flush too.
    """

    order: Order
    fields: set[str] = field(default_factory=set)
    events: list[OrderEvent] = field(default_factory=list)
    holds: list[OrderHold] = field(default_factory=list)
    # None: e-mails are queued as they are asked for. A list: (kind, extra) queued at the flush.
    emails: list[tuple[str, dict | None]] | None = None

    def fields_add(self, fields) -> None:
        """Save these fields of the order at the flush."""
        self.fields.update(fields)

    def flush(self) -> None:
        """Write what was gathered: one UPDATE of the order, one INSERT of its events."""
        order_writes_flush_many([self])


def order_writes_flush_many(batch: list[OrderWrites]) -> None:
    """Write what was gathered for many orders, still in the caller's transaction: one UPDATE of
    the orders (the fields any of them changed), one INSERT of every event, one of every hold,
    one queued task for every e-mail. Then `order_changed` once for all of them and
    `order_events_recorded` per order, as writing one at a time would."""
    changed = [w for w in batch if w.fields]
    if changed:
        fields = sorted(set().union(*(w.fields for w in changed)))
        if len(changed) == 1:
            changed[0].order.save(update_fields=fields)
        else:
            rows_update(Order, [w.order for w in changed], fields)
            for w in changed:
                w.order._update_initial_state()  # saved as it is now: its next save expects this state
        for w in changed:
            w.fields.clear()
    holds = [hold for w in batch for hold in w.holds]
    if holds:
        rows_insert(OrderHold, holds)
    emails = [
        {"order_id": w.order.pk, "kind": kind, "extra": extra}
        for w in batch
        for kind, extra in (w.emails or ())
    ]
    if emails:
        order_emails_after_commit(emails)
    with_events = [w for w in batch if w.events]
    if with_events:
        saved = rows_insert(OrderEvent, [event for w in with_events for event in w.events])
        order_changed_send(numbers=[w.order.number for w in with_events])
        start = 0
        for w in with_events:
            events, start = saved[start : start + len(w.events)], start + len(w.events)
            order_events_recorded_send(order=w.order, events=events)
    for w in batch:
        w.holds, w.events = [], []
        if w.emails is not None:
            w.emails = []


def _writes_for(order: Order, writes: OrderWrites | None) -> OrderWrites | None:
    if writes is not None and writes.order is not order:
        raise ValueError(f"These writes gather order {writes.order.number}'s, not {order.number}'s.")
    return writes


def order_event_record(
    *,
    order: Order,
    kind: str,
    actor=None,
    message: str = "",
    visible: bool = False,
    from_status: str = "",
    to_status: str = "",
    changes: dict | None = None,
    writes: OrderWrites | None = None,
) -> OrderEvent:
    """Append one event to the order's timeline and send `order_changed` (the customer's cached
    page expires after commit). `changes`: what an edit changed, as JSON. With `writes` the event
    waits for their flush."""
    event = OrderEvent(
        order=order,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        message=message,
        visible_to_customer=visible,
        from_status=from_status,
        to_status=to_status,
        changes=changes,
    )
    writes = _writes_for(order, writes)
    if writes is not None:
        writes.events.append(event)
        return event
    order_changed_send(numbers=[order.number])
    event.save(force_insert=True)
    order_events_recorded_send(order=order, events=[event])
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
    changes: dict | None = None,
    writes: OrderWrites | None = None,
    **kwargs,
) -> OrderEvent:
    """Run one FSM transition, save the order and write its event.

    The caller holds the order row lock (select_for_update). Raises OrderTransitionError if the
    order's state does not allow the transition. Sends `order_status_changed` once saved. With
    `writes` the save and the event wait for their flush (and nothing is sent: see signals).
    """
    writes = _writes_for(order, writes)
    before, after = fsm_transition(
        obj=order,
        name=name,
        refused=lambda: OrderTransitionError(order=order, transition=name),
        update_fields=update_fields,
        save=writes.fields_add if writes is not None else None,
        **kwargs,
    )
    event = order_event_record(
        order=order,
        kind=kind,
        actor=actor,
        message=message,
        visible=visible,
        from_status=before,
        to_status=after,
        changes=changes,
        writes=writes,
    )
    if writes is None:
        order_status_changed_send(order=order, from_status=before, to_status=after)
    return event


def order_notify(
    *,
    order: Order,
    kind: str,
    notify: bool = True,
    actor=None,
    extra: dict | None = None,
    writes: OrderWrites | None = None,
) -> None:
    """Queue a customer e-mail after commit, or, when staff chose not to notify for a manual
    change, say so on the order's timeline instead."""
    if notify:
        writes = _writes_for(order, writes)
        if writes is not None and writes.emails is not None:
            writes.emails.append((kind, extra))
        else:
            order_email_after_commit(order_id=order.pk, kind=kind, extra=extra)
    else:
        order_event_record(
            order=order,
            kind=Kind.NOTE,
            actor=actor,
            message=f"Customer not e-mailed ({kind.replace('_', ' ')}): staff chose not to notify.",
            writes=writes,
        )


def order_fields_save(order: Order, *fields: str, writes: OrderWrites | None = None) -> None:
    """Save some of the order's fields now, or at the flush of `writes`."""
    writes = _writes_for(order, writes)
    if writes is not None:
        writes.fields_add(fields)
    else:
        order.save(update_fields=[*fields, "updated_at"])


def order_lock(order_id: int) -> Order:
    """Lock the order row for a write and send `order_changed` (the customer's cached page
    expires after commit)."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("shipping_address", "channel")
        .get(pk=order_id)
    )
    order_changed_send(numbers=[order.number])
    return order
