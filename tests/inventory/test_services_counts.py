"""inventory.services.counts: adjustments, counts and transfers, each a ledger movement with a
kind, reference, reason and actor."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from inventory.exceptions import StockMovementRefused
from inventory.models import StockItem, StockMovement
from inventory.selectors import stock_list_discrepancies
from inventory.services import stock_adjust, stock_count_record, stock_transfer
from tests.factories import ProductFactory, UserFactory, WarehouseFactory, stock_put

pytestmark = pytest.mark.django_db


def test_adjustment_needs_a_reason_code_and_records_who_and_why(item):
    user = UserFactory()
    with pytest.raises(StockMovementRefused, match="reason code"):
        stock_adjust(stock_item_id=item.pk, quantity=-2, reason_code="", actor=user)

    movement = stock_adjust(
        stock_item_id=item.pk, quantity=-2, reason_code="damaged", note="forklift", actor=user
    )

    item.refresh_from_db()
    assert item.on_hand == 8
    assert (movement.kind, movement.quantity, movement.reason_code, movement.reason, movement.actor) == (
        "adjustment",
        -2,
        "damaged",
        "forklift",
        user,
    )
    assert movement.reference


def test_unknown_reason_code_is_refused(item):
    with pytest.raises(StockMovementRefused, match="Unknown reason code"):
        stock_adjust(stock_item_id=item.pk, quantity=1, reason_code="gremlins")
    item.refresh_from_db()
    assert item.on_hand == 10


def test_adjustment_cannot_remove_reserved_units(channel, item, order_input):
    from orders.services import order_capture

    order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 8, "25.00")]))
    with pytest.raises(StockMovementRefused, match="8 reserved"):
        stock_adjust(stock_item_id=item.pk, quantity=-3, reason_code="lost")
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (10, 8)


def test_count_writes_the_difference_as_a_correction(item):
    movement = stock_count_record(stock_item_id=item.pk, counted=7, note="aisle 3")
    item.refresh_from_db()
    assert item.on_hand == 7
    assert item.last_counted_at is not None
    assert (movement.kind, movement.quantity) == ("count", -3)
    assert "Counted 7, system had 10" in movement.reason


def test_count_reference_is_the_warehouse_day_not_utcs(item, clock, settings):
    """Friday 21:30 in New York is already Saturday in UTC: the count is Friday's."""
    settings.TIME_ZONE = "America/New_York"
    clock.moment = dt.datetime(2026, 3, 20, 21, 30, tzinfo=ZoneInfo("America/New_York"))
    movement = stock_count_record(stock_item_id=item.pk, counted=9)
    assert movement.reference == "count:2026-03-20"


def test_count_that_matches_writes_no_movement_but_keeps_the_date(item):
    assert stock_count_record(stock_item_id=item.pk, counted=10) is None
    item.refresh_from_db()
    assert item.last_counted_at is not None
    assert item.movements.count() == 1  # only the initial receipt


def test_count_below_reserved_is_refused(channel, item, order_input):
    from orders.services import order_capture

    order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 5, "25.00")]))
    with pytest.raises(StockMovementRefused, match="5 are reserved"):
        stock_count_record(stock_item_id=item.pk, counted=4)
    item.refresh_from_db()
    assert item.on_hand == 10


def test_transfer_writes_out_and_in_with_one_reference(item):
    east = WarehouseFactory(code="EAST")
    out, into = stock_transfer(stock_item_id=item.pk, to_warehouse_id=east.pk, quantity=4)
    item.refresh_from_db()
    target = StockItem.objects.get(warehouse=east)
    assert (item.on_hand, target.on_hand) == (6, 4)
    assert (out.kind, out.quantity, into.kind, into.quantity) == ("transfer_out", -4, "transfer_in", 4)
    assert out.reference == into.reference
    assert stock_list_discrepancies() == []


def test_transfer_between_bins_of_one_warehouse(item):
    out, into = stock_transfer(
        stock_item_id=item.pk, to_warehouse_id=item.warehouse_id, quantity=3, to_bin_location="B-02-1"
    )
    target = StockItem.objects.get(pk=into.stock_item_id)
    assert (target.warehouse_id, target.bin_location, target.on_hand) == (item.warehouse_id, "B-02-1", 3)


@pytest.mark.parametrize(
    ("quantity", "message"),
    [(0, "at least one"), (11, "only 10 available")],
)
def test_transfer_refusals_leave_stock_untouched(item, quantity, message):
    east = WarehouseFactory(code="EAST")
    with pytest.raises(StockMovementRefused, match=message):
        stock_transfer(stock_item_id=item.pk, to_warehouse_id=east.pk, quantity=quantity)
    item.refresh_from_db()
    assert item.on_hand == 10
    assert not StockMovement.objects.filter(kind__startswith="transfer").exists()


def test_transfer_onto_itself_is_refused(item):
    with pytest.raises(StockMovementRefused):
        stock_transfer(stock_item_id=item.pk, to_warehouse_id=item.warehouse_id, quantity=1)


def test_ledger_sums_to_on_hand_after_mixed_movements():
    product = ProductFactory()
    a, b = WarehouseFactory(code="A"), WarehouseFactory(code="B")
    stock_put(product, a, 20)
    item = StockItem.objects.get(product=product, warehouse=a)
    stock_adjust(stock_item_id=item.pk, quantity=-1, reason_code="damaged")
    stock_count_record(stock_item_id=item.pk, counted=17)
    stock_transfer(stock_item_id=item.pk, to_warehouse_id=b.pk, quantity=5)
    assert stock_list_discrepancies() == []
    assert sum(m.quantity for m in StockMovement.objects.filter(stock_item=item)) == 12
