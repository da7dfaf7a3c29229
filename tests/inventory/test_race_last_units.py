"""20 clients race for the last 10 units: exactly 10 get one, nothing is oversold."""

from decimal import Decimal
from functools import partial

import pytest

from inventory.models import Product, StockItem
from orders.inputs import AddressInput, LineInput, OrderInput
from orders.models import Order
from orders.services import order_capture
from tests.factories import ChannelFactory, ProductFactory, WarehouseFactory, stock_put
from tests.races import run_together


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_race_for_ten_units():
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="RACE")
    product = ProductFactory(sku="LAST-10")
    stock_put(product, warehouse, 10)

    def buy(i):
        order_capture(
            channel=channel,
            data=OrderInput(
                email=f"racer{i}@example.com",
                external_id=f"race-{i}",
                shipping_address=AddressInput(
                    name="R", line1="1 St", city="NYC", postal_code="10001", country="US"
                ),
                lines=[LineInput("LAST-10", 1, Decimal("5.00"))],
                payment_status="paid",
            ),
        )

    errors = [r for r in run_together([partial(buy, i) for i in range(20)]) if isinstance(r, Exception)]

    assert errors == []
    statuses = list(Order.objects.values_list("status", flat=True))
    assert statuses.count(Order.Status.ALLOCATED) == 10
    assert statuses.count(Order.Status.BACKORDERED) == 10
    item = StockItem.objects.get(product=Product.objects.get(sku="LAST-10"))
    assert (item.on_hand, item.reserved) == (10, 10)
