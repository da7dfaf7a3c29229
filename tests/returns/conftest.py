"""What the returns tests share: the order a store credit was issued for, and the credit."""

import pytest

from orders.services import order_capture

from .helpers import credit_issue


@pytest.fixture
def source_order(channel, stocked_product, order_input):
    """The order whose return the credit was issued for."""
    data = order_input(lines=[("WIDGET-1", 1, "25.00")], external_id="SRC", email="earlier@example.com")
    return order_capture(channel=channel, data=data)


@pytest.fixture
def credit(source_order):
    return credit_issue(order=source_order, amount="50.00")
