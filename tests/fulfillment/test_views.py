"""The fulfilment staff pages (fulfillment/views.py): pick-list build form and print page, the
packing station's switching and permissions, with query counts that don't grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fulfillment.picking import pick_list_create

from .conftest import scan

pytestmark = pytest.mark.django_db


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


def test_build_form_creates_and_redirects_to_print_or_explains(
    warehouse, catalog, ready_shipment, staff_client
):
    shipment = ready_shipment([("MUG-1", 1)])
    url = reverse("admin:fulfillment_picklist_add")
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"warehouse": warehouse.pk, "limit": "abc"})
    assert response.status_code == 200 and b"Enter a whole number" in response.content
    response = staff_client.post(url, {"warehouse": warehouse.pk})
    assert response.status_code == 302 and "/print/" in response["Location"]
    page = staff_client.get(response["Location"]).content.decode()
    assert shipment.number in page and "<svg" in page and "@media print" not in page  # CSS is a file
    again = staff_client.post(url, {"warehouse": warehouse.pk})
    assert again.status_code == 200 and "No ready shipment" in again.content.decode()


def _print_queries(client, pick_list) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:fulfillment_picklist_print", args=[pick_list.pk]))
    assert response.status_code == 200
    return len(ctx)


def test_print_page_has_barcodes_and_a_fixed_query_count(warehouse, catalog, ready_shipment, staff_client):
    ready_shipment([("MUG-1", 1)])
    small = pick_list_create(warehouse_id=warehouse.pk)
    for _ in range(6):
        ready_shipment([("MUG-1", 2), ("TEA-1", 1), ("POT-1", 1)])
    large = pick_list_create(warehouse_id=warehouse.pk)
    assert large.lines.count() == 3 and large.shipment_count == 6

    page = staff_client.get(reverse("admin:fulfillment_picklist_print", args=[large.pk])).content.decode()
    # one barcode per shipment, per SKU line, plus the list's own
    assert page.count('<svg class="barcode"') == 6 + 3 + 1
    assert 'href="/static/fulfillment/print.css"' in page
    assert _print_queries(staff_client, small) == _print_queries(staff_client, large)
