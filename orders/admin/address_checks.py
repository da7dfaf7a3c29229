"""The order page's "Use the carrier's address" step, for an order held because the carrier
can't deliver to its address and suggested another. Added with admin_extend from
OrdersConfig.ready(), beside the page's own steps (orders.py), so the address check stays in
one place."""

from django.utils.html import format_html

from core.admin_actions import ObjectAction, ObjectActionForm
from orders.address_checks import suggestion_one_line
from orders.services import order_address_accept_suggestion, order_address_suggestion


class AcceptSuggestionForm(ObjectActionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hold = order_address_suggestion(self.obj) if self.obj is not None else None
        self.suggested = suggestion_one_line(hold.suggestion) if hold else ""


def _accept(order, user, data):
    order = order_address_accept_suggestion(order_id=order.pk, actor=user)
    return format_html(
        "{}: the carrier's address is used; holds released ({}).", order.number, order.get_status_display()
    )


def _has_suggestion(order) -> bool:
    return order.status == order.Status.ON_HOLD and order_address_suggestion(order) is not None


ADDRESS_ACTIONS = (
    ObjectAction(
        "accept_address",
        "Use the carrier's suggested address",
        _accept,
        available=_has_suggestion,
        permission="orders.change_address",
        style="primary",
        order=15,
        confirm="The shipping address is replaced by the carrier's suggestion (shown in the address "
        "hold), then the holds are released and the order is checked again. Continue?",
    ),
)
