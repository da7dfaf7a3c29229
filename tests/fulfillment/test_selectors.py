"""fulfillment.selectors: the delivery date the customer is promised, from the quote at capture
to the shipment's estimate; none for orders that may not ship; a fixed number of queries."""

import datetime as dt

import pytest

from fulfillment.models import Shipment
from fulfillment.selectors import order_get_delivery_estimate
from orders.models import Order
from tests.factories import OrderFactory

from .conftest import at

pytestmark = pytest.mark.django_db


def test_customer_gets_a_quote_from_capture_then_the_shipment_estimate(
    warehouse, catalog, service_level, ready_shipment, channel, order_input
):
    from orders.services import order_capture

    order = order_capture(channel=channel, data=order_input(lines=[("MUG-1", 1, "10.00")]))
    assert order.status == Order.Status.ALLOCATED
    quote = order_get_delivery_estimate(order, now=at("2024-08-02", "16:00"))
    assert (quote.date, quote.basis, quote.service) == (dt.date(2024, 8, 8), "quote", "UPS Ground")

    shipment = ready_shipment([("TEA-1", 1)])
    Shipment.objects.filter(pk=shipment.pk).update(estimated_delivery=dt.date(2024, 8, 9))
    estimate = order_get_delivery_estimate(shipment.order, now=at("2024-08-02", "16:00"))
    assert (estimate.date, estimate.basis, estimate.is_late) == (dt.date(2024, 8, 9), "shipment", False)
    assert order_get_delivery_estimate(shipment.order, now=at("2024-08-12", "09:00")).is_late


@pytest.mark.parametrize("status", [Order.Status.BACKORDERED, Order.Status.ON_HOLD, Order.Status.CANCELLED])
def test_no_date_is_promised_for_orders_that_may_not_ship(service_level, status):
    assert order_get_delivery_estimate(OrderFactory(status=status)) is None


def test_estimate_query_count_is_fixed(
    service_level, catalog, channel, order_input, django_assert_num_queries
):
    from orders.services import order_capture

    for size in (1, 3):
        lines = [(sku, 1, "10.00") for sku in ["MUG-1", "TEA-1", "POT-1"][:size]]
        order = order_capture(channel=channel, data=order_input(lines=lines))
        order = (
            Order.objects.select_related("shipping_address")
            .prefetch_related("shipments__service_level__carrier")
            .get(pk=order.pk)
        )
        with django_assert_num_queries(2):  # lines with products, service levels
            assert order_get_delivery_estimate(order) is not None
