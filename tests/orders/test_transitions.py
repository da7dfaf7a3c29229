"""Every allowed and refused transition of the three state machines."""

import pytest
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment.models import Shipment
from orders.models import Order
from returns.models import ReturnRequest

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


SS = Shipment.Status
SHIPMENT_ALLOWED = {
    "start_picking": {SS.PENDING: SS.PICKING},
    "pack": {SS.PENDING: SS.PACKED, SS.PICKING: SS.PACKED},
    "ship": {SS.PACKED: SS.SHIPPED},
    "unpack": {SS.PACKED: SS.PICKING},
    "mark_in_transit": {SS.SHIPPED: SS.IN_TRANSIT, SS.EXCEPTION: SS.IN_TRANSIT},
    "mark_out_for_delivery": {
        SS.SHIPPED: SS.OUT_FOR_DELIVERY,
        SS.IN_TRANSIT: SS.OUT_FOR_DELIVERY,
        SS.EXCEPTION: SS.OUT_FOR_DELIVERY,
    },
    "deliver": dict.fromkeys([SS.SHIPPED, SS.IN_TRANSIT, SS.OUT_FOR_DELIVERY, SS.EXCEPTION], SS.DELIVERED),
    "mark_exception": dict.fromkeys([SS.SHIPPED, SS.IN_TRANSIT, SS.OUT_FOR_DELIVERY], SS.EXCEPTION),
}
SHIPMENT_KWARGS = {
    "pack": {"at": None},
    "ship": {"at": None, "tracking_number": "1Z"},
    "deliver": {"at": None},
}


@pytest.mark.parametrize("name", list(SHIPMENT_ALLOWED))
@pytest.mark.parametrize("state", list(SS))
def test_shipment_transition_table(name, state):
    shipment = Shipment()
    shipment.__dict__["status"] = state
    method = getattr(shipment, name)
    expected = SHIPMENT_ALLOWED[name].get(state)
    assert can_proceed(method) is (expected is not None)
    if expected is not None:
        kwargs = {k: (timezone.now() if v is None else v) for k, v in SHIPMENT_KWARGS.get(name, {}).items()}
        method(**kwargs)
        assert shipment.status == expected


RS = ReturnRequest.Status
RETURN_ALLOWED = {
    "approve": {RS.REQUESTED: RS.APPROVED},
    "reject": {RS.REQUESTED: RS.REJECTED},
    "mark_in_transit": {RS.APPROVED: RS.IN_TRANSIT},
    "mark_delivered": {RS.APPROVED: RS.DELIVERED, RS.IN_TRANSIT: RS.DELIVERED},
    "receive": {RS.APPROVED: RS.RECEIVED, RS.IN_TRANSIT: RS.RECEIVED, RS.DELIVERED: RS.RECEIVED},
    "inspect": {RS.RECEIVED: RS.INSPECTED},
    "resolve": {RS.INSPECTED: RS.RESOLVED},
    "cancel": {RS.REQUESTED: RS.CANCELLED, RS.APPROVED: RS.CANCELLED},
}
RETURN_KWARGS = {
    "approve": {"at": None},
    "reject": {"note": "no"},
    "receive": {"at": None},
    "resolve": {"at": None},
}


@pytest.mark.parametrize("name", list(RETURN_ALLOWED))
@pytest.mark.parametrize("state", list(RS))
def test_return_transition_table(name, state):
    rr = ReturnRequest()
    rr.__dict__["status"] = state
    method = getattr(rr, name)
    expected = RETURN_ALLOWED[name].get(state)
    assert can_proceed(method) is (expected is not None)
    if expected is not None:
        kwargs = {k: (timezone.now() if v is None else v) for k, v in RETURN_KWARGS.get(name, {}).items()}
        method(**kwargs)
        assert rr.status == expected
