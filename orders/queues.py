"""Orders' queues on the staff home page (core.admin_home), registered from apps.py. The inbound
requests' queue is in intake/queues.py, which moves with the intake code."""

from django.utils import timezone

from core.admin_home import (
    CUSTOMER_SERVICE,
    MANAGERS,
    HomeRow,
    home_day_bounds,
    home_queue_register,
    home_url,
)

from .models import Order, OrderHold
from .selectors import (
    order_count_on_hold,
    order_count_placed_between,
    order_hold_count_active_by_reason,
    order_revenue_placed_between,
)

ORDERS = "admin:orders_order_changelist"
HOLDS = "admin:orders_orderhold_changelist"  # lists active holds unless told otherwise


def _holds_by_reason() -> list[HomeRow]:
    counts = order_hold_count_active_by_reason()
    return [
        HomeRow(label, counts[reason], home_url(HOLDS, reason__exact=reason))
        for reason, label in OrderHold.Reason.choices
        if counts.get(reason)
    ]


def _today() -> dict:
    """The order list's own "Today" filter (admin.DateFieldListFilter on placed_at)."""
    start, end = home_day_bounds(timezone.localdate())
    return {"placed_at__gte": str(start), "placed_at__lt": str(end)}


def _placed_today() -> int:
    start, end = home_day_bounds(timezone.localdate())
    return order_count_placed_between(start=start, end=end)


def _revenue_today() -> list[HomeRow]:
    start, end = home_day_bounds(timezone.localdate())
    return [
        HomeRow(currency, revenue, home_url(ORDERS, **_today(), currency__exact=currency))
        for currency, revenue in order_revenue_placed_between(start=start, end=end).items()
    ]


def register_home_queues() -> None:
    home_queue_register(
        section=CUSTOMER_SERVICE,
        title="Holds",
        help="Orders waiting for a decision, by reason",
        count=_holds_by_reason,
        url=HOLDS,
        permission="orders.view_orderhold",
        order=10,
    )
    home_queue_register(
        section=MANAGERS,
        title="Orders placed today",
        count=_placed_today,
        url=lambda: home_url(ORDERS, **_today()),
        permission="orders.view_order",
        order=10,
    )
    home_queue_register(
        section=MANAGERS,
        title="Orders on hold now",
        count=order_count_on_hold,
        url=ORDERS,
        query={"status__exact": Order.Status.ON_HOLD},
        permission="orders.view_order",
        order=30,
    )
    home_queue_register(
        section=MANAGERS,
        title="Revenue today",
        help="Orders placed today and not cancelled, per currency",
        count=_revenue_today,
        url=lambda: home_url(ORDERS, **_today()),
        permission="orders.view_order",
        order=40,
    )
