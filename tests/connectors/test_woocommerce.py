"""Shopify and WooCommerce webhooks with the platforms' own published payloads."""

import json
from decimal import Decimal

import pytest

from connectors.webhooks import webhook_signature
from orders.intake.inbound import inbound_request_reprocess
from orders.intake_models import InboundRequest, SkuMapping
from orders.models import Channel, Order
from tests.factories import ChannelFactory, ProductFactory, stock_put
from tests.intake.conftest import fixture_bytes, fixture_json

pytestmark = pytest.mark.django_db
SHOPIFY_URL = "/webhooks/shopify/orders"
WOO_URL = "/webhooks/woocommerce/orders"
SECRET = "hush-🤫-secret"


@pytest.fixture
def shopify(db):
    return ChannelFactory(
        code="shopify", name="Shopify store", kind=Channel.Kind.SHOPIFY, webhook_secret=SECRET
    )


@pytest.fixture
def woo(db):
    return ChannelFactory(code="woo", name="Woo store", kind=Channel.Kind.WOOCOMMERCE, webhook_secret=SECRET)


def send_shopify(client, body: bytes, *, secret=SECRET, delivery="d-1", topic="orders/create"):
    return client.post(
        SHOPIFY_URL,
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=webhook_signature(secret=secret, body=body),
        HTTP_X_SHOPIFY_WEBHOOK_ID=delivery,
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_SHOP_DOMAIN="example.myshopify.com",
    )


def send_woo(client, body: bytes, *, secret=SECRET, delivery="w-1", topic="order.created"):
    return client.post(
        WOO_URL,
        data=body,
        content_type="application/json",
        HTTP_X_WC_WEBHOOK_SIGNATURE=webhook_signature(secret=secret, body=body),
        HTTP_X_WC_WEBHOOK_DELIVERY_ID=delivery,
        HTTP_X_WC_WEBHOOK_TOPIC=topic,
        HTTP_X_WC_WEBHOOK_SOURCE="https://example.com/",
    )


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


def test_shopify_replayed_delivery_is_acknowledged_not_captured_twice(client, shopify):
    body = fixture_bytes("shopify/shopify_python_api__order.json")
    send_shopify(client, body, delivery="same")
    replay = send_shopify(client, body, delivery="same")
    resent = send_shopify(client, body, delivery="other")  # a new delivery of the same order

    assert replay.json()["outcome"] == "duplicate"
    assert resent.json()["outcome"] == "duplicate"
    assert Order.objects.count() == 1


@pytest.mark.parametrize("url,sender", [(SHOPIFY_URL, send_shopify), (WOO_URL, send_woo)])
def test_bad_signature_is_401_and_stored(client, shopify, woo, url, sender):
    body = fixture_bytes("shopify/shopify_python_api__order.json")

    response = sender(client, body, secret="wrong")

    assert response.status_code == 401
    assert Order.objects.count() == 0
    inbound = InboundRequest.objects.get()
    assert inbound.outcome == "rejected" and inbound.channel is None
    assert inbound.body == body.decode()


def test_woocommerce_ping_gets_200(client, woo):
    response = client.post(WOO_URL, data="webhook_id=15", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert InboundRequest.objects.get().outcome == "ignored"


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


def test_shopify_64_bit_ids_survive_exactly(client, shopify):
    order = fixture_json("shopify/shopify_python_api__order.json")
    order["order"]["id"] = 9007199254740993  # 2**53 + 1: a float would make it ...992

    send_shopify(client, json.dumps(order).encode())

    assert Order.objects.get().external_id == "9007199254740993"


def test_woocommerce_cancel_topic_cancels_the_captured_order(client, woo):
    body = fixture_json("woocommerce/wc-rest-api-docs__v3_order_retrieve.json")
    send_woo(client, json.dumps(body).encode(), delivery="a")
    body["status"] = "cancelled"

    send_woo(client, json.dumps(body).encode(), delivery="b", topic="order.updated")

    assert Order.objects.get().status == "cancelled"


@pytest.mark.parametrize(
    "raw", [b"{", b"[]", b'{"id": 1}', b'{"order": {"id": 1, "line_items": [5]}}', b"\xff"]
)
def test_garbage_with_a_valid_signature_is_stored_as_failed_not_500(client, shopify, raw):
    response = send_shopify(client, raw)

    assert response.status_code == 200
    assert InboundRequest.objects.get().outcome in ("failed", "ignored")
