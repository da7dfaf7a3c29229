"""orders.services.cancel: cancelling releases the reservation; a shipped order can't be
cancelled and nothing changes."""

import pytest

from fulfillment.services import order_start_fulfillment, shipment_pack, shipment_ship
from inventory.models import StockItem
from orders.exceptions import OrderTransitionError
from orders.models import Order, OrderEvent
from orders.services import order_cancel, order_capture

from .helpers import stock

pytestmark = pytest.mark.django_db


def test_shipped_order_cannot_be_cancelled(channel, stocked_product, service_level, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk)
    with pytest.raises(OrderTransitionError, match="shipped: can't cancel"):
        order_cancel(order_id=order.pk)
    assert StockItem.objects.get().on_hand == 9


def test_cancel_releases_reservation(channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 4, "25.00")]))
    assert stock(stocked_product) == (10, 4)
    order_cancel(order_id=order.pk, reason="Customer changed their mind")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert stock(stocked_product) == (10, 0)
    assert order.events.filter(kind=OrderEvent.Kind.CANCELLED, visible_to_customer=True).exists()
