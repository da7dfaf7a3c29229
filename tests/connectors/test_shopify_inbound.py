"""connectors.shopify.inbound: Shopify's own published order payloads mapped to our orders: totals
reconciled, a list without line items kept as failed, 64-bit ids exact."""

import json
from decimal import Decimal

import pytest

from intake.models import InboundRequest
from orders.models import Order
from tests.factories import ProductFactory, stock_put
from tests.intake.conftest import fixture_bytes, fixture_json

from .conftest import send_shopify

pytestmark = pytest.mark.django_db


def test_shopify_order_is_captured_and_its_totals_reconciled(client, shopify, warehouse):
    for sku in ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]:
        stock_put(ProductFactory(sku=sku), warehouse, 5)
    body = fixture_bytes("shopify/shopify_python_api__order.json")

    response = send_shopify(client, body)

    assert response.status_code == 200, response.content
    order = Order.objects.get(channel=shopify, external_id="450789469")
    assert order.email == "bob.norman@hostmail.com"
    assert order.shipping_address.country == "US" and order.shipping_address.region == "KY"
    assert order.subtotal == Decimal("597.00")  # 3 × 199.00, not the payload's 398.00
    assert order.payment_status == "authorized"
    # The payload's total (409.94) doesn't add up: held for staff, with both figures.
    assert order.status == "on_hold"
    (hold,) = order.holds.all()
    assert hold.reason == "payment" and "409.94" in hold.detail and "608.94" in hold.detail
    assert InboundRequest.objects.get().outcome == "held"


def test_shopify_orders_list_without_line_items_is_kept_as_failed(client, shopify):
    response = send_shopify(client, fixture_bytes("shopify/shopify_python_api__orders.json"))

    assert response.status_code == 200
    assert Order.objects.count() == 0
    inbound = InboundRequest.objects.get()
    assert inbound.outcome == "failed"
    assert "no line items" in inbound.error


def test_shopify_64_bit_ids_survive_exactly(client, shopify):
    order = fixture_json("shopify/shopify_python_api__order.json")
    order["order"]["id"] = 9007199254740993  # 2**53 + 1: a float would make it ...992

    send_shopify(client, json.dumps(order).encode())

    assert Order.objects.get().external_id == "9007199254740993"
