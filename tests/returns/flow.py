"""Build a delivered order through the real services (capture, fulfil, ship, deliver)."""

import datetime as dt

from django.utils import timezone

from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from orders.models import Order
from orders.services import order_capture


def delivered_order(
    channel, order_input, *, lines=(("WIDGET-1", 2, "25.00"),), delivered_at=None, **overrides
):
    overrides.setdefault("placed_at", timezone.now() - dt.timedelta(days=3))
    order = order_capture(channel=channel, data=order_input(lines=list(lines), **overrides))
    assert order.status == Order.Status.ALLOCATED, order.status
    for shipment in order_start_fulfillment(order_id=order.pk):
        shipment_pack(shipment_id=shipment.pk)
        shipment_ship(shipment_id=shipment.pk, tracking_number=f"1Z{shipment.pk:08d}", notify=False)
        shipment_deliver(shipment_id=shipment.pk, at=delivered_at, notify=False)
    order.refresh_from_db()
    return order
