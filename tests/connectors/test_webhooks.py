"""The order webhook flow Shopify and WooCommerce share (connectors/webhooks.py): every delivery
stored raw, refused without a matching signature, never a 500, a replayed delivery acknowledged
without capturing twice."""

import pytest

from intake.models import InboundRequest
from orders.models import Order
from tests.intake.conftest import fixture_bytes

from .conftest import SHOPIFY_URL, WOO_URL, outcome_of, send_shopify, send_woo

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url,sender", [(SHOPIFY_URL, send_shopify), (WOO_URL, send_woo)])
def test_bad_signature_is_401_and_stored(client, shopify, woo, url, sender):
    body = fixture_bytes("shopify/shopify_python_api__order.json")

    response = sender(client, body, secret="wrong")

    assert response.status_code == 401
    assert Order.objects.count() == 0
    inbound = InboundRequest.objects.get()
    assert inbound.outcome == "rejected" and inbound.channel is None
    assert inbound.body == body.decode()


@pytest.mark.parametrize(
    "raw", [b"{", b"[]", b'{"id": 1}', b'{"order": {"id": 1, "line_items": [5]}}', b"\xff"]
)
def test_garbage_with_a_valid_signature_is_stored_as_failed_not_500(client, shopify, raw):
    response = send_shopify(client, raw)

    assert response.status_code == 200
    assert InboundRequest.objects.get().outcome in ("failed", "ignored")


def test_shopify_replayed_delivery_is_acknowledged_not_captured_twice(client, shopify):
    body = fixture_bytes("shopify/shopify_python_api__order.json")
    send_shopify(client, body, delivery="same")
    replay = send_shopify(client, body, delivery="same")
    resent = send_shopify(client, body, delivery="other")  # a new delivery of the same order

    assert replay.json() == {"outcome": "duplicate"}
    assert resent.json() == {"outcome": "received"}
    assert outcome_of("other") == "duplicate"  # processed: the order it names was captured before
    assert Order.objects.count() == 1
