"""check_inventory exits non-zero and names the item when stock drifts from the ledger."""

import pytest
from django.core.management import CommandError, call_command

from inventory.models import StockItem
from orders.models import OrderLine
from orders.services import order_capture

pytestmark = pytest.mark.django_db


def test_consistent_stock_passes(channel, stocked_product, order_input, capsys):
    order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    call_command("check_inventory")
    assert "consistent" in capsys.readouterr().out


def test_on_hand_drift_is_caught(stocked_product, capsys):
    StockItem.objects.filter(product=stocked_product).update(on_hand=7)
    with pytest.raises(CommandError, match="1 inventory discrepanc"):
        call_command("check_inventory")
    assert "WIDGET-1 @ MAIN/A-01-1: on hand 7 but ledger sums to 10" in capsys.readouterr().err


def test_reserved_drift_is_caught(channel, stocked_product, order_input, capsys):
    order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    StockItem.objects.filter(product=stocked_product).update(reserved=1)
    with pytest.raises(CommandError):
        call_command("check_inventory")
    err = capsys.readouterr().err
    assert "reserved 1 but active reservations sum to 2" in err
    assert "ordered 2, reserved 2 + shipped 0" not in err


def test_order_line_drift_is_caught(channel, stocked_product, order_input, capsys):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    OrderLine.objects.filter(order=order).update(quantity=3)
    with pytest.raises(CommandError):
        call_command("check_inventory")
    assert f"order {order.number} line WIDGET-1: ordered 3, reserved 2 + shipped 0" in capsys.readouterr().err


def test_database_refuses_reserved_above_on_hand(stocked_product):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(product=stocked_product).update(reserved=11)


def test_stale_reservation_of_a_cancelled_order_is_reported(channel, stocked_product, order_input, capsys):
    from inventory.models import Reservation
    from orders.models import Order

    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 3, "25.00")]))
    # An order cancelled behind the services' back keeps its reservation: a stale one.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    with pytest.raises(CommandError):
        call_command("check_inventory")
    assert f"order {order.number} is cancelled but still holds 3 reserved units" in capsys.readouterr().err
    assert Reservation.objects.filter(status="active").count() == 1
