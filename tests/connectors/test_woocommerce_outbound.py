"""Talking back to WooCommerce (REST wc/v3) over real HTTP to a local stand-in answering with
the recorded docs examples (tests/fixtures/shared/woocommerce/outbound, see SOURCES.md); where
none exists, responses are built here in WooCommerce's documented shape and say so."""

import base64
import json

import pytest
from werkzeug import Response

from connectors.models import RemoteFulfillment, WooCommerceConnection
from core.models import Delivery
from core.outbox.services import delivery_send
from fulfillment.services import order_start_fulfillment, shipment_pack, shipment_ship
from intake.models import SkuMapping
from orders.models import Order
from orders.services import order_cancel
from tests.factories import ProductFactory, stock_put
from tests.intake.conftest import fixture_bytes, fixture_json

from .conftest import WOO_KEY, WOO_SECRET, send_woo, stand_in_url

Status = Delivery.Status
API = "/wp-json/wc/v3"
TRACKING = "1Z999AA10123456784"
COMPLETED = fixture_bytes("woocommerce/outbound/wc-rest-api-docs__v3_order_update_completed.json")
NOTE_CREATED = fixture_bytes("woocommerce/outbound/wc-rest-api-docs__v3_order_note_create.json")
TERM_INVALID = fixture_bytes(
    "woocommerce/outbound/wc-rest-api-docs__v3_error_woocommerce_rest_term_invalid.json"
)


def json_response(body, status=200) -> Response:
    text = body if isinstance(body, bytes | str) else json.dumps(body)
    return Response(text, status=status, content_type="application/json")


@pytest.fixture
def store(db, woo, httpserver, credentials_key):
    return WooCommerceConnection.objects.create(
        channel=woo,
        store_url="https://shop.example.com",
        base_url=stand_in_url(httpserver),
        consumer_key=WOO_KEY,
        consumer_secret=WOO_SECRET,
        push_stock=False,  # stock pushes have their own tests (test_stock_levels.py)
    )


@pytest.fixture
def woo_order(client, store, warehouse, service_level):
    """The recorded WooCommerce order 727, its SKU-less line mapped, captured and allocated."""
    tshirt = ProductFactory(sku="TSHIRT-1")
    SkuMapping.objects.create(channel=store.channel, external_key="woo-93", product=tshirt)
    stock_put(tshirt, warehouse, 5)
    stock_put(ProductFactory(sku="Bar3"), warehouse, 5)
    send_woo(client, fixture_bytes("woocommerce/wc-rest-api-docs__v3_order_retrieve.json"))
    order = Order.objects.get(channel=store.channel, external_id="727")
    assert order.status == Order.Status.ALLOCATED
    return order


def ship(order, capture):
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=shipment.pk)
    with capture(execute=True):
        return shipment_ship(shipment_id=shipment.pk, tracking_number=TRACKING)


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{WOO_KEY}:{WOO_SECRET}".encode()).decode()


def test_the_captured_order_keeps_woocommerces_line_ids(woo_order):
    assert sorted(woo_order.lines.values_list("external_line_id", flat=True)) == ["315", "316"]


def test_a_shipped_order_gets_a_tracking_note_and_becomes_completed(
    woo_order, httpserver, django_capture_on_commit_callbacks
):
    # No notes yet: an empty list, as wc/v3 answers for an order without notes.
    httpserver.expect_ordered_request(f"{API}/orders/727/notes", method="GET").respond_with_json([])
    httpserver.expect_ordered_request(f"{API}/orders/727/notes", method="POST").respond_with_response(
        json_response(NOTE_CREATED, status=201)
    )
    httpserver.expect_ordered_request(f"{API}/orders/727", method="PUT").respond_with_response(
        json_response(COMPLETED)
    )

    ship(woo_order, django_capture_on_commit_callbacks)

    (listed, _), (noted, _), (completed, _) = httpserver.log
    assert listed.headers["Authorization"] == basic_auth()
    note = json.loads(noted.data)
    assert note == {
        "note": "Your order is on its way with UPS. Tracking number: 1Z999AA10123456784. "
        "Follow it here: https://www.ups.com/track?tracknum=1Z999AA10123456784",
        "customer_note": True,
    }
    assert json.loads(completed.data) == {"status": "completed"}
    assert completed.headers["Authorization"] == basic_auth()
    delivery = Delivery.objects.get(topic="woocommerce.shipment")
    assert delivery.status == Status.DELIVERED
    assert delivery.result == {"note_id": 281, "note_adopted": False, "status": "completed"}
    assert RemoteFulfillment.objects.get().remote_id == "281"
    for attempt in delivery.attempt_log.all():
        assert attempt.request_headers["authorization"] == "[redacted]"
        assert WOO_SECRET not in attempt.url + attempt.request_body + json.dumps(attempt.request_headers)


def test_a_retried_note_is_not_added_twice(woo_order, httpserver, django_capture_on_commit_callbacks):
    # The note from an earlier attempt is already there (docs' note shape, our text).
    existing = {**fixture_json("woocommerce/outbound/wc-rest-api-docs__v3_order_note_create.json")}
    existing.update(
        note=f"Your order is on its way with UPS. Tracking number: {TRACKING}.", customer_note=True
    )
    httpserver.expect_request(f"{API}/orders/727/notes", method="GET").respond_with_json([existing])
    httpserver.expect_request(f"{API}/orders/727", method="PUT").respond_with_response(
        json_response(COMPLETED)
    )

    ship(woo_order, django_capture_on_commit_callbacks)

    assert [r.method for r, _ in httpserver.log] == ["GET", "PUT"]
    assert Delivery.objects.get(topic="woocommerce.shipment").result["note_adopted"] is True


def test_a_cancellation_here_cancels_the_order_in_the_store(
    woo_order, httpserver, django_capture_on_commit_callbacks
):
    # The recorded update answer, with the status a cancellation sets (no cancel recording exists).
    cancelled = {**json.loads(COMPLETED), "status": "cancelled"}
    httpserver.expect_request(f"{API}/orders/727", method="PUT").respond_with_json(cancelled)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=woo_order.pk, reason="Customer asked")

    ((request, _),) = httpserver.log
    assert json.loads(request.data) == {"status": "cancelled"}
    assert Delivery.objects.get(topic="woocommerce.cancel").result == {"status": "cancelled"}


def test_a_cancellation_that_came_from_the_store_is_not_echoed_back(client, woo_order, httpserver):
    body = fixture_json("woocommerce/wc-rest-api-docs__v3_order_retrieve.json")
    body["status"] = "cancelled"
    send_woo(client, json.dumps(body).encode(), delivery="w-cancel", topic="order.updated")

    assert Order.objects.get(pk=woo_order.pk).status == Order.Status.CANCELLED
    assert not Delivery.objects.filter(topic="woocommerce.cancel").exists()
    assert httpserver.log == []


def test_refused_keys_pause_the_store_until_new_ones_are_saved(
    woo_order, store, httpserver, django_capture_on_commit_callbacks
):
    # 401 in the wc/v3 error envelope (not recorded; same shape as the recorded 404 envelope).
    refused = {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }
    httpserver.expect_request(f"{API}/orders/727/notes", method="GET").respond_with_json(refused, status=401)
    ship(woo_order, django_capture_on_commit_callbacks)

    assert Delivery.objects.get(topic="woocommerce.shipment").status == Status.PAUSED
    store.refresh_from_db()
    assert store.status_label == "credentials refused" and "cannot list" in store.credentials_refused_reason
    # while paused, what else the store is owed waits too (in order, behind the shipment)
    Order.objects.filter(pk=woo_order.pk).update(status=Order.Status.ALLOCATED)
    order_cancel(order_id=woo_order.pk)
    assert Delivery.objects.get(topic="woocommerce.cancel").status == Status.PAUSED


def test_a_request_the_store_refuses_is_dead_with_its_message(woo_order, httpserver):
    httpserver.expect_request(f"{API}/orders/727", method="PUT").respond_with_response(
        json_response(TERM_INVALID, status=404)
    )
    order_cancel(order_id=woo_order.pk)

    delivery = delivery_send(delivery_id=Delivery.objects.get(topic="woocommerce.cancel").pk)

    assert delivery.status == Status.DEAD
    assert "Resource doesn't exist." in delivery.last_error
    assert len(httpserver.log) == 1
