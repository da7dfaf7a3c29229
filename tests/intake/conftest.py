import json
from pathlib import Path

import pytest

from intake.keys import channel_api_key_create
from orders.models import Channel
from tests.factories import ChannelFactory, ProductFactory, stock_put

# Copies of ../shared/fixtures (unchanged; attribution in tests/fixtures/shared/SOURCES.md).
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shared"


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def fixture_json(relative: str):
    return json.loads(fixture_bytes(relative))


@pytest.fixture
def api_key(db):
    channel = ChannelFactory(code="web", name="Web shop", kind=Channel.Kind.WEB)
    key, plain = channel_api_key_create(channel=channel, name="tests")
    return plain


@pytest.fixture
def auth(api_key):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_key}"}


@pytest.fixture
def widgets(db, warehouse):
    """Three stocked products the API bodies order."""
    products = []
    for sku, price in [("WIDGET-1", "25.00"), ("GADGET-2", "10.00"), ("GIZMO-3", "4.50")]:
        product = ProductFactory(sku=sku, name=f"Product {sku}", price=price)
        stock_put(product, warehouse, 50)
        products.append(product)
    return products


def order_body(external_id="WEB-1001", **overrides) -> dict:
    body = {
        "external_id": external_id,
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+1 212 555 0100"},
        "shipping_address": {
            "name": "Ada Lovelace",
            "line1": "12 Analytical Way",
            "city": "New York",
            "region": "NY",
            "postal_code": "10001",
            "country": "US",
        },
        "shipping_speed": "express",
        "currency": "USD",
        "lines": [
            {"sku": "WIDGET-1", "quantity": 2, "unit_price": "25.00"},
            {"sku": "GADGET-2", "quantity": 1, "unit_price": "10.00"},
        ],
        "shipping_total": "5.00",
        "tax_total": "4.00",
        "discount_total": "0.00",
        "payment": {"method": "card", "status": "authorized", "reference": "ch_1", "amount": "69.00"},
    }
    body.update(overrides)
    return body
