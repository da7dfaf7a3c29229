"""What the connector tests share: shop channels with a webhook secret, deliveries signed as the
platforms sign them (and then processed by the intake worker, as in production), and the
EasyPost tests' shipments."""

import pytest

from connectors.webhooks import webhook_signature
from intake.models import InboundRequest
from intake.work import intake_work
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


def send_shopify(client, body: bytes, *, secret=SECRET, delivery="d-1", topic="orders/create", process=True):
    """Deliver as Shopify does; then, unless `process` is False, let the intake worker process
    what is pending (the view only stores it)."""
    response = client.post(
        SHOPIFY_URL,
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=webhook_signature(secret=secret, body=body),
        HTTP_X_SHOPIFY_WEBHOOK_ID=delivery,
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_SHOP_DOMAIN="example.myshopify.com",
    )
    if process:
        intake_work()
    return response


def send_woo(client, body: bytes, *, secret=SECRET, delivery="w-1", topic="order.created", process=True):
    """Deliver as WooCommerce does; then, unless `process` is False, let the intake worker
    process what is pending."""
    response = client.post(
        WOO_URL,
        data=body,
        content_type="application/json",
        HTTP_X_WC_WEBHOOK_SIGNATURE=webhook_signature(secret=secret, body=body),
        HTTP_X_WC_WEBHOOK_DELIVERY_ID=delivery,
        HTTP_X_WC_WEBHOOK_TOPIC=topic,
        HTTP_X_WC_WEBHOOK_SOURCE="https://example.com/",
    )
    if process:
        intake_work()
    return response


def outcome_of(delivery: str) -> str:
    """What became of a delivery: the outcome of the first request stored with its id."""
    return InboundRequest.objects.filter(delivery_id=delivery).order_by("pk").first().outcome


# --- outbound: connections to a local stand-in for the platform --------------------------------
CREDENTIALS_KEY = "q3Jq0Zg9yBqkxXlJ5a1o1r8Q2mRk8d0o0uJc3d2cXxE="  # a Fernet key for tests only
SHOPIFY_TOKEN = "shpat_test_token_0123456789"
WOO_KEY = "ck_test_key_0123456789"
WOO_SECRET = "cs_test_secret_0123456789"


@pytest.fixture
def credentials_key(settings):
    settings.OMS_CREDENTIALS_KEY = CREDENTIALS_KEY
    settings.MANAGER_EMAILS = ["ops@example.com"]
    settings.OMS = {**settings.OMS, "DELIVERY_TIMEOUT_SECONDS": 0.5}
    return CREDENTIALS_KEY


def stand_in_url(httpserver) -> str:
    return httpserver.url_for("/").rstrip("/")
