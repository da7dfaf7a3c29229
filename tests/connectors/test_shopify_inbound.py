"""connectors.shopify.inbound: Shopify's own published order payloads mapped to our orders: totals
reconciled, a list without line items kept as failed, 64-bit ids exact."""

import json
from decimal import Decimal

import pytest

from intake.models import InboundRequest
from orders.links import order_tracking_url
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


def shopify_order(warehouse, **changes) -> dict:
    """Shopify's published order (its total reconciled: 3 × 199.00 and the rest), our three
    products stocked, with `changes` made to it."""
    for sku in ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]:
        stock_put(ProductFactory(sku=sku), warehouse, 5)
    order = fixture_json("shopify/shopify_python_api__order.json")["order"]
    order.update({"total_price": "608.94", **changes})
    return order


def reserved() -> dict[str, int]:
    from inventory.models import StockItem

    return dict(StockItem.objects.values_list("product__sku", "reserved"))


def test_a_failed_shopify_fulfilment_is_not_a_shipment(client, shopify, warehouse):
    send_shopify(client, json.dumps(shopify_order(warehouse)).encode())  # its fulfilment: "failure"

    order = Order.objects.get()
    assert order.status == "allocated"
    assert reserved() == {"IPOD2008GREEN": 1, "IPOD2008RED": 1, "IPOD2008BLACK": 1}


def test_a_partly_fulfilled_shopify_order_reserves_only_the_rest(client, shopify, warehouse):
    fulfillment = fixture_json("shopify/shopify_python_api__fulfillment.json")["fulfillment"]  # GREEN
    body = shopify_order(warehouse, fulfillments=[fulfillment], fulfillment_status="partial")

    send_shopify(client, json.dumps(body).encode())

    order = Order.objects.get()
    assert order.status == "allocated"
    assert reserved() == {"IPOD2008GREEN": 0, "IPOD2008RED": 1, "IPOD2008BLACK": 1}
    green = order.lines.get(sku="IPOD2008GREEN")
    assert (green.quantity_shipped, green.quantity_fulfilled_elsewhere) == (1, 1)
    assert order.events.get(kind="note").message == (
        "1 × IPOD2008GREEN fulfilled on Shopify (fulfillment #255858046, tracking 1Z2345 "
        "(null-company)); not shipped from our warehouses."
    )


def test_a_fulfilled_shopify_order_is_captured_shipped_and_reserves_nothing(client, shopify, warehouse):
    webhook = fixture_json("shopify/shopify-fulfillment-integration__fulfillment_webhook.json")  # GREEN
    body = shopify_order(
        warehouse, fulfillments=[webhook], fulfillment_status="fulfilled", total_price="409.94"
    )

    send_shopify(client, json.dumps(body).encode())

    order = Order.objects.get()
    assert order.status == "shipped" and not order.holds.exists()
    assert set(reserved().values()) == {0}
    assert [(ln.sku, ln.quantity_fulfilled_elsewhere) for ln in order.lines.all()] == [
        ("IPOD2008GREEN", 1),
        ("IPOD2008RED", 1),
        ("IPOD2008BLACK", 1),
    ]
    notes = list(order.events.filter(kind="note").values_list("message", flat=True))
    assert "1 × IPOD2008GREEN fulfilled on Shopify (fulfillment #255858046, tracking 1Z2345)" in notes[0]
    assert "1 × IPOD2008RED fulfilled on Shopify (Shopify marks it fulfilled)" in notes[0]
    assert "Not held, nothing is left to ship" in notes[1] and "409.94" in notes[1]
    assert InboundRequest.objects.get().outcome == "captured"
    page = client.get(order_tracking_url(order_number=order.number))  # the customer's page
    assert page.status_code == 200 and "Shipped by Shopify." in page.content.decode()


def test_a_partly_fulfilled_shopify_order_that_does_not_say_what_shipped_is_held(client, shopify, warehouse):
    send_shopify(
        client, json.dumps(shopify_order(warehouse, fulfillments=[], fulfillment_status="partial")).encode()
    )

    order = Order.objects.get()
    assert order.status == "on_hold"
    (hold,) = order.holds.all()
    assert hold.reason == "incomplete" and "not which items" in hold.detail
    assert set(reserved().values()) == {0}
