"""Capturing an order the sales channel had already fulfilled, wholly or in part: what it shipped
is recorded as shipped and never reserved (invariant 3 holds), only the rest goes on, and the
timeline says what was fulfilled where."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command

from fulfillment.services import order_start_fulfillment, shipment_pack, shipment_ship
from inventory.models import Reservation, StockItem
from orders.exceptions import CaptureError
from orders.models import Order, OrderHold
from orders.selectors import order_line_list_discrepancies
from orders.services import order_capture
from tests.factories import ProductFactory, stock_put

pytestmark = pytest.mark.django_db


@pytest.fixture
def gadget(warehouse):
    product = ProductFactory(sku="GADGET-2", price=Decimal("10.00"))
    stock_put(product, warehouse, 10)
    return product


def fulfilled(data, **per_sku):
    for line in data.lines:
        line.quantity_fulfilled_elsewhere = per_sku.get(line.sku.replace("-", "_"), 0)
        line.fulfilled_elsewhere_detail = (
            "fulfillment #7, tracking 1Z2345" if line.quantity_fulfilled_elsewhere else ""
        )
    data.fulfilled_by = "Shopify"
    return data


def test_an_order_fulfilled_on_the_channel_is_captured_shipped_without_touching_stock(
    channel, stocked_product, gadget, order_input, django_capture_on_commit_callbacks
):
    data = fulfilled(
        order_input(lines=[("WIDGET-1", 2, "25.00"), ("GADGET-2", 1, "10.00")]), WIDGET_1=2, GADGET_2=1
    )

    with django_capture_on_commit_callbacks(execute=True):
        order = order_capture(channel=channel, data=data)

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.shipped_at is None  # it times our shipping (lead-time KPIs), not the channel's
    assert [(ln.quantity_shipped, ln.quantity_fulfilled_elsewhere) for ln in order.lines.all()] == [
        (2, 2),
        (1, 1),
    ]
    assert not Reservation.objects.exists()
    assert [(i.on_hand, i.reserved) for i in StockItem.objects.order_by("pk")] == [(10, 0), (10, 0)]
    assert not order.shipments.exists()
    note = order.events.get(kind="note").message
    assert note == (
        "2 × WIDGET-1 fulfilled on Shopify (fulfillment #7, tracking 1Z2345); "
        "1 × GADGET-2 fulfilled on Shopify (fulfillment #7, tracking 1Z2345); "
        "not shipped from our warehouses."
    )
    shipped = order.events.get(kind="shipped")
    assert (shipped.from_status, shipped.to_status, shipped.visible_to_customer) == (
        "pending",
        "shipped",
        True,
    )
    assert not mail.outbox  # the channel dealt with the customer
    assert order_line_list_discrepancies() == []
    call_command("check_inventory")


def test_a_partly_fulfilled_order_reserves_and_ships_only_the_rest(
    channel, stocked_product, gadget, service_level, order_input
):
    data = fulfilled(order_input(lines=[("WIDGET-1", 3, "25.00"), ("GADGET-2", 1, "10.00")]), WIDGET_1=2)

    order = order_capture(channel=channel, data=data)

    assert order.status == Order.Status.ALLOCATED
    assert StockItem.objects.get(product=stocked_product).reserved == 1
    assert StockItem.objects.get(product=gadget).reserved == 1
    assert order_line_list_discrepancies() == []
    assert "2 × WIDGET-1 fulfilled on Shopify" in order.events.get(kind="note").message

    (shipment,) = order_start_fulfillment(order_id=order.pk)
    assert sorted((sl.order_line.sku, sl.quantity) for sl in shipment.lines.all()) == [
        ("GADGET-2", 1),
        ("WIDGET-1", 1),
    ]
    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk)

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    lines = {ln.sku: ln for ln in order.lines.all()}
    assert (lines["WIDGET-1"].quantity_shipped, lines["WIDGET-1"].quantity_fulfilled_elsewhere) == (3, 2)
    assert StockItem.objects.get(product=stocked_product).on_hand == 9  # one unit left our warehouse
    assert order_line_list_discrepancies() == []


def test_a_line_fulfilled_on_the_channel_needs_no_product_of_ours(channel, stocked_product, order_input):
    data = fulfilled(order_input(lines=[("WIDGET-1", 1, "25.00"), ("THEIRS-9", 1, "5.00")]), THEIRS_9=1)

    order = order_capture(channel=channel, data=data)

    assert order.status == Order.Status.ALLOCATED  # not held for a SKU we will never ship
    assert not OrderHold.objects.exists()


def test_holds_still_apply_to_what_is_left_to_ship(channel, stocked_product, gadget, order_input):
    data = fulfilled(
        order_input(lines=[("WIDGET-1", 2, "25.00"), ("GADGET-2", 1, "10.00")], payment_status="pending"),
        WIDGET_1=2,
    )

    order = order_capture(channel=channel, data=data)

    assert order.status == Order.Status.ON_HOLD
    assert [h.reason for h in order.holds.all()] == ["payment"]
    assert not Reservation.objects.exists()


def test_more_units_fulfilled_than_ordered_is_refused(channel, stocked_product, order_input):
    data = fulfilled(order_input(lines=[("WIDGET-1", 1, "25.00")]), WIDGET_1=2)

    with pytest.raises(CaptureError) as refused:
        order_capture(channel=channel, data=data)

    assert "lines[0].quantity_fulfilled_elsewhere" in refused.value.errors
