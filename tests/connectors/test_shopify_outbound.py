"""Talking back to Shopify over real HTTP to a local stand-in that answers with Shopify's
recorded responses (tests/fixtures/shared/shopify/outbound, see SOURCES.md) or, where nothing
was recorded, with responses built here from Shopify's documented shapes (said where it is so).

What is asserted is what we sent: the GraphQL documents' operations and their variables."""

import datetime as dt
import json
import socket
import time

import pytest
from django.core import mail
from django.db import connection as db_connection
from werkzeug import Response

from connectors.models import RemoteFulfillment, ShopifyConnection, ShopifyLocation
from connectors.shopify.client import ShopifyClient
from core.models import Delivery, DeliveryAttempt
from core.outbox.errors import DeliveryRetry
from core.outbox.http import OutboundHttp
from core.outbox.services import delivery_send, delivery_sweep
from fulfillment.services import (
    order_start_fulfillment,
    shipment_pack,
    shipment_ship,
    shipment_tracking_change,
)
from orders.models import Order
from orders.services import order_cancel, order_release_hold
from tests.factories import ProductFactory, stock_put
from tests.intake.conftest import fixture_bytes

from .conftest import SHOPIFY_TOKEN, outcome_of, send_shopify, stand_in_url
from .shopify_stand_in import ShopifyStandIn, cost, fulfillment_order, fulfillment_orders

Status = Delivery.Status
LOCATION = "gid://shopify/Location/655441491"
ORDER_GID = "gid://shopify/Order/450789469"
# The fixture order's line items (shopify_python_api__order.json): green, red, black iPods.
LINE_ITEMS = {"IPOD2008GREEN": 466157049, "IPOD2008RED": 518995019, "IPOD2008BLACK": 703073504}
FO_LINE_ITEMS = {"IPOD2008GREEN": 1025578640, "IPOD2008RED": 1025578641, "IPOD2008BLACK": 1025578642}
TRACKING = "1Z999AA10123456784"


def recorded(name: str) -> bytes:
    return fixture_bytes(f"shopify/outbound/{name}")


FULFILLMENT_CREATED = recorded("bcapps__shopify-test_Invoices_FulfillmentCreateResult.json")
FULFILLMENT_REFUSED = recorded("bcapps__shopify-test_Logs_FulfillmentFailedResult.json")
INVALID_INPUT = recorded("shopify_graphql__test_fixtures_mutations_invalid_input_error.json")


@pytest.fixture
def shop(db, shopify, warehouse, httpserver, credentials_key):
    connection = ShopifyConnection.objects.create(
        channel=shopify,
        shop_domain="example.myshopify.com",
        access_token=SHOPIFY_TOKEN,
        base_url=stand_in_url(httpserver),
        push_stock=False,  # stock pushes have their own tests (test_stock_levels.py)
    )
    ShopifyLocation.objects.create(connection=connection, warehouse=warehouse, location_id="655441491")
    return connection


@pytest.fixture
def stand_in(httpserver):
    return ShopifyStandIn(httpserver)


@pytest.fixture
def shopify_order(client, shop, warehouse, service_level):
    """The recorded Shopify order, captured from its webhook, released and being fulfilled."""
    for sku in LINE_ITEMS:
        stock_put(ProductFactory(sku=sku), warehouse, 5)
    assert send_shopify(client, fixture_bytes("shopify/shopify_python_api__order.json")).status_code == 200
    order = Order.objects.get(channel=shop.channel, external_id="450789469")
    order_release_hold(order_id=order.pk)  # its totals don't add up (SOURCES.md): staff checked
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=shipment.pk)
    return Order.objects.get(pk=order.pk)


def ship(order, tracking=TRACKING, *, capture=None):
    shipment = order.shipments.get()
    if capture is None:
        return shipment_ship(shipment_id=shipment.pk, tracking_number=tracking)
    with capture(execute=True):
        return shipment_ship(shipment_id=shipment.pk, tracking_number=tracking)


def open_fulfillment_order(fulfillments=()):
    return fulfillment_orders(
        ORDER_GID,
        [fulfillment_order(1046000790, LOCATION, [(FO_LINE_ITEMS[s], LINE_ITEMS[s], 1) for s in LINE_ITEMS])],
        fulfillments,
    )


def fulfillment_delivery() -> Delivery:
    return Delivery.objects.get(topic="shopify.fulfillment")


def test_the_captured_order_keeps_shopifys_line_item_ids(shopify_order):
    assert {line.sku: line.external_line_id for line in shopify_order.lines.all()} == {
        sku: str(line_id) for sku, line_id in LINE_ITEMS.items()
    }


def test_a_shipped_shipment_becomes_the_recorded_shopify_fulfilment(
    shopify_order, stand_in, django_capture_on_commit_callbacks
):
    stand_in.queue("OrderFulfillmentOrders", open_fulfillment_order())
    stand_in.queue("FulfillmentCreate", FULFILLMENT_CREATED)

    ship(shopify_order, capture=django_capture_on_commit_callbacks)

    assert stand_in.operations() == ["OrderFulfillmentOrders", "FulfillmentCreate"]
    assert stand_in.variables("OrderFulfillmentOrders")[0]["id"] == ORDER_GID
    (sent,) = stand_in.variables("FulfillmentCreate")
    assert sent == {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1046000790",
                    "fulfillmentOrderLineItems": [
                        {"id": f"gid://shopify/FulfillmentOrderLineItem/{FO_LINE_ITEMS[sku]}", "quantity": 1}
                        for sku in LINE_ITEMS
                    ],
                }
            ],
            "trackingInfo": {
                "number": TRACKING,
                "company": "UPS",
                "url": f"https://www.ups.com/track?tracknum={TRACKING}",
            },
            "notifyCustomer": True,
        }
    }
    request = stand_in.sent[-1][2]
    assert request.headers["X-Shopify-Access-Token"] == SHOPIFY_TOKEN
    delivery = fulfillment_delivery()
    assert delivery.status == Status.DELIVERED
    assert delivery.result["fulfillment_id"] == "gid://shopify/Fulfillment/5936298623038"
    assert delivery.ordering_key == f"order:{shopify_order.number}"
    remote = RemoteFulfillment.objects.get()
    assert (remote.remote_id, remote.tracking_number) == ("gid://shopify/Fulfillment/5936298623038", TRACKING)
    for attempt in DeliveryAttempt.objects.filter(delivery=delivery):
        assert attempt.request_headers["x-shopify-access-token"] == "[redacted]"
        assert SHOPIFY_TOKEN not in json.dumps(attempt.request_headers) + attempt.request_body


def send(delivery) -> Delivery:
    return delivery_send(delivery_id=delivery.pk) or Delivery.objects.get(pk=delivery.pk)


def test_a_retried_fulfilment_adopts_the_one_shopify_already_made(shopify_order, stand_in, clock):
    """Once only on Shopify's side: the create went through but its answer was lost (a 502 from
    a proxy); the retry finds a fulfilment with our tracking number and makes no second one."""
    made = {
        "id": "gid://shopify/Fulfillment/5936298623038",
        "status": "SUCCESS",
        "trackingInfo": [{"number": TRACKING}],
    }
    stand_in.queue("OrderFulfillmentOrders", open_fulfillment_order(), open_fulfillment_order([made]))
    stand_in.queue("FulfillmentCreate", Response("Bad gateway", status=502))
    ship(shopify_order)

    delivery = send(fulfillment_delivery())
    assert delivery.status == Status.PENDING and "502" in delivery.last_error
    clock.moment = delivery.next_attempt_at
    delivery = send(delivery)

    assert delivery.status == Status.DELIVERED
    assert delivery.result == {"fulfillment_id": made["id"], "adopted": True}
    assert stand_in.operations().count("FulfillmentCreate") == 1
    assert RemoteFulfillment.objects.get().remote_id == made["id"]


def test_429_waits_for_retry_after_then_delivers_once(shopify_order, stand_in, clock):
    stand_in.queue(
        "OrderFulfillmentOrders",
        Response("Too many requests", status=429, headers={"Retry-After": "30"}),
        open_fulfillment_order(),
    )
    stand_in.queue("FulfillmentCreate", FULFILLMENT_CREATED)
    ship(shopify_order)

    delivery = send(fulfillment_delivery())
    assert delivery.status == Status.PENDING
    assert delivery.next_attempt_at >= clock.moment + dt.timedelta(seconds=29)
    assert delivery_send(delivery_id=delivery.pk) is None  # not due: nothing sent
    clock.moment += dt.timedelta(seconds=31)
    delivery_sweep()

    assert Delivery.objects.get(pk=delivery.pk).status == Status.DELIVERED
    assert stand_in.operations() == ["OrderFulfillmentOrders", "OrderFulfillmentOrders", "FulfillmentCreate"]


def test_throttled_waits_for_the_bucket_to_refill(shopify_order, stand_in, clock):
    # THROTTLED as Shopify's rate-limits page shows it (HTTP 200, no data): nothing recorded.
    throttled = {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": cost(available=50, requested=300, rate=50.0),
    }
    stand_in.queue("OrderFulfillmentOrders", throttled, open_fulfillment_order())
    stand_in.queue("FulfillmentCreate", FULFILLMENT_CREATED)
    ship(shopify_order)

    delivery = send(fulfillment_delivery())
    assert delivery.status == Status.PENDING and "THROTTLED" in delivery.last_error
    # (300 requested − 50 available) / 50 per second = 5 s at least
    assert delivery.next_attempt_at >= clock.moment + dt.timedelta(seconds=5)
    clock.moment = delivery.next_attempt_at
    assert send(delivery).status == Status.DELIVERED


def test_a_call_that_would_not_fit_the_remembered_budget_waits_unsent(shop, stand_in, clock):
    """The last answer left 40 points, refilling at 50 a second: a 300-point query is put off
    for (300 − 40) / 50 = 5.2 s instead of being sent to be throttled; later it goes."""
    stand_in.queue(
        "Probe",
        {"data": {"shop": {"id": "gid://shopify/Shop/1"}}, "extensions": cost(available=40, rate=50.0)},
    )
    client = ShopifyClient(shop, OutboundHttp())
    client.execute("query Probe { shop { id } }", cost=1)

    with pytest.raises(DeliveryRetry) as waited:
        client.execute("query Probe { shop { id } }", cost=300)
    assert waited.value.after == pytest.approx(5.2)
    assert len(stand_in.sent) == 1

    clock.moment += dt.timedelta(seconds=5.3)
    client.execute("query Probe { shop { id } }", cost=300)
    assert len(stand_in.sent) == 2


def test_500_is_retried_with_backoff_and_then_delivered(shopify_order, stand_in, clock):
    stand_in.queue(
        "OrderFulfillmentOrders", Response("Internal Server Error", status=500), open_fulfillment_order()
    )
    stand_in.queue("FulfillmentCreate", FULFILLMENT_CREATED)
    ship(shopify_order)

    delivery = send(fulfillment_delivery())
    assert delivery.status == Status.PENDING and "500" in delivery.last_error
    assert delivery.next_attempt_at > clock.moment
    clock.moment = delivery.next_attempt_at
    assert send(delivery).status == Status.DELIVERED
    assert stand_in.operations().count("FulfillmentCreate") == 1


def test_a_timeout_is_retried(shopify_order, stand_in, clock):
    def slow(request):
        time.sleep(1.0)
        return Response("late", status=200)

    stand_in.queue("OrderFulfillmentOrders", slow, open_fulfillment_order())
    stand_in.queue("FulfillmentCreate", FULFILLMENT_CREATED)
    ship(shopify_order)

    delivery = send(fulfillment_delivery())
    assert delivery.status == Status.PENDING and "did not answer in time" in delivery.last_error
    time.sleep(0.6)  # let the stand-in finish the abandoned request
    clock.moment = delivery.next_attempt_at
    assert send(delivery).status == Status.DELIVERED


def test_connection_refused_loses_nothing_and_delivers_once_the_shop_is_back(
    shopify_order, shop, stand_in, clock
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    real = shop.base_url
    ShopifyConnection.objects.filter(pk=shop.pk).update(base_url=f"http://127.0.0.1:{closed}")
    stand_in.queue("OrderFulfillmentOrders", open_fulfillment_order())
    stand_in.queue("FulfillmentCreate", FULFILLMENT_CREATED)
    ship(shopify_order)

    delivery = send(fulfillment_delivery())
    assert delivery.status == Status.PENDING and "Could not reach" in delivery.last_error
    ShopifyConnection.objects.filter(pk=shop.pk).update(base_url=real)  # the shop is back
    clock.moment += dt.timedelta(hours=1)
    delivery_sweep()

    assert Delivery.objects.get(pk=delivery.pk).status == Status.DELIVERED
    assert stand_in.operations() == ["OrderFulfillmentOrders", "FulfillmentCreate"]


def test_401_pauses_the_connection_marks_it_and_alerts_managers(
    shopify_order, shop, stand_in, django_capture_on_commit_callbacks
):
    stand_in.queue(
        "OrderFulfillmentOrders",
        Response(
            '{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}',
            status=401,
        ),
    )
    ship(shopify_order)

    with django_capture_on_commit_callbacks(execute=True):
        delivery = send(fulfillment_delivery())

    assert delivery.status == Status.PAUSED
    shop.refresh_from_db()
    assert shop.credentials_refused_at is not None and "Invalid API key" in shop.credentials_refused_reason
    assert shop.status_label == "credentials refused"
    assert "credentials refused" in mail.outbox[-1].subject
    assert "Shopify store" in mail.outbox[-1].subject


def test_user_errors_make_the_delivery_dead_with_shopifys_message(shopify_order, stand_in):
    stand_in.queue("OrderFulfillmentOrders", open_fulfillment_order())
    stand_in.queue("FulfillmentCreate", FULFILLMENT_REFUSED)
    ship(shopify_order)

    delivery = send(fulfillment_delivery())

    assert delivery.status == Status.DEAD
    assert "Fulfillment order does not exist." in delivery.last_error
    assert stand_in.operations().count("FulfillmentCreate") == 1  # not retried


def test_top_level_errors_without_data_are_dead_not_retried(shopify_order, stand_in):
    stand_in.queue("OrderFulfillmentOrders", INVALID_INPUT)
    ship(shopify_order)

    delivery = send(fulfillment_delivery())

    assert delivery.status == Status.DEAD
    assert "was provided invalid value" in delivery.last_error
    assert len(stand_in.sent) == 1


def test_a_shipment_shopify_cant_take_at_the_mapped_location_is_dead_with_the_reason(shopify_order, stand_in):
    elsewhere = fulfillment_orders(
        ORDER_GID,
        [
            fulfillment_order(
                1, "gid://shopify/Location/999", [(FO_LINE_ITEMS[s], LINE_ITEMS[s], 1) for s in LINE_ITEMS]
            )
        ],
    )
    stand_in.queue("OrderFulfillmentOrders", elsewhere)
    ship(shopify_order)

    delivery = send(fulfillment_delivery())

    assert delivery.status == Status.DEAD
    assert f"no open fulfillment order at {LOCATION}" in delivery.last_error
    assert "FulfillmentCreate" not in stand_in.operations()


def test_a_corrected_tracking_number_updates_shopifys_fulfilment(
    shopify_order, stand_in, django_capture_on_commit_callbacks
):
    stand_in.queue("OrderFulfillmentOrders", open_fulfillment_order())
    stand_in.queue("FulfillmentCreate", FULFILLMENT_CREATED)
    # fulfillmentTrackingInfoUpdate: no recording exists; the documented payload shape.
    stand_in.queue(
        "FulfillmentTrackingInfoUpdate",
        {
            "data": {
                "fulfillmentTrackingInfoUpdate": {
                    "fulfillment": {
                        "id": "gid://shopify/Fulfillment/5936298623038",
                        "trackingInfo": [
                            {"number": "1Z999AA10123456785", "company": "UPS", "url": "https://x"}
                        ],
                    },
                    "userErrors": [],
                }
            },
            "extensions": cost(),
        },
    )
    shipment = ship(shopify_order, capture=django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        shipment_tracking_change(
            shipment_id=shipment.pk, tracking_number="1Z999AA10123456785", reason="Relabelled"
        )

    (sent,) = stand_in.variables("FulfillmentTrackingInfoUpdate")
    assert sent == {
        "fulfillmentId": "gid://shopify/Fulfillment/5936298623038",
        "trackingInfoInput": {
            "number": "1Z999AA10123456785",
            "company": "UPS",
            "url": "https://www.ups.com/track?tracknum=1Z999AA10123456785",
        },
        "notifyCustomer": True,
    }
    assert Delivery.objects.get(topic="shopify.tracking").status == Status.DELIVERED
    assert RemoteFulfillment.objects.get().tracking_number == "1Z999AA10123456785"


def order_cancel_answer(order_gid=ORDER_GID):
    """orderCancel: no recording exists; Shopify's documented payload (job, orderCancelUserErrors)."""
    return {
        "data": {
            "orderCancel": {"job": {"id": "gid://shopify/Job/1", "done": False}, "orderCancelUserErrors": []}
        },
        "extensions": cost(),
    }


@pytest.fixture
def allocated_shopify_order(client, shop, warehouse):
    for sku in LINE_ITEMS:
        stock_put(ProductFactory(sku=sku), warehouse, 5)
    send_shopify(client, fixture_bytes("shopify/shopify_python_api__order.json"))
    order = Order.objects.get(external_id="450789469")
    return order_release_hold(order_id=order.pk)


def test_a_cancellation_here_cancels_the_order_in_shopify(
    allocated_shopify_order, shop, stand_in, django_capture_on_commit_callbacks
):
    shop.cancel_refund, shop.cancel_restock, shop.notify_customer = False, True, False
    shop.save()
    stand_in.queue(
        "OrderCancelled", {"data": {"order": {"id": ORDER_GID, "cancelledAt": None}}, "extensions": cost()}
    )
    stand_in.queue("OrderCancel", order_cancel_answer())

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=allocated_shopify_order.pk, reason="Customer changed their mind")

    (sent,) = stand_in.variables("OrderCancel")
    assert sent == {
        "orderId": ORDER_GID,
        "notifyCustomer": False,
        "refundMethod": {"originalPaymentMethodsRefund": False},
        "restock": True,
        "reason": "OTHER",
        "staffNote": f"Cancelled in the OMS ({allocated_shopify_order.number}): Customer changed their mind",
    }
    delivery = Delivery.objects.get(topic="shopify.cancel")
    assert delivery.status == Status.DELIVERED and delivery.result["job_id"] == "gid://shopify/Job/1"


def test_an_order_shopify_already_cancelled_is_not_cancelled_twice(allocated_shopify_order, stand_in):
    stand_in.queue(
        "OrderCancelled",
        {"data": {"order": {"id": ORDER_GID, "cancelledAt": "2026-03-18T12:00:00Z"}}, "extensions": cost()},
    )
    order_cancel(order_id=allocated_shopify_order.pk, reason="Out of stock")

    delivery = send(Delivery.objects.get(topic="shopify.cancel"))

    assert delivery.status == Status.DELIVERED
    assert stand_in.operations() == ["OrderCancelled"]


def test_a_cancellation_that_came_from_shopify_is_not_echoed_back(client, allocated_shopify_order, stand_in):
    body = fixture_bytes("shopify/shopify_python_api__order.json")
    send_shopify(client, body, delivery="cancel-1", topic="orders/cancelled")

    assert outcome_of("cancel-1") == "cancelled"
    assert Order.objects.get(pk=allocated_shopify_order.pk).status == Order.Status.CANCELLED
    assert not Delivery.objects.filter(topic="shopify.cancel").exists()


def test_a_channel_without_credentials_is_not_connected_and_hears_nothing(shopify_order, shop, stand_in):
    shop.access_token = ""
    shop.save()  # forgets the cached channel plans
    assert shop.status_label == "not connected"
    ship(shopify_order)

    assert not Delivery.objects.exists()
    assert stand_in.sent == []


def test_the_token_is_encrypted_at_rest(shop):
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM connectors_shopifyconnection WHERE id = %s", [shop.pk])
        (stored,) = cursor.fetchone()
    assert SHOPIFY_TOKEN not in stored and stored.startswith("fernet:")
    assert ShopifyConnection.objects.get(pk=shop.pk).access_token == SHOPIFY_TOKEN


def test_plain_http_is_refused_except_to_this_machine(shop, settings):
    from django.core.exceptions import ValidationError

    settings.DEBUG = False
    shop.base_url = "http://shopify-stand-in.example.net"
    with pytest.raises(ValidationError, match="plain HTTP"):
        shop.full_clean()
    with pytest.raises(ValueError, match="plain HTTP"):
        shop.api_base()  # checked again when sending
    shop.base_url = "http://127.0.0.1:8080"
    shop.full_clean()
    settings.DEBUG = True
    shop.base_url = "http://shopify-stand-in.example.net"
    shop.full_clean()
