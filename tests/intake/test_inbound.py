"""The inbound request log (intake/inbound.py): a request's outcome follows its order on and off
hold, and re-processing a failed request that has an order settles it."""

import json

import pytest

from intake.inbound import inbound_request_reprocess
from intake.mapping import MappingError
from intake.models import InboundRequest, SkuMapping
from intake.queues import inbound_request_count_failed
from orders.models import Order, OrderHold
from orders.services import order_cancel, order_hold, order_release_hold
from tests.connectors.conftest import send_woo
from tests.factories import ChannelFactory, ProductFactory, stock_put

from .conftest import fixture_bytes, fixture_json, order_body

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders"


def held_by_the_api(client, auth, **overrides) -> Order:
    body = order_body(lines=[{"sku": "LATER-1", "quantity": 2, "unit_price": "3.00"}], **overrides)
    response = client.post(URL, json.dumps(body), content_type="application/json", **auth)
    assert response.json()["status"] == "on_hold"
    assert InboundRequest.objects.get().outcome == "held"
    return Order.objects.get()


def test_a_held_order_released_and_allocated_is_captured_in_the_log(client, auth, warehouse):
    order = held_by_the_api(client, auth)
    product = ProductFactory(sku="LATER-1")
    stock_put(product, warehouse, 5)
    order.lines.update(product=product)

    order_release_hold(order_id=order.pk)

    assert Order.objects.get().status == "allocated"
    inbound = InboundRequest.objects.get()
    assert (inbound.outcome, inbound.order) == ("captured", order)


def test_a_release_that_puts_the_order_straight_back_on_hold_leaves_it_held(client, auth):
    order = held_by_the_api(client, auth)

    order_release_hold(order_id=order.pk)  # the SKU is still unknown

    assert Order.objects.get().status == "on_hold"
    assert InboundRequest.objects.get().outcome == "held"


def test_a_held_order_cancelled_is_no_longer_held_in_the_log(client, auth):
    order = held_by_the_api(client, auth)

    order_cancel(order_id=order.pk, reason="customer changed their mind")

    assert InboundRequest.objects.get().outcome == "captured"


def test_only_the_requests_that_captured_the_order_follow_it(client, auth, warehouse):
    order = held_by_the_api(client, auth)
    body = order_body(lines=[{"sku": "LATER-1", "quantity": 2, "unit_price": "3.00"}])
    client.post(URL, json.dumps(body), content_type="application/json", **auth)  # a replay
    product = ProductFactory(sku="LATER-1")
    stock_put(product, warehouse, 5)
    order.lines.update(product=product)

    order_release_hold(order_id=order.pk)

    assert list(InboundRequest.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "captured",
        "duplicate",
    ]


def test_a_pending_order_held_by_staff_makes_its_request_held():
    channel = ChannelFactory(code="web")
    order = Order.objects.create(channel=channel, email="ada@example.com", placed_at="2026-01-01T00:00Z")
    inbound = InboundRequest.objects.create(source="api", channel=channel, order=order, outcome="captured")

    order_hold(order_id=order.pk, reason=OrderHold.Reason.MANUAL, detail="call the customer")

    inbound.refresh_from_db()
    assert inbound.outcome == "held"


@pytest.fixture
def woo(db):
    from tests.connectors.conftest import SECRET

    return ChannelFactory(code="woo", name="Woo store", kind="woocommerce", webhook_secret=SECRET)


def map_woo_skus(woo, warehouse):
    single = ProductFactory(sku="WOO-SINGLE")
    stock_put(single, warehouse, 10)
    stock_put(ProductFactory(sku="Bar3"), warehouse, 10)
    SkuMapping.objects.create(channel=woo, external_key="woo-93", product=single)


def test_a_failed_request_with_an_order_is_not_failed_once_reprocessed(client, woo, warehouse):
    send_woo(client, fixture_bytes("woocommerce/wc-rest-api-docs__v3_order_retrieve.json"))
    # As a delivery carrying several orders is left when one of them failed and another was held:
    InboundRequest.objects.update(outcome="failed", error="Another order of the delivery failed.")
    assert inbound_request_count_failed() == 1
    map_woo_skus(woo, warehouse)

    message = inbound_request_reprocess(inbound_id=InboundRequest.objects.get().pk)

    order = Order.objects.get(channel=woo)
    assert order.status == "allocated", message
    inbound = InboundRequest.objects.get()
    assert (inbound.outcome, inbound.order, inbound.error) == ("captured", order, "")
    assert inbound_request_count_failed() == 0


def test_a_reprocessed_delivery_stays_failed_while_one_of_its_orders_fails(client, woo, warehouse):
    held = fixture_json("woocommerce/wc-rest-api-docs__v3_order_retrieve.json")
    broken = {"id": 999, "billing": held["billing"], "line_items": []}
    send_woo(client, json.dumps([held, broken]).encode())
    inbound = InboundRequest.objects.get()
    assert (inbound.outcome, inbound.order.external_id) == ("failed", "727")
    map_woo_skus(woo, warehouse)

    with pytest.raises(MappingError, match="999 has no line items"):
        inbound_request_reprocess(inbound_id=inbound.pk)

    assert Order.objects.get(external_id="727").status == "allocated"
    inbound.refresh_from_db()
    assert inbound.outcome == "failed" and "999" in inbound.error
