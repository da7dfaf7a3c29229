"""Holds: staff put an order on hold by hand, and release its holds to check it again."""

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from ..advance import order_check_and_advance
from ..events import order_event_record, order_lock, order_transition
from ..exceptions import OrderTransitionError
from ..models import Order, OrderEvent, OrderHold

Kind = OrderEvent.Kind


@transaction.atomic
def order_hold(*, order_id: int, reason: str, detail: str = "", actor=None) -> Order:
    """Put an order on hold by hand (pending orders), or add a reason to one already held.

    Locks the order. Raises OrderTransitionError for orders past verification.
    """
    order = order_lock(order_id)
    if order.status not in (Order.Status.PENDING, Order.Status.ON_HOLD):
        raise OrderTransitionError(order=order, transition="hold")
    OrderHold.objects.create(order=order, reason=reason, detail=detail[:500])
    label = OrderHold.Reason(reason).label
    if order.status == Order.Status.PENDING:
        order_transition(order=order, name="hold", kind=Kind.HELD, actor=actor, message=f"{label}: {detail}")
    else:
        order_event_record(order=order, kind=Kind.HELD, actor=actor, message=f"{label}: {detail}")
    return order


@transaction.atomic
def order_release_hold(*, order_id: int, actor=None, notify: bool = True) -> Order:
    """Release every active hold and re-run verification.

    Locks the order. Review reasons (duplicate, limit, fraud, manual) count as reviewed by the
    release; data problems (address, payment, SKU) that are still there put the order straight
    back on hold. A clean order is verified and allocated. Raises OrderTransitionError unless
    the order is on hold. `notify=False` (staff's choice) sends no backorder e-mail.
    """
    order = order_lock(order_id)
    if not can_proceed(order.release):
        raise OrderTransitionError(order=order, transition="release")
    now = timezone.now()
    order.holds.filter(released_at__isnull=True).update(released_at=now, released_by=actor)
    order_transition(
        order=order,
        name="release",
        kind=Kind.RELEASED,
        actor=actor,
        message="Holds released; verification runs again.",
    )
    order_check_and_advance(order=order, actor=actor, notify=notify)
    return order


def order_address_suggestion(order: Order) -> OrderHold | None:
    """The active address hold that carries the carrier's suggestion, if any."""
    return (
        order.holds.filter(
            released_at__isnull=True, reason=OrderHold.Reason.ADDRESS, suggestion__isnull=False
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def order_address_accept_suggestion(*, order_id: int, actor=None) -> Order:
    """Customer service takes the carrier's version of the shipping address (from the address
    hold), then the holds are released and verification runs again.

    Locks the order. Raises OrderTransitionError unless the order is on hold with a suggestion.
    """
    order = order_lock(order_id)
    hold = order_address_suggestion(order) if order.status == Order.Status.ON_HOLD else None
    if hold is None or order.shipping_address is None:
        raise OrderTransitionError(
            order=order, transition="accept_address", detail="The carrier made no suggestion for it."
        )
    address = order.shipping_address
    before = ", ".join(address.as_lines())
    for name, value in hold.suggestion.items():
        if (
            name in {"name", "company", "line1", "line2", "city", "region", "postal_code", "country"}
            and value
        ):
            setattr(address, name, str(value)[: address._meta.get_field(name).max_length])
    address.save()
    order_event_record(
        order=order,
        kind=Kind.NOTE,
        actor=actor,
        message=f"Shipping address replaced by the carrier's suggestion: {', '.join(address.as_lines())} "
        f"(was {before}).",
    )
    return order_release_hold(order_id=order.pk, actor=actor)
