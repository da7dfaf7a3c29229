"""Postage in the numbers: each shipment's label cost in the shipments export, and per carrier
and service on the KPI dashboard against what customers paid for shipping."""

from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.services import order_start_fulfillment, shipment_pack, shipment_ship
from orders.services import order_capture
from reports.rollups.services import kpi_days_refresh
from reports.selectors import shipment_list_postage
from tests.factories import ProductFactory, stock_put

from .helpers import export_to_file


@pytest.fixture
def shipped(db, channel, warehouse, service_level, order_input, clock):
    """Two orders shipped today: one whose label cost 6.07 (shipping charged 9.00), one with no
    bought label (its number typed, charged 5.00)."""
    stock_put(ProductFactory(sku="MUG-1"), warehouse, 10)
    shipments = []
    for i, (charged, postage) in enumerate([(Decimal("9.00"), Decimal("6.07")), (Decimal("5.00"), None)]):
        data = order_input(lines=[("MUG-1", 1, "10.00")], email=f"p{i}@example.com", shipping_total=charged)
        order = order_capture(channel=channel, data=data)
        (shipment,) = order_start_fulfillment(order_id=order.pk)
        shipment_pack(shipment_id=shipment.pk)
        if postage is not None:  # as the label purchase leaves it (fulfillment.labels)
            Shipment.objects.filter(pk=shipment.pk).update(
                postage_cost=postage, postage_currency="USD", tracking_number="9400100208303109505657"
            )
        shipments.append(shipment_ship(shipment_id=shipment.pk))
    return shipments


def test_the_shipments_export_has_each_label_s_cost(shipped, tmp_path):
    text = export_to_file(tmp_path, "shipments")
    header, *rows = text.splitlines()
    columns = header.split(",")
    assert columns[7:9] == ["postage_cost", "postage_currency"]
    cells = sorted(row.split(",")[7:9] for row in rows)
    assert cells == [["", ""], ["6.07", "USD"]]


def test_the_dashboard_compares_label_cost_with_what_customers_paid(shipped, manager_client):
    today = timezone.localdate()
    kpi_days_refresh(days=[today])
    (row,) = shipment_list_postage(start=today, end=today)
    assert (row["carrier"], row["service"], row["currency"]) == ("ups", "ground", "USD")
    assert (row["shipments"], row["labelled"]) == (2, 1)
    assert (row["postage"], row["charged"], row["margin"], row["per_label"]) == (
        Decimal("6.07"), Decimal("14.00"), Decimal("7.93"), Decimal("6.07"),
    )  # fmt: skip
    page = manager_client.get("/admin/reports/dashboard/")
    assert (
        b'id="kpi-postage"' in page.content and b"6.07 USD" in page.content and b"14.00 USD" in page.content
    )
