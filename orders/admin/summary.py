"""The top of an order's admin page: the order in plain words, and what it is waiting for.

`order_summary(request, order)` is what the page shows above the lines (customer, channel, money,
where it goes). `order_next_steps` is the order's own part of "what next": holds and how to fix
each, stock, cancellation. The apps after orders add theirs with `admin_extend(Order,
next_steps=...)` (fulfilment: starting it, then the parcels; returns; customer messages), and an
app that knows how to fix a hold reason registers its remedy with `hold_remedy_register` (intake:
unknown SKUs). Every link is offered only to a user who may open it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone

from core.admin_extensions import NextStep, PageLink, object_action_link
from core.admin_mixins import return_to_url

from ..links import order_tracking_url
from ..models import Order, OrderHold
from ..selectors import order_hold_list_active

S = Order.Status
Reason = OrderHold.Reason

# remedy(request, order, holds of that reason) -> the hold's line, saying how to fix it
HoldRemedy = Callable[[Any, Order, list[OrderHold]], NextStep]
_remedies: dict[str, HoldRemedy] = {}

# The status badge's colour: what kind of state the order is in.
TONES = {
    S.ON_HOLD: "act",
    S.BACKORDERED: "wait",
    S.CANCELLED: "off",
    S.DELIVERED: "done",
}


def hold_remedy_register(reason: str, remedy: HoldRemedy) -> None:
    """Say how a hold of `reason` is fixed (replaces the plain "review it, then release")."""
    _remedies[reason] = remedy


def order_change_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def hold_text(holds: list[OrderHold]) -> str:
    """ "Address unverifiable: Postal code … is not valid" for the holds of one reason."""
    details = "; ".join(h.detail.rstrip(".") for h in holds if h.detail)
    label = holds[0].get_reason_display()
    return f"{label}: {details}" if details else label


def _address_remedy(request, order, holds) -> NextStep:
    links = ()
    if order.shipping_address_id and request.user.has_perm("orders.change_address"):
        url = reverse("admin:orders_address_change", args=[order.shipping_address_id])
        links = (PageLink("Correct the address", return_to_url(url, order_change_url(order))),)
    return NextStep(
        f"On hold: {hold_text(holds)}. Correct the address, then release the hold.", links, "act", 10
    )


def _payment_remedy(request, order, holds) -> NextStep:
    link = object_action_link(request, order, "payment")
    return NextStep(
        f"On hold: {hold_text(holds)}. Wait for the payment or correct it, then release the hold.",
        (link,) if link else (),
        "act",
        10,
    )


hold_remedy_register(Reason.ADDRESS, _address_remedy)
hold_remedy_register(Reason.PAYMENT, _payment_remedy)


def _holds(request, order) -> Iterable[NextStep]:
    by_reason: dict[str, list[OrderHold]] = {}
    for hold in order_hold_list_active(order_id=order.pk):
        by_reason.setdefault(hold.reason, []).append(hold)
    for reason, holds in by_reason.items():
        remedy = _remedies.get(reason)
        if remedy is not None:
            yield remedy(request, order, holds)
        else:
            yield NextStep(f"On hold: {hold_text(holds)}. Review it, then release the hold.", (), "act", 10)
    release = object_action_link(request, order, "release", "Release holds and re-check")
    if release:
        yield NextStep("When every cause is dealt with:", (release,), "act", 19)


def order_next_steps(request, order: Order) -> Iterable[NextStep]:
    """The order's own "what next" (see the module docstring). At most two queries."""
    if order.status == S.ON_HOLD:
        yield from _holds(request, order)
    elif order.status == S.PENDING:
        yield NextStep("Received; verification (address, payment, SKUs, limits) has not run yet.")
    elif order.status == S.VERIFIED:
        yield NextStep("Verified; waiting for its stock to be reserved.")
    elif order.status == S.BACKORDERED:
        allocate = object_action_link(request, order, "allocate")
        yield NextStep(
            "Waiting for stock (backordered): it is allocated by itself when stock arrives, "
            "oldest order first.",
            (allocate,) if allocate else (),
        )
    elif order.status == S.CANCELLED:
        when = f" {timezone.localtime(order.cancelled_at):%d %b %Y}" if order.cancelled_at else ""
        reason = f": {order.cancel_reason}" if order.cancel_reason else ""
        yield NextStep(f"Cancelled{when}{reason}. Nothing more happens.", tone="done")


@dataclass(frozen=True)
class OrderSummary:
    """The order in plain words, for the top of its page."""

    status: str
    tone: str
    channel: str
    placed_at: Any
    customer_name: str
    email: str
    phone: str
    ship_to: list[str]
    shipping_speed: str
    address_link: PageLink | None
    total: str
    payment: str
    tracking_url: str


def order_summary(request, order: Order) -> OrderSummary:
    """No query of its own: the channel and address come with the page's order."""
    address = order.shipping_address
    link = None
    if address is not None and request.user.has_perm("orders.change_address"):
        url = reverse("admin:orders_address_change", args=[address.pk])
        link = PageLink("Correct the address", return_to_url(url, order_change_url(order)))
    payment = " · ".join(
        p for p in [order.payment_method.replace("_", " "), order.get_payment_status_display().lower()] if p
    )
    return OrderSummary(
        status=order.get_status_display(),
        tone=TONES.get(order.status, "wait"),
        channel=f"{order.channel} ({order.channel.get_kind_display()})",
        placed_at=order.placed_at,
        customer_name=order.customer_name,
        email=order.email,
        phone=order.phone,
        ship_to=address.as_lines() if address else [],
        shipping_speed=order.get_shipping_speed_display(),
        address_link=link,
        total=f"{order.total} {order.currency}",
        payment=payment,
        tracking_url=order_tracking_url(order_number=order.number, absolute=False),
    )
