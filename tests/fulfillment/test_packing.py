"""fulfillment.packing through the scan-to-pack station: one server round trip per scan,
unmistakable errors. The station's pages themselves: test_views.py."""

import pytest
from django.urls import reverse

from fulfillment.models import Shipment
from fulfillment.picking import pick_list_create

from .conftest import scan

pytestmark = pytest.mark.django_db


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
