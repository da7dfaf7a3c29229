"""Which changes subscribers hear of, and what they get: each event type from the real
services, written in the change's transaction (gone when it rolls back), only to subscriptions
that asked for it, ordered per subscription and order, its payload valid against its model."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from connectors.subscribers import payloads
from connectors.subscribers.models import StockLowMark, Subscription
from connectors.subscribers.services import subscription_create, subscription_update
from core.models import Delivery
from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from fulfillment.tracking import shipment_record_tracking_event
from inventory.models import StockItem
from orders.models import Order
from orders.services import order_cancel, order_capture, order_hold, order_release_hold
from returns.services import (
    return_request_approve,
    return_request_create,
    return_request_inspect,
    return_request_receive,
    return_request_refund,
)
from tests.factories import ProductFactory, stock_put
from tests.returns.helpers import delivered_order

pytestmark = pytest.mark.django_db
EventType = Subscription.EventType
MODELS = {payloads.event_type_of(model): model for model in payloads.EVENTS}


@pytest.fixture
def erp(db, httpserver):
    """Subscribed to everything; its receiver (a local server) answers 200 when a test lets the
    deliveries go out."""
    httpserver.expect_request("/erp").respond_with_data("ok")
    subscription, _ = subscription_create(
        name="ERP",
        url=httpserver.url_for("/erp"),
        event_types=EventType.values,
        owner_email="erp@example.com",
    )
    return subscription


def events(subscription=None, **filters) -> list[dict]:
    """The payloads owed (oldest first), each checked against its event type's model."""
    rows = Delivery.objects.filter(topic="subscribers.event", **filters).order_by("pk")
    if subscription is not None:
        rows = rows.filter(target=subscription.target)
    found = []
    for delivery in rows:
        model = MODELS[delivery.payload["type"]]
        assert model.model_validate(delivery.payload).model_dump(mode="json") == delivery.payload
        found.append(delivery.payload)
    return found


def types(subscription=None) -> list[str]:
    return [e["type"] for e in events(subscription)]


def test_a_clean_capture_is_created_then_allocated_in_order_for_each_subscriber(
    erp, channel, stocked_product, order_input
):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))

    created, allocated = events(erp)
    assert [created["type"], allocated["type"]] == ["order.created", "order.allocated"]
    detail = created["data"]["order"]
    assert detail["number"] == order.number and detail["status"] == "pending"
    assert detail["lines"] == [
        {"sku": "WIDGET-1", "name": "Blue widget", "quantity": 2, "unit_price": "25.00"}
    ]
    assert detail["total"] == "50.00" and detail["shipping_address"]["country"] == "US"
    assert allocated["data"]["order"]["status"] == "allocated"
    assert created["id"] != allocated["id"] and created["id"].startswith("evt_")
    keys = set(Delivery.objects.values_list("ordering_key", "reference"))
    assert keys == {(f"subscription:{erp.pk}:order:{order.number}", order.number)}


def test_only_the_subscriptions_that_asked_hear_of_it(channel, stocked_product, order_input, db):
    shipping, _ = subscription_create(
        name="3PL",
        url="http://127.0.0.1:9/3pl",
        event_types=["order.shipped"],
        owner_email="a@example.com",
    )
    helpdesk, _ = subscription_create(
        name="Helpdesk",
        url="http://127.0.0.1:9/hd",
        event_types=["order.created"],
        owner_email="b@example.com",
    )
    off, _ = subscription_create(
        name="Old BI",
        url="http://127.0.0.1:9/bi",
        event_types=EventType.values,
        owner_email="c@example.com",
        is_active=False,
    )
    order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))

    assert types(helpdesk) == ["order.created"]
    assert types(shipping) == [] and types(off) == []


def test_nothing_is_owed_for_a_change_that_rolled_back(erp, channel, stocked_product, order_input):
    with pytest.raises(RuntimeError), transaction.atomic():
        order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
        raise RuntimeError("the request failed after capture")
    assert Delivery.objects.count() == 0


def test_held_released_and_cancelled(erp, channel, stocked_product, order_input):
    order = order_capture(
        channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], payment_status="pending")
    )
    assert order.status == Order.Status.ON_HOLD
    order_hold(order_id=order.pk, reason="fraud", detail="Velocity check")
    order_release_hold(order_id=order.pk)  # payment still pending: straight back on hold
    order_cancel(order_id=order.pk, reason="Customer changed their mind")

    found = events(erp)
    assert [e["type"] for e in found] == [
        "order.created",
        "order.held",
        "order.held",  # a second reason
        "order.released",
        "order.held",
        "order.cancelled",
    ]
    assert [h["reason"] for h in found[2]["data"]["holds"]] == ["payment", "fraud"]
    assert found[3]["data"]["order"]["status"] == "pending"
    assert found[-1]["data"]["reason"] == "Customer changed their mind"
    assert found[-1]["data"]["order"]["status"] == "cancelled"


def test_backordered_then_allocated_when_stock_arrives(
    erp, channel, warehouse, order_input, django_capture_on_commit_callbacks
):
    product = ProductFactory(sku="RARE-1", name="Rare thing")
    order = order_capture(channel=channel, data=order_input(lines=[("RARE-1", 2, "9.00")]))
    assert order.status == Order.Status.BACKORDERED
    with django_capture_on_commit_callbacks(execute=True):
        stock_put(product, warehouse, 5)  # backorders are allocated after the receipt commits

    assert types(erp) == ["order.created", "order.backordered", "order.allocated"]  # once, not twice


def test_shipped_per_shipment_tracking_and_delivered(
    erp, channel, stocked_product, service_level, order_input
):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk, tracking_number="1ZTEST0001", notify=False)
    shipment_record_tracking_event(
        tracking_number="1ZTEST0001",
        carrier_status="in_transit",
        status="in_transit",
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        location="Newark, NJ",
        description="Departed facility",
    )
    shipment_deliver(shipment_id=shipment.pk, notify=False)

    found = events(erp)
    assert [e["type"] for e in found][2:] == ["order.shipped", "shipment.tracking_updated", "order.delivered"]
    shipped, tracked, delivered = found[2:]
    assert shipped["data"]["order"]["status"] == "shipped"
    assert shipped["data"]["shipment"]["tracking_number"] == "1ZTEST0001"
    assert shipped["data"]["shipment"]["lines"] == [{"sku": "WIDGET-1", "quantity": 2}]
    assert tracked["data"]["order_number"] == order.number
    assert tracked["data"]["tracking"]["location"] == "Newark, NJ"
    assert tracked["data"]["moved_to"] == "in_transit"
    assert delivered["data"]["order"]["status"] == "delivered"


def test_return_requested_received_and_refunded(erp, channel, stocked_product, service_level, order_input):
    order = delivered_order(channel, order_input)
    Delivery.objects.all().delete()
    line = order.lines.get()
    rr = return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="damaged")
    return_request_approve(return_id=rr.pk)  # no event: subscribers hear of requested, received, refunded
    return_request_receive(return_id=rr.pk)
    return_request_inspect(return_id=rr.pk)
    refund = return_request_refund(return_id=rr.pk)

    requested, received, refunded = events(erp)
    assert [requested["type"], received["type"], refunded["type"]] == [
        "return.requested",
        "return.received",
        "return.refunded",
    ]
    assert requested["data"]["return_request"]["lines"] == [
        {"sku": "WIDGET-1", "name": "Blue widget", "quantity": 1}
    ]
    assert received["data"]["return_request"]["status"] == "received"
    assert refunded["data"]["refund"]["amount"] == str(refund.amount) and refund.amount > Decimal("0")
    assert refunded["data"]["return_request"]["number"] == rr.number
    ordering = set(Delivery.objects.values_list("ordering_key", flat=True))
    assert ordering == {f"subscription:{erp.pk}:order:{order.number}"}


@pytest.fixture
def watched_item(warehouse):
    """7 on hand, reorder point 5: two more units sold and it is low."""
    product = ProductFactory(sku="LOWISH-1", name="Lowish")
    stock_put(product, warehouse, 7)
    item = StockItem.objects.get(product=product)
    item.reorder_point = 5
    item.save(update_fields=["reorder_point"])
    return item


def test_stock_low_is_sent_once_when_an_item_crosses_not_while_it_stays_low(
    erp, channel, watched_item, warehouse, order_input
):
    def buy(n, i):
        order_capture(
            channel=channel, data=order_input(lines=[("LOWISH-1", 1, "5.00")] * n, email=f"b{i}@x.com")
        )

    buy(1, 1)  # 6 available: above
    assert "stock.low" not in types(erp)
    buy(1, 2)  # 5: at the reorder point, crossed
    buy(1, 3)  # 4: still low, nothing new
    low = [e for e in events(erp) if e["type"] == "stock.low"]
    assert len(low) == 1
    assert low[0]["data"]["stock_item"] == {
        "sku": "LOWISH-1",
        "name": "Lowish",
        "warehouse": warehouse.code,
        "bin_location": watched_item.bin_location,
        "on_hand": 7,
        "reserved": 2,
        "available": 5,
        "reorder_point": 5,
        "reorder_quantity": 0,
    }
    assert StockLowMark.objects.filter(stock_item=watched_item).exists()

    stock_put(watched_item.product, warehouse, 10)  # recovers: the mark goes
    assert not StockLowMark.objects.exists()
    buy(9, 4)  # and falls again: a new event
    assert [e["type"] for e in events(erp)].count("stock.low") == 2


def test_marks_kept_while_nobody_listened_are_pruned_when_a_subscription_asks_again(
    channel, watched_item, warehouse, order_input
):
    listener, _ = subscription_create(
        name="BI", url="http://127.0.0.1:9/bi", event_types=["stock.low"], owner_email="bi@example.com"
    )
    order_capture(channel=channel, data=order_input(lines=[("LOWISH-1", 2, "5.00")]))
    assert StockLowMark.objects.count() == 1
    fields = {"name": "BI", "url": listener.url, "owner_email": "bi@example.com", "is_active": True}
    subscription_update(subscription_id=listener.pk, event_types=["order.created"], **fields)
    stock_put(watched_item.product, warehouse, 10)  # recovers while nobody listens: mark stays
    assert StockLowMark.objects.count() == 1

    subscription_update(subscription_id=listener.pk, event_types=["stock.low"], **fields)
    assert StockLowMark.objects.count() == 0
    order_capture(channel=channel, data=order_input(lines=[("LOWISH-1", 12, "5.00")], email="z@x.com"))
    assert types(listener) == ["stock.low", "stock.low"]


def test_every_subscribable_event_type_has_a_versioned_payload_model_and_back():
    assert set(EventType.values) | {"webhook.test"} == set(MODELS)
    for event_type, model in MODELS.items():
        assert payloads.event_version_of(model) == 1, event_type
        assert model.__doc__, f"{event_type} needs a description for the docs"
