"""What the reports tests share: three orders of March 2026 to export."""

import datetime as dt
from decimal import Decimal

import pytest

from orders.models import Order
from tests.factories import ChannelFactory, OrderFactory

MARCH_1 = dt.datetime(2026, 3, 1, 14, 5, tzinfo=dt.UTC)


@pytest.fixture
def orders(db):
    """Three orders: an allocated web order with a formula in the name, a shipped one, a phone one."""
    web = ChannelFactory(code="web", name="Web shop")
    phone = ChannelFactory(code="phone", name="Phone")
    evil = OrderFactory(
        channel=web,
        status=Order.Status.ALLOCATED,
        customer_name='=HYPERLINK("http://evil.example","click")',
        email="eve@example.com",
        placed_at=MARCH_1,
        total=Decimal("42.50"),
        subtotal=Decimal("42.50"),
    )
    shipped = OrderFactory(
        channel=web,
        status=Order.Status.SHIPPED,
        customer_name="Zoë Ünicode",
        placed_at=MARCH_1 + dt.timedelta(days=2),
        shipped_at=MARCH_1 + dt.timedelta(days=3),
        total=Decimal("10.00"),
    )
    by_phone = OrderFactory(
        channel=phone, status=Order.Status.ALLOCATED, placed_at=MARCH_1 + dt.timedelta(days=9)
    )
    return evil, shipped, by_phone
