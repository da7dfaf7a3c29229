"""What an order's returns wait for, on the order's admin page (added with admin_extend(Order,
next_steps=...) from apps.py): a line per return still in progress, saying whose move it is."""

from collections.abc import Iterable

from django.urls import reverse

from core.admin_extensions import NextStep, PageLink
from orders.models import Order

from .models import ReturnRequest
from .selectors import return_list_open_for_order

RS = ReturnRequest.Status
# status -> (what it waits for, the permission of whoever makes the next move: "act" for them)
WAITING = {
    RS.REQUESTED: ("requested by the customer: approve or reject it", "returns.decide_returnrequest"),
    RS.APPROVED: ("approved; waiting for the customer's parcel", ""),
    RS.RECEIVED: ("received; waiting for the items to be inspected", "returns.receive_returnrequest"),
    RS.INSPECTED: ("inspected: refund, give store credit or exchange", "returns.resolve_returnrequest"),
}


def order_return_steps(request, order: Order) -> Iterable[NextStep]:
    """One query."""
    may_open = request.user.has_perm("returns.view_returnrequest")
    for rr in return_list_open_for_order(order_id=order.pk):
        text, permission = WAITING[rr.status]
        mine = bool(permission) and request.user.has_perm(permission)
        links = ()
        if may_open:
            links = (PageLink(rr.number, reverse("admin:returns_returnrequest_change", args=[rr.pk])),)
        yield NextStep(f"Return {rr.number} {text}.", links, "act" if mine else "wait", order=60)
