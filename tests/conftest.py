import os
from decimal import Decimal

import pytest
from django.db import connection

from orders.services import AddressInput, LineInput, OrderInput

from .browser import browser, end_other_database_sessions  # noqa: F401  browser: the fixture
from .factories import ChannelFactory, ProductFactory, ServiceLevelFactory, WarehouseFactory, stock_put

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(
                pytest.mark.skip(
                    reason="needs PostgreSQL: SQLite ignores select_for_update, so row locks "
                    "can't be proven here (run with DATABASE_URL=postgres://...)"
                )
            )


@pytest.fixture(scope="session", autouse=True)
def _test_database_droppable(django_db_setup, django_db_blocker):
    """Set up after the test database and torn down before it is dropped: end the sessions the
    live server left open, so the drop succeeds (otherwise: "test_oms is being accessed by
    other users" and a database left behind)."""
    yield
    with django_db_blocker.unblock():
        end_other_database_sessions()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached order pages and rate-limit counters are
    keyed by order number, which a rolled-back database can hand out again."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def channel(db):
    return ChannelFactory()


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="MAIN", priority=1)


@pytest.fixture
def service_level(db):
    return ServiceLevelFactory()


@pytest.fixture
def stocked_product(db, warehouse):
    product = ProductFactory(sku="WIDGET-1", name="Blue widget", price=Decimal("25.00"))
    stock_put(product, warehouse, 10, bin_location="A-01-1")
    return product


def make_order_input(*, lines, external_id="", email="ada@example.com", **overrides) -> OrderInput:
    """A clean, paid order to a valid US address, unless overridden."""
    values = {
        "external_id": external_id,
        "email": email,
        "customer_name": "Ada Lovelace",
        "shipping_address": AddressInput(
            name="Ada Lovelace",
            line1="12 Analytical Way",
            city="New York",
            region="NY",
            postal_code="10001",
            country="US",
        ),
        "lines": [LineInput(sku=sku, quantity=qty, unit_price=Decimal(price)) for sku, qty, price in lines],
        "payment_method": "card",
        "payment_status": "paid",
        "payment_amount": None,
    }
    values.update(overrides)
    return OrderInput(**values)


@pytest.fixture
def order_input():
    return make_order_input
