"""orders.selectors, as check_inventory reports them (exiting non-zero): order lines whose reserved
and shipped units don't add up to what was ordered, and reservations of orders that should hold
none. Stock against its own ledger: tests/inventory/test_selectors.py."""

import pytest
from django.core.management import CommandError, call_command

from orders.models import OrderLine
from orders.services import order_capture

pytestmark = pytest.mark.django_db


def test_consistent_stock_passes(channel, stocked_product, order_input, capsys):
    order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    call_command("check_inventory")
    assert "consistent" in capsys.readouterr().out


def test_order_line_drift_is_caught(channel, stocked_product, order_input, capsys):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    OrderLine.objects.filter(order=order).update(quantity=3)
    with pytest.raises(CommandError):
        call_command("check_inventory")
    assert f"order {order.number} line WIDGET-1: ordered 3, reserved 2 + shipped 0" in capsys.readouterr().err


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
