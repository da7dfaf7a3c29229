"""PATCH /api/v1/orders/{number}: a shop's backend edits its order through the API."""

import json

import pytest
from django.core import mail

from fulfillment.picking import pick_list_create
from fulfillment.services import order_start_fulfillment
from intake.keys import channel_api_key_create
from intake.models import IdempotencyRecord, InboundRequest
from inventory.models import StockItem
from orders.models import Order, OrderEvent
from tests.factories import ChannelFactory

from .conftest import order_body

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders"


def create(client, auth, **overrides) -> Order:
    response = client.post(
        URL, data=json.dumps(order_body(**overrides)), content_type="application/json", **auth
    )
    assert response.status_code == 201, response.content
    return Order.objects.get(number=response.json()["number"])


def patch(client, order, body, auth, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.patch(
        f"{URL}/{order.number}", data=data, content_type="application/json", **auth, **headers
    )


LINES = [  # the order_body lines, with one more GADGET-2 and a GIZMO-3 added
    {"sku": "WIDGET-1", "quantity": 2},
    {"sku": "GADGET-2", "quantity": 2},
    {"sku": "GIZMO-3", "quantity": 1, "unit_price": "4.50"},
]


def test_an_edit_changes_the_order_and_says_what_changed(
    client, auth, widgets, service_level, django_capture_on_commit_callbacks
):
    order = create(client, auth)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = patch(
            client, order, {"lines": LINES, "payment_collected": True, "reason": "customer asked"}, auth
        )

    assert response.status_code == 200, response.content
    reply = response.json()
    assert reply["changed"] is True and reply["status"] == "allocated"
    assert reply["total"] == "84.47"  # items 60.00 -> 74.50; tax keeps its share: 4.00 -> 4.97; shipping 5
    assert [(ln["sku"], ln["quantity"]) for ln in reply["lines"]] == [
        ("WIDGET-1", 2),
        ("GADGET-2", 2),
        ("GIZMO-3", 1),
    ]
    kinds = {(c["change"], c["sku"][1]) for c in reply["change"]["lines"]}
    assert kinds == {("changed", "GADGET-2"), ("added", "GIZMO-3")}
    assert reply["change"]["money"]["difference"] == "15.47"
    assert StockItem.objects.get(product__sku="GIZMO-3").reserved == 1
    (event,) = Order.objects.get(pk=order.pk).events.filter(kind=OrderEvent.Kind.EDITED)
    assert "customer asked" in event.message
    assert len(mail.outbox) == 1
    inbound = InboundRequest.objects.filter(topic__startswith="PATCH").get()
    assert (inbound.outcome, inbound.order_id, inbound.response_status) == ("edited", order.pk, 200)


def test_a_new_address_and_speed_and_no_email(client, auth, widgets):
    order = create(client, auth)
    mail.outbox.clear()
    address = {
        **order_body()["shipping_address"],
        "line1": "1 Office Park",
        "city": "Boston",
        "postal_code": "02110",
    }

    response = patch(
        client,
        order,
        {"shipping_address": address, "shipping_speed": "overnight", "notify_customer": False},
        auth,
    )

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.shipping_address.city, order.shipping_speed) == ("Boston", "overnight")
    assert mail.outbox == []


def test_sending_the_same_edit_again_changes_nothing(client, auth, widgets):
    order = create(client, auth)
    body = {"lines": LINES, "payment_collected": True}
    assert patch(client, order, body, auth).json()["changed"] is True

    again = patch(client, order, body, auth)

    assert again.status_code == 200 and again.json()["changed"] is False
    assert Order.objects.get(pk=order.pk).events.filter(kind=OrderEvent.Kind.EDITED).count() == 1


def test_an_idempotency_key_replays_the_first_reply_and_refuses_another_body(client, auth, widgets):
    order = create(client, auth)
    body = {"lines": LINES, "payment_collected": True}
    first = patch(client, order, body, auth, HTTP_IDEMPOTENCY_KEY="edit-1")

    replay = patch(client, order, body, auth, HTTP_IDEMPOTENCY_KEY="edit-1")
    other = patch(client, order, {"shipping_speed": "standard"}, auth, HTTP_IDEMPOTENCY_KEY="edit-1")

    assert replay.status_code == 200 and replay.json() == first.json()
    assert other.status_code == 409
    assert IdempotencyRecord.objects.filter(key="edit-1").count() == 1
    assert Order.objects.get(pk=order.pk).events.filter(kind=OrderEvent.Kind.EDITED).count() == 1


def test_409_once_the_order_is_being_picked(client, auth, widgets, warehouse, service_level):
    order = create(client, auth)
    order_start_fulfillment(order_id=order.pk)
    pick_list_create(warehouse_id=warehouse.pk)

    response = patch(client, order, {"lines": LINES}, auth)

    assert response.status_code == 409
    assert "is being picked" in response.json()["detail"]
    inbound = InboundRequest.objects.filter(topic__startswith="PATCH").get()
    assert (inbound.outcome, inbound.response_status) == ("invalid", 409)


def test_422_names_what_is_wrong(client, auth, widgets):
    order = create(client, auth)

    unknown = patch(client, order, {"lines": [*LINES, {"sku": "NOPE-1", "quantity": 1}]}, auth)
    malformed = patch(client, order, {"lines": [{"sku": "WIDGET-1", "quantity": -1}]}, auth)

    assert unknown.status_code == 422 and "lines[3].sku" in unknown.json()["errors"]
    assert malformed.status_code == 422 and "lines.0.quantity" in malformed.json()["errors"]


def test_another_channels_order_is_not_found(client, auth, widgets):
    order = create(client, auth)
    _, other_key = channel_api_key_create(channel=ChannelFactory(code="other", name="Other"))

    response = patch(
        client, order, {"shipping_speed": "standard"}, {"HTTP_AUTHORIZATION": f"Bearer {other_key}"}
    )

    assert response.status_code == 404


def test_the_edit_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json()
    operation = doc["paths"]["/api/v1/orders/{number}"]["patch"]
    assert operation["operationId"] == "orders_api_edit_order"
    assert {"200", "404", "409", "422"} <= set(operation["responses"])
    assert "Idempotency-Key" in {p["name"] for p in operation["parameters"]}
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("OrderEditIn")
