"""Correcting a shipped parcel's tracking number: on the timeline, told to the channels through
`shipment_tracking_changed`, refused before shipping and for the same number."""

import pytest

from fulfillment.exceptions import TrackingChangeRefused
from fulfillment.services import shipment_pack, shipment_ship, shipment_tracking_change
from fulfillment.signals import shipment_tracking_changed
from orders.models import OrderEvent

pytestmark = pytest.mark.django_db


def test_a_shipped_parcel_gets_its_new_number_on_the_timeline_and_the_signal(catalog, ready_shipment):
    shipment = ready_shipment([("MUG-1", 1)])
    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk, tracking_number="1Z-OLD")
    heard = []

    def receiver(sender, shipment, order, previous, **kwargs):
        heard.append((shipment.tracking_number, order.number, previous))

    shipment_tracking_changed.connect(receiver)
    try:
        shipment_tracking_change(shipment_id=shipment.pk, tracking_number=" 1Z-NEW ", reason="Relabelled.")
    finally:
        shipment_tracking_changed.disconnect(receiver)

    shipment.refresh_from_db()
    assert shipment.tracking_number == "1Z-NEW"
    assert heard == [("1Z-NEW", shipment.order.number, "1Z-OLD")]
    note = OrderEvent.objects.filter(order=shipment.order, kind=OrderEvent.Kind.NOTE).last()
    assert note.message == f"Tracking number of {shipment.number} changed from 1Z-OLD to 1Z-NEW. Relabelled."


def test_refused_before_shipping_and_for_the_same_number(catalog, ready_shipment):
    shipment = ready_shipment([("MUG-1", 1)])
    with pytest.raises(TrackingChangeRefused, match="only a shipment on its way"):
        shipment_tracking_change(shipment_id=shipment.pk, tracking_number="1Z-NEW")
    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk, tracking_number="1Z-OLD")
    with pytest.raises(TrackingChangeRefused, match="already has"):
        shipment_tracking_change(shipment_id=shipment.pk, tracking_number="1Z-OLD")
    with pytest.raises(TrackingChangeRefused, match="Give the new"):
        shipment_tracking_change(shipment_id=shipment.pk, tracking_number="  ")
