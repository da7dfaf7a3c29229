"""The Shipment state machine: every allowed and refused transition."""

import pytest
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment.models import Shipment

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
