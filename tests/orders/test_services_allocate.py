"""orders.services.allocate: staff allocate a backordered order by hand once stock is there."""

from decimal import Decimal

import pytest

from inventory.models import StockItem
from orders.models import Order
from orders.services import order_allocate_now, order_capture

pytestmark = pytest.mark.django_db


def test_backordered_order_allocates_once_stock_arrives(channel, stocked_product, warehouse, order_input):
    from tests.factories import stock_put

    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 12, "25.00")]))
    assert order.status == Order.Status.BACKORDERED
    stock_put(stocked_product, warehouse, 5)
    order = order_allocate_now(order_id=order.pk)
    assert order.status == Order.Status.ALLOCATED
    item = StockItem.objects.get()
    assert (item.on_hand, item.reserved) == (15, 12)
    assert order.total == Decimal("300.00")
