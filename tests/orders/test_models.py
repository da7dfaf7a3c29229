"""The Order state machine: every allowed and refused transition; the status is never
assigned directly."""

import pytest
from django.utils import timezone
from django_fsm import can_proceed

from orders.models import Order

S = Order.Status
ALL_ORDER_STATES = list(S)

ORDER_ALLOWED = {
    "verify": {S.PENDING: S.VERIFIED},
    "hold": {S.PENDING: S.ON_HOLD},
    "release": {S.ON_HOLD: S.PENDING},
    "backorder": {S.VERIFIED: S.BACKORDERED},
    "allocate": {S.VERIFIED: S.ALLOCATED, S.BACKORDERED: S.ALLOCATED},
    "start_fulfillment": {S.ALLOCATED: S.PROCESSING},
    "ship_partially": {S.PROCESSING: S.PARTIALLY_SHIPPED, S.PARTIALLY_SHIPPED: S.PARTIALLY_SHIPPED},
    "ship": {S.PROCESSING: S.SHIPPED, S.PARTIALLY_SHIPPED: S.SHIPPED},
    "deliver": {S.SHIPPED: S.DELIVERED},
    "cancel": dict.fromkeys([S.PENDING, S.ON_HOLD, S.VERIFIED, S.BACKORDERED, S.ALLOCATED], S.CANCELLED),
}
KWARGS = {
    "verify": {"at": "now"},
    "allocate": {"at": "now"},
    "ship_partially": {"at": "now"},
    "ship": {"at": "now"},
    "deliver": {"at": "now"},
    "cancel": {"at": "now", "reason": "test"},
}


def _kwargs(name):
    return {k: timezone.now() if v == "now" else v for k, v in KWARGS.get(name, {}).items()}


def _order_in(state):
    order = Order(status=S.PENDING)
    order.__dict__["status"] = state
    return order


@pytest.mark.parametrize("name", list(ORDER_ALLOWED))
@pytest.mark.parametrize("state", ALL_ORDER_STATES)
def test_order_transition_table(name, state):
    order = _order_in(state)
    method = getattr(order, name)
    expected = ORDER_ALLOWED[name].get(state)
    assert can_proceed(method) is (expected is not None)
    if expected is not None:
        method(**_kwargs(name))
        assert order.status == expected


def test_order_status_cannot_be_assigned_directly():
    order = Order()
    with pytest.raises(AttributeError):
        order.status = S.DELIVERED
