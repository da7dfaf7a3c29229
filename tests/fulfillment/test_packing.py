"""The scan-to-pack station: one server round trip per scan, unmistakable errors."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fulfillment.models import Shipment
from fulfillment.picking import pick_list_create

pytestmark = pytest.mark.django_db


def scan(client, shipment, code):
    return client.post(
        reverse("admin:fulfillment_shipment_pack", args=[shipment.pk]), {"code": code}, follow=True
    )


def test_pack_by_scanning_every_unit_then_slip_prints(warehouse, catalog, ready_shipment, staff_client):
    shipment = ready_shipment([("MUG-1", 2), ("POT-1", 1)])
    pick_list_create(warehouse_id=warehouse.pk)

    station = reverse("admin:fulfillment_shipment_pack_station")
    page = staff_client.get(station).content.decode()
    assert "autofocus" in page and "<script src=" in page
    response = staff_client.post(station, {"code": shipment.number.lower()}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:fulfillment_shipment_pack", args=[shipment.pk])
    assert "0 of 3 units packed" in response.content.decode()

    page = scan(staff_client, shipment, "5000000000011").content.decode()  # mug by barcode
    assert "OK: MUG-1 (1 of 2)" in page and "msg-error" not in page

    page = scan(staff_client, shipment, "5000000000028").content.decode()  # tea: not in this box
    assert "msg-error" in page and 'role="alert"' in page and "STOP" in page
    assert "Wrong item" in page and "5000000000028" in page

    scan(staff_client, shipment, "5000000000011")
    page = scan(staff_client, shipment, "5000000000011").content.decode()  # a third mug
    assert "One too many" in page and "msg-error" in page
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PICKING
    assert list(shipment.lines.values_list("quantity_packed", flat=True)) == [2, 0]

    response = scan(staff_client, shipment, "pot-1")  # no barcode: the SKU works
    slip_url = reverse("admin:fulfillment_shipment_packing_slip", args=[shipment.pk])
    assert response.redirect_chain[-1][0] == slip_url + "?autoprint=1"
    slip = response.content.decode()
    assert 'data-autoprint="1"' in slip and shipment.order.number in slip and "Ada Lovelace" in slip
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED and shipment.packed_at is not None
    assert shipment.order.events.filter(kind="packed").exists()

    page = scan(staff_client, shipment, "5000000000011").content.decode()  # packed: no more scans
    assert "msg-error" in page and "is packed: can&#x27;t pack" in page


def test_unknown_shipment_barcode_and_reset(warehouse, catalog, ready_shipment, staff_client):
    station = reverse("admin:fulfillment_shipment_pack_station")
    page = staff_client.post(station, {"code": "<b>NOPE</b>"}, follow=True).content.decode()
    assert "msg-error" in page and "&lt;b&gt;NOPE" in page and "<b>NOPE" not in page

    shipment = ready_shipment([("MUG-1", 2)])
    scan(staff_client, shipment, "MUG-1")
    url = reverse("admin:fulfillment_shipment_pack", args=[shipment.pk])
    page = staff_client.post(url, {"reset": "1"}, follow=True).content.decode()
    assert "scan every item again" in page
    assert shipment.lines.get().quantity_packed == 0


def test_scanning_another_shipment_switches_to_it(warehouse, catalog, ready_shipment, staff_client):
    first, second = ready_shipment([("MUG-1", 1)]), ready_shipment([("TEA-1", 1)])
    response = scan(staff_client, first, second.number)
    assert response.redirect_chain[-1][0] == reverse("admin:fulfillment_shipment_pack", args=[second.pk])


def test_non_staff_cannot_pack(warehouse, catalog, ready_shipment, client):
    shipment = ready_shipment([("MUG-1", 1)])
    response = client.post(reverse("admin:fulfillment_shipment_pack", args=[shipment.pk]), {"code": "MUG-1"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert shipment.lines.get().quantity_packed == 0


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_packing_pages_query_count_does_not_grow_with_lines(warehouse, catalog, ready_shipment, staff_client):
    small = ready_shipment([("MUG-1", 1)])
    large = ready_shipment([("MUG-1", 3), ("TEA-1", 2), ("POT-1", 1)])
    for name in ("admin:fulfillment_shipment_pack", "admin:fulfillment_shipment_packing_slip"):
        assert _queries(staff_client, reverse(name, args=[small.pk])) == _queries(
            staff_client, reverse(name, args=[large.pk])
        )
