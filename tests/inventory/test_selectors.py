"""inventory.selectors: stock that drifted from its ledger or its reservations (reported by
check_inventory, exiting non-zero), and items at or below their reorder point."""

import pytest
from django.core.management import CommandError, call_command

from inventory.models import StockItem
from inventory.selectors import stock_list_low
from orders.services import order_capture

pytestmark = pytest.mark.django_db


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


def test_low_means_available_at_or_below_reorder_point(stock, channel, order_input):
    from orders.services import order_capture

    assert [i.product.sku for i in stock_list_low()] == ["LOW"]
    # Reserving one of OK's units takes its available to the reorder point.
    order_capture(channel=channel, data=order_input(lines=[("OK", 1, "1.00")]))
    assert [i.product.sku for i in stock_list_low()] == ["LOW", "OK"]
