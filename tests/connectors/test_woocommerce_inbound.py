"""connectors.woocommerce.inbound: WooCommerce's own published payloads mapped to our orders: both
API shapes, SKU mappings, refunds kept as failed, billing for a missing shipping address,
cancellations."""

import json
from decimal import Decimal

import pytest

from intake.inbound import inbound_request_reprocess
from intake.models import InboundRequest, SkuMapping
from inventory.models import Reservation
from orders.models import Order
from tests.factories import ProductFactory, stock_put
from tests.intake.conftest import fixture_bytes, fixture_json

from .conftest import send_woo

pytestmark = pytest.mark.django_db


def test_woocommerce_order_with_empty_skus_is_held_then_mapped_and_released(client, woo, warehouse):
    body = fixture_bytes("woocommerce/wc-rest-api-docs__v3_order_retrieve.json")

    send_woo(client, body)

    order = Order.objects.get(channel=woo, external_id="727")
    lines = list(order.lines.order_by("pk"))
    assert [ln.sku for ln in lines] == ["woo-93", "Bar3"]
    assert lines[1].name == "Ship Your Idea – Color: Black, Size: M Test"  # &ndash; decoded
    assert lines[0].unit_price == Decimal("3.00")  # JSON number 3
    assert order.total == Decimal("29.35") and order.payment_status == "paid"
    assert order.status == "on_hold"
    assert [h.reason for h in order.holds.all()] == ["unknown_sku"]
    assert "woo-93" in order.holds.get().detail

    # Staff map the channel's product 93 and create Bar3, then re-process the delivery.
    single = ProductFactory(sku="WOO-SINGLE")
    stock_put(single, warehouse, 10)
    stock_put(ProductFactory(sku="Bar3"), warehouse, 10)
    SkuMapping.objects.create(channel=woo, external_key="woo-93", product=single)
    message = inbound_request_reprocess(inbound_id=InboundRequest.objects.get().pk)

    order.refresh_from_db()
    assert order.status == "allocated", message
    assert sorted(order.lines.values_list("sku", flat=True)) == ["Bar3", "WOO-SINGLE"]


def test_woocommerce_mapping_is_used_at_capture(client, woo, warehouse):
    for key, sku in [("woo-87", "ALBUM-2"), ("woo-34", "NINJA")]:
        product = ProductFactory(sku=sku)
        stock_put(product, warehouse, 3)
        SkuMapping.objects.create(channel=woo, external_key=key, product=product)
    orders = fixture_json("woocommerce/wc-rest-api-docs__v3_orders_list.json")
    orders[1]["status"] = "processing"  # still to ship: a completed one was fulfilled by the store

    response = send_woo(client, json.dumps(orders).encode())

    assert response.status_code == 200
    joao = Order.objects.get(external_id="723")
    assert joao.customer_name == "João Silva" and joao.shipping_address.postal_code == "12345-000"
    assert sorted(joao.lines.values_list("sku", flat=True)) == ["ALBUM-2", "NINJA"]
    assert joao.status == "allocated"
    assert Order.objects.filter(channel=woo).count() == 2


def test_woocommerce_legacy_shape_is_understood(client, woo):
    response = send_woo(client, fixture_bytes("woocommerce/wc-rest-api-docs__legacy_v3_order_retrieve.json"))

    assert response.status_code == 200
    order = Order.objects.get(external_id="645")
    assert order.email == "john.doe@example.com"
    assert order.total == Decimal("79.87") and order.shipping_total == Decimal("10.00")
    assert order.payment_status == "paid" and order.payment_method == "bacs"
    assert order.lines.count() == 2


def test_woocommerce_refund_body_is_kept_as_failed(client, woo):
    send_woo(client, fixture_bytes("woocommerce/wc-rest-api-docs__v3_order_refund_retrieve.json"))

    assert Order.objects.count() == 0
    assert "refund" in InboundRequest.objects.get().error


def test_missing_shipping_address_falls_back_to_billing(client, woo):
    order = fixture_json("woocommerce/wc-rest-api-docs__v3_order_retrieve.json")
    order["shipping"] = dict.fromkeys(order["shipping"], "")

    send_woo(client, json.dumps(order).encode())

    assert Order.objects.get().shipping_address.line1 == "969 Market"


def test_woocommerce_cancel_topic_cancels_the_captured_order(client, woo):
    body = fixture_json("woocommerce/wc-rest-api-docs__v3_order_retrieve.json")
    send_woo(client, json.dumps(body).encode(), delivery="a")
    body["status"] = "cancelled"

    send_woo(client, json.dumps(body).encode(), delivery="b", topic="order.updated")

    assert Order.objects.get().status == "cancelled"


def test_a_woocommerce_order_completed_before_it_reached_us_is_captured_shipped(client, woo, warehouse):
    for key, sku in [("woo-87", "ALBUM-2"), ("woo-34", "NINJA")]:
        product = ProductFactory(sku=sku)
        stock_put(product, warehouse, 3)
        SkuMapping.objects.create(channel=woo, external_key=key, product=product)
    joao = fixture_json("woocommerce/wc-rest-api-docs__v3_orders_list.json")[1]  # "status": "completed"

    send_woo(client, json.dumps(joao).encode())

    order = Order.objects.get(external_id="723")
    assert order.status == "shipped"
    assert [(ln.quantity_shipped, ln.quantity_fulfilled_elsewhere) for ln in order.lines.all()] == [
        (1, 1),
        (1, 1),
    ]
    assert not Reservation.objects.exists()
    assert order.events.get(kind="note").message == (
        "1 × ALBUM-2 fulfilled on WooCommerce (the order is completed there); "
        "1 × NINJA fulfilled on WooCommerce (the order is completed there); not shipped from our warehouses."
    )
