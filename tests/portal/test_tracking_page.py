"""The customer tracking lookup and order page."""

import pytest
from django.urls import reverse

from fulfillment.models import Shipment, ShipmentLine, TrackingEvent
from orders.links import order_tracking_token
from orders.models import Order, OrderEvent
from tests.factories import OrderFactory, OrderLineFactory, ServiceLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = b"couldn&#x27;t find an order with that number and e-mail"


def lookup(client, number, email):
    return client.post(reverse("portal:lookup"), {"number": number, "email": email}, follow=True)


def test_right_number_and_email_open_the_order(client):
    order = OrderFactory(status=Order.Status.ALLOCATED, email="Ada@Example.com")
    OrderLineFactory(order=order, name="Blue widget", quantity=2)
    response = lookup(client, order.number.lower(), "ada@example.com")
    assert response.status_code == 200
    assert order.number.encode() in response.content
    assert b"Blue widget" in response.content
    assert b"waiting to be picked" in response.content


@pytest.mark.parametrize("which", ["number", "email"])
def test_wrong_number_and_wrong_email_look_the_same(client, which):
    order = OrderFactory(email="ada@example.com", status=Order.Status.SHIPPED)
    OrderLineFactory(order=order, name="Blue widget")
    number = "SO-NOPE1234" if which == "number" else order.number
    email = "eve@example.com" if which == "email" else "ada@example.com"
    response = lookup(client, number, email)
    assert response.status_code == 200
    assert NOT_FOUND in response.content
    assert b"Blue widget" not in response.content
    assert b"on its way" not in response.content


def test_forged_or_missing_token_shows_nothing(client):
    order = OrderFactory()
    response = client.get(reverse("portal:order", args=[order.number]))
    assert response.status_code == 404
    token = order_tracking_token(order_number=order.number)
    response = client.get(reverse("portal:order", args=[token[:-2] + "xx"]))
    assert response.status_code == 404


def _order_with(lines, events):
    order = OrderFactory(status=Order.Status.SHIPPED)
    warehouse = WarehouseFactory(code="MAIN")
    shipment = Shipment.objects.create(
        number=f"{order.number}-1",
        order=order,
        warehouse=warehouse,
        service_level=ServiceLevelFactory(),
        tracking_number="1ZTRACK",
    )
    for i in range(lines):
        line = OrderLineFactory(order=order, name=f"Item {i}")
        ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=1)
    import datetime as dt

    from django.utils import timezone

    for i in range(events):
        OrderEvent.objects.create(order=order, kind="note", message=f"public {i}", visible_to_customer=True)
        OrderEvent.objects.create(order=order, kind="note", message=f"internal {i}")
        TrackingEvent.objects.create(
            shipment=shipment,
            tracking_number="1ZTRACK",
            status="in_transit",
            carrier_status=f"S{i}",
            description=f"Scan {i}",
            occurred_at=timezone.now() - dt.timedelta(hours=i),
        )
    return order


def test_order_page_shows_shipment_tracking_and_only_public_events(client):
    order = _order_with(lines=2, events=2)
    response = client.get(reverse("portal:order", args=[order_tracking_token(order_number=order.number)]))
    body = response.content.decode()
    assert "1ZTRACK" in body
    assert "https://www.ups.com/track?tracknum=1ZTRACK" in body
    assert "public 1" in body and "Scan 1" in body
    assert "internal" not in body


def test_order_page_query_count_does_not_grow(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 12):
        order = _order_with(lines=size, events=size)
        url = reverse("portal:order", args=[order_tracking_token(order_number=order.number)])
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count("Item ") >= size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
