"""check_inventory exits non-zero with a readable list when stock drifts from the ledger."""

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Reservation, StockItem
from orders.models import Order
from orders.services import order_capture

pytestmark = pytest.mark.django_db


def run(capsys):
    call_command("check_inventory")
    return capsys.readouterr()


def test_consistent_stock_passes(channel, stocked_product, order_input, capsys):
    order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 3, "25.00")]))
    assert "Inventory is consistent" in run(capsys).out


def test_on_hand_drift_is_reported(stocked_product, capsys):
    StockItem.objects.filter(product=stocked_product).update(on_hand=12)
    with pytest.raises(CommandError, match="1 inventory discrepancies"):
        run(capsys)
    assert "WIDGET-1 @ MAIN/A-01-1: on hand 12 but ledger sums to 10" in capsys.readouterr().err


def test_reservation_drift_and_stale_reservations_are_reported(channel, stocked_product, order_input, capsys):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 3, "25.00")]))
    StockItem.objects.filter(product=stocked_product).update(reserved=1)
    # An order cancelled behind the services' back keeps its reservation: a stale one.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    with pytest.raises(CommandError):
        run(capsys)
    err = capsys.readouterr().err
    assert "reserved 1 but active reservations sum to 3" in err
    assert f"order {order.number} is cancelled but still holds 3 reserved units" in err
    assert Reservation.objects.filter(status="active").count() == 1
