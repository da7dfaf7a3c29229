"""The main path from capture to refund leaves exact stock numbers and a full timeline."""

from decimal import Decimal

import pytest
from django.core import mail

from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from inventory.models import StockItem
from inventory.selectors import stock_list_discrepancies
from orders.models import Order, OrderEvent
from orders.services import order_cancel, order_capture
from returns.services import (
    return_request_approve,
    return_request_create,
    return_request_inspect,
    return_request_receive,
    return_request_refund,
)

pytestmark = pytest.mark.django_db


def stock(product):
    item = StockItem.objects.get(product=product)
    return item.on_hand, item.reserved


def test_clean_order_is_allocated_and_reserves_stock(
    channel, stocked_product, order_input, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 3, "25.00")]))

    assert order.status == Order.Status.ALLOCATED
    assert order.total == Decimal("75.00")
    assert stock(stocked_product) == (10, 3)
    assert list(order.events.values_list("kind", flat=True)) == [
        "captured",
        "verified",
        "allocated",
        "email",
    ]
    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].subject
    assert "/track/o/" in mail.outbox[0].body


def test_full_path_to_refund_leaves_exact_stock(channel, stocked_product, service_level, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    assert shipment.service_level == service_level
    assert shipment.estimated_delivery is not None

    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk, tracking_number="1Z999")
    assert stock(stocked_product) == (8, 0)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.lines.get().quantity_shipped == 2

    shipment_deliver(shipment_id=shipment.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED

    line = order.lines.get()
    rr = return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="damaged")
    return_request_approve(return_id=rr.pk)
    return_request_receive(return_id=rr.pk)
    return_request_inspect(return_id=rr.pk)
    assert stock(stocked_product) == (9, 0)
    refund = return_request_refund(return_id=rr.pk)
    assert refund.amount == Decimal("25.00")
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert stock_list_discrepancies() == []


def test_cancel_releases_reservation(channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 4, "25.00")]))
    assert stock(stocked_product) == (10, 4)
    order_cancel(order_id=order.pk, reason="Customer changed their mind")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert stock(stocked_product) == (10, 0)
    assert order.events.filter(kind=OrderEvent.Kind.CANCELLED, visible_to_customer=True).exists()


def test_order_short_of_stock_is_backordered(channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 11, "25.00")]))
    assert order.status == Order.Status.BACKORDERED
    assert stock(stocked_product) == (10, 0)


def test_failing_rules_hold_with_every_reason(channel, stocked_product, order_input):
    data = order_input(lines=[("NOPE", 1, "5.00")], payment_status="pending")
    data.shipping_address.postal_code = "ABC"
    order = order_capture(channel=channel, data=data)
    assert order.status == Order.Status.ON_HOLD
    assert set(order.holds.values_list("reason", flat=True)) == {"address", "unknown_sku", "payment"}
