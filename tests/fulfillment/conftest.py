import datetime as dt
import itertools
from decimal import Decimal

import pytest

from fulfillment.services import order_start_fulfillment
from orders.services import order_capture
from tests.conftest import make_order_input
from tests.factories import ProductFactory, UserFactory, stock_put


@pytest.fixture
def staff(db):
    return UserFactory(username="packer", is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def catalog(db, warehouse):
    """Three products in bins deliberately out of alphabetical order."""
    products = {
        "MUG-1": ProductFactory(sku="MUG-1", barcode="5000000000011", name="Mug", weight_grams=300),
        "TEA-1": ProductFactory(sku="TEA-1", barcode="5000000000028", name="Tea", weight_grams=100),
        "POT-1": ProductFactory(sku="POT-1", barcode="", name="Teapot", weight_grams=900),
    }
    stock_put(products["MUG-1"], warehouse, 500, bin_location="B-10-1")
    stock_put(products["TEA-1"], warehouse, 500, bin_location="A-02-3")
    stock_put(products["POT-1"], warehouse, 500, bin_location="B-9-1")
    return products


@pytest.fixture
def ready_shipment(db, channel, service_level):
    """make(lines=[(sku, qty)], **order overrides) -> a `pending` shipment of a processing order."""

    emails = itertools.count(1)

    def make(lines, **overrides):
        overrides.setdefault("email", f"buyer{next(emails)}@example.com")  # else: suspected duplicate
        data = make_order_input(lines=[(sku, qty, "10.00") for sku, qty in lines], **overrides)
        order = order_capture(channel=channel, data=data)
        (shipment,) = order_start_fulfillment(order_id=order.pk)
        return shipment

    return make


def at(day: str, hhmm: str) -> dt.datetime:
    """An aware datetime in the project time zone (UTC in tests)."""
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00+00:00")


D = Decimal
