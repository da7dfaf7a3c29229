"""fulfillment.picking: pick lists built from ready shipments, grouped by SKU, walked by bin. Their
build form and print page: test_views.py."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from fulfillment.exceptions import NothingToPick
from fulfillment.models import Shipment
from fulfillment.picking import pick_list_create
from tests.factories import CarrierFactory, ServiceLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_pick_list_groups_by_sku_walks_by_bin_and_starts_picking(warehouse, catalog, ready_shipment, staff):
    a = ready_shipment([("MUG-1", 2), ("TEA-1", 1)])
    b = ready_shipment([("MUG-1", 1), ("POT-1", 1)])
    c = ready_shipment([("TEA-1", 3)])

    pick_list = pick_list_create(warehouse_id=warehouse.pk, actor=staff)

    walk = [(ln.bin_location, ln.sku, ln.quantity) for ln in pick_list.lines.all()]
    # A-02-3, then B-9-1 before B-10-1 (natural order, not text order)
    assert walk == [("A-02-3", "TEA-1", 4), ("B-9-1", "POT-1", 1), ("B-10-1", "MUG-1", 3)]
    tea = pick_list.lines.get(sku="TEA-1")
    assert dict(tea.breakdown) == {a.number: 1, c.number: 3}
    assert (pick_list.shipment_count, pick_list.unit_count) == (3, 8)
    for shipment in (a, b, c):
        shipment.refresh_from_db()
        assert shipment.status == Shipment.Status.PICKING
        assert shipment.pick_list == pick_list
        assert shipment.order.events.filter(message__contains=pick_list.number).exists()
    with pytest.raises(NothingToPick):  # all taken now
        pick_list_create(warehouse_id=warehouse.pk)


def test_filters_carrier_service_cutoff_limit_and_warehouse(
    warehouse, catalog, ready_shipment, service_level
):
    late_pickup = ServiceLevelFactory(
        carrier=CarrierFactory(code="dhl", name="DHL"), code="eco", cutoff_time=dt.time(18, 0)
    )
    ups = [ready_shipment([("MUG-1", 1)]) for _ in range(3)]
    dhl = ready_shipment([("TEA-1", 1)])
    Shipment.objects.filter(pk=dhl.pk).update(service_level=late_pickup)
    other = WarehouseFactory(code="EAST")

    with pytest.raises(NothingToPick):
        pick_list_create(warehouse_id=other.pk)
    by_cutoff = pick_list_create(warehouse_id=warehouse.pk, cutoff_by=dt.time(15, 30), limit=2)
    assert set(by_cutoff.shipments.values_list("number", flat=True)) == {ups[0].number, ups[1].number}
    assert "pickup cutoff by 15:30" in by_cutoff.criteria and "at most 2" in by_cutoff.criteria
    by_service = pick_list_create(warehouse_id=warehouse.pk, service_level_id=late_pickup.pk)
    assert list(by_service.shipments.values_list("number", flat=True)) == [dhl.number]
    by_carrier = pick_list_create(warehouse_id=warehouse.pk, carrier_id=service_level.carrier_id)
    assert list(by_carrier.shipments.values_list("number", flat=True)) == [ups[2].number]


def test_pick_list_is_numbered_with_the_warehouse_day_not_utcs(
    warehouse, catalog, ready_shipment, clock, settings
):
    """Friday 21:30 in New York is already Saturday in UTC: the list staff print says Friday."""
    settings.TIME_ZONE = "America/New_York"
    clock.moment = dt.datetime(2026, 3, 20, 21, 30, tzinfo=ZoneInfo("America/New_York"))
    ready_shipment([("MUG-1", 1)])

    pick_list = pick_list_create(warehouse_id=warehouse.pk)

    assert pick_list.number.startswith("PL-260320-")
