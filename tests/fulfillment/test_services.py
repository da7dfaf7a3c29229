"""fulfillment.services: the whole path from allocation to delivered through the pick list, the
packing station and the carrier webhook, with the customer's e-mails; a shipment ships only
once packed."""

import pytest
from django.core import mail
from django.urls import reverse

from connectors.easypost.signature import easypost_signature
from fulfillment.exceptions import ShipmentTransitionError
from fulfillment.models import Shipment
from fulfillment.services import order_start_fulfillment, shipment_ship
from inventory.models import StockItem
from inventory.selectors import stock_list_discrepancies
from orders.models import Order, OrderEvent
from orders.services import order_capture

pytestmark = pytest.mark.django_db


def test_allocation_to_delivered_through_pick_list_station_and_webhook(
    warehouse, catalog, service_level, channel, order_input, staff_client, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.EASYPOST_WEBHOOK_SECRET = "whsec"
    with django_capture_on_commit_callbacks(execute=True):
        order = order_capture(
            channel=channel,
            data=order_input(lines=[("MUG-1", 2, "12.00"), ("TEA-1", 1, "4.00")], customer_name="Ada O'Neil"),
        )
    assert order.status == Order.Status.ALLOCATED
    confirmation = mail.outbox[-1]
    assert "Expected delivery" in confirmation.body and "UPS Ground" in confirmation.body
    assert "O'Neil" in confirmation.body  # plain text is not HTML-escaped
    assert confirmation.alternatives and "O&#x27;Neil" in confirmation.alternatives[0][0]
    (shipment,) = order_start_fulfillment(order_id=order.pk)

    response = staff_client.post(reverse("admin:fulfillment_picklist_add"), {"warehouse": warehouse.pk})
    assert response.status_code == 302
    pack = reverse("admin:fulfillment_shipment_pack", args=[shipment.pk])
    for code in ["5000000000011", "TEA-1", "5000000000011"]:
        staff_client.post(pack, {"code": code})
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED

    ship = reverse("admin:fulfillment_shipment_object_action", args=[shipment.pk, "ship"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(ship, {"tracking_number": " 1Z999AA10123456784 "})
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert (shipment.status, shipment.tracking_number) == (Shipment.Status.SHIPPED, "1Z999AA10123456784")
    assert order.status == Order.Status.SHIPPED
    assert StockItem.objects.get(product=catalog["MUG-1"]).on_hand == 498
    shipped_mail = mail.outbox[-1]
    assert (
        "UPS" in shipped_mail.body
        and "https://www.ups.com/track?tracknum=1Z999AA10123456784" in shipped_mail.body
    )
    assert "Estimated delivery" in shipped_mail.body and "2 x Mug" in shipped_mail.body

    body = (
        b'{"description": "tracker.updated", "result": {"object": "Tracker", "tracking_code": '
        b'"1Z999AA10123456784", "carrier": "UPS", "tracking_details": ['
        b'{"status": "in_transit", "datetime": "2030-01-02T10:00:00Z", "message": "Departed"},'
        b'{"status": "delivered", "datetime": "2030-01-03T10:00:00Z", "message": "Front door"}]}}'
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/webhooks/carriers/easypost",
            body,
            content_type="application/json",
            headers={"X-Hmac-Signature": easypost_signature(body=body, secret="whsec")},
        )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert "has been delivered" in mail.outbox[-1].subject
    assert stock_list_discrepancies() == []
    sent = order.events.filter(kind=OrderEvent.Kind.EMAIL).values_list("message", flat=True)
    assert [m.split("]")[0] for m in sent] == ["E-mail [confirmation", "E-mail [shipped", "E-mail [delivered"]


def test_unpacked_shipment_cannot_ship(channel, stocked_product, service_level, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    with pytest.raises(ShipmentTransitionError, match="can't ship"):
        shipment_ship(shipment_id=shipment.pk)
    item = StockItem.objects.get()
    assert (item.on_hand, item.reserved) == (10, 1)
