"""Services refuse what the state machine refuses, and leave nothing half-done."""

from decimal import Decimal

import pytest

from fulfillment.exceptions import ShipmentTransitionError
from fulfillment.services import order_start_fulfillment, shipment_pack, shipment_ship
from inventory.models import StockItem
from orders.exceptions import CaptureError, DuplicateOrder, OrderTransitionError
from orders.models import Order
from orders.services import order_allocate_now, order_cancel, order_capture, order_release_hold

pytestmark = pytest.mark.django_db


def test_shipped_order_cannot_be_cancelled(channel, stocked_product, service_level, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk)
    with pytest.raises(OrderTransitionError, match="shipped: can't cancel"):
        order_cancel(order_id=order.pk)
    assert StockItem.objects.get().on_hand == 9


def test_unpacked_shipment_cannot_ship(channel, stocked_product, service_level, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    with pytest.raises(ShipmentTransitionError, match="can't ship"):
        shipment_ship(shipment_id=shipment.pk)
    item = StockItem.objects.get()
    assert (item.on_hand, item.reserved) == (10, 1)


def test_capture_rejects_malformed_data_without_writing(channel, order_input):
    data = order_input(lines=[("WIDGET-1", 0, "-1.00")], currency="dollars")
    with pytest.raises(CaptureError) as info:
        order_capture(channel=channel, data=data)
    assert set(info.value.errors) == {"lines[0].quantity", "lines[0].unit_price", "currency"}
    assert not Order.objects.exists()


def test_same_external_id_is_captured_once(channel, stocked_product, order_input):
    first = order_capture(
        channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], external_id="X1")
    )
    with pytest.raises(DuplicateOrder) as info:
        order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], external_id="X1"))
    assert info.value.order == first
    assert Order.objects.count() == 1
    assert StockItem.objects.get().reserved == 1


def test_release_rechecks_and_rehold_when_the_problem_remains(channel, stocked_product, order_input):
    order = order_capture(
        channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], payment_status="pending")
    )
    assert order.status == Order.Status.ON_HOLD
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ON_HOLD
    assert order.holds.filter(released_at__isnull=True, reason="payment").count() == 1


def test_released_review_hold_is_not_raised_again(channel, stocked_product, order_input, settings):
    settings.OMS = {**settings.OMS, "MAX_LINE_QUANTITY": 2}
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 3, "25.00")]))
    assert list(order.holds.values_list("reason", flat=True)) == ["limit"]
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ALLOCATED
    assert StockItem.objects.get().reserved == 3


def test_backordered_order_allocates_once_stock_arrives(channel, stocked_product, warehouse, order_input):
    from tests.factories import stock_put

    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 12, "25.00")]))
    assert order.status == Order.Status.BACKORDERED
    stock_put(stocked_product, warehouse, 5)
    order = order_allocate_now(order_id=order.pk)
    assert order.status == Order.Status.ALLOCATED
    item = StockItem.objects.get()
    assert (item.on_hand, item.reserved) == (15, 12)
    assert order.total == Decimal("300.00")
