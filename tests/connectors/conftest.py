"""What the connector tests share: shop channels with a webhook secret, deliveries signed as the
platforms sign them, and the EasyPost tests' shipments."""

import pytest

from connectors.webhooks import webhook_signature
from orders.models import Channel
from tests.factories import ChannelFactory
from tests.fulfillment.conftest import catalog, ready_shipment  # noqa: F401  fixtures, shared

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
