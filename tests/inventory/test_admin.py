"""Warehouse staff work stock from the admin: ledger on the item, buttons that call services."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.roles import ensure_staff_groups
from inventory.models import InboundReceipt, StockItem, StockMovement
from inventory.services import ReceiptLineInput, inbound_receipt_create
from tests.factories import ProductFactory, UserFactory, WarehouseFactory, stock_put

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    ensure_staff_groups()
    user = UserFactory(username="wanda")
    user.groups.add(Group.objects.get(name="Warehouse staff"))
    client.force_login(user)
    client.user = user
    return client


def action(client, model, pk, name, **data):
    url = reverse(f"admin:inventory_{model}_object_action", args=[pk, name])
    return client.post(url, data, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_item_page_shows_its_ledger(staff_client, item):
    response = staff_client.get(reverse("admin:inventory_stockitem_change", args=[item.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ledger (newest first)" in page
    assert "Receipt" in page and "+10" in page
    assert "Record count" in page and "Adjust" in page and "Transfer" in page


def test_ledger_shows_when_in_the_warehouse_time_zone(staff_client, item, clock, settings):
    settings.TIME_ZONE = "America/New_York"
    clock.moment = dt.datetime(2026, 3, 20, 21, 30, tzinfo=ZoneInfo("America/New_York"))
    action(staff_client, "stockitem", item.pk, "count", counted="8", note="")
    page = staff_client.get(reverse("admin:inventory_stockitem_change", args=[item.pk])).content.decode()
    assert "<td>2026-03-20 21:30</td>" in page  # not 2026-03-21 01:30, the UTC clock


def test_ledger_cannot_be_edited_or_deleted(admin_client, item):
    movement = item.movements.get()
    change = admin_client.post(
        reverse("admin:inventory_stockmovement_change", args=[movement.pk]), {"quantity": 99}
    )
    delete = admin_client.post(
        reverse("admin:inventory_stockmovement_delete", args=[movement.pk]), {"post": "yes"}
    )
    assert change.status_code == 403
    assert delete.status_code == 403
    movement.refresh_from_db()
    assert movement.quantity == 10
    listing = admin_client.get(reverse("admin:inventory_stockmovement_changelist") + f"?stock_item={item.pk}")
    assert listing.status_code == 200


def test_count_button_writes_a_correction_by_the_user(staff_client, item):
    response = action(staff_client, "stockitem", item.pk, "count", counted="8", note="")
    assert "correction -2" in messages_of(response)[0]
    movement = item.movements.latest("pk")
    assert (movement.kind, movement.quantity, movement.actor) == ("count", -2, staff_client.user)


def test_adjust_button_with_bad_input_explains_and_changes_nothing(staff_client, item):
    response = action(staff_client, "stockitem", item.pk, "adjust", quantity="lots", reason_code="damaged")
    assert response.status_code == 200  # the adjust form again, as typed, with the error
    assert response.context["form"].errors == {"quantity": ["Enter a whole number."]}
    assert 'value="lots"' in response.content.decode()
    response = action(staff_client, "stockitem", item.pk, "adjust", quantity="-50", reason_code="damaged")
    assert response.status_code == 200
    assert "can't remove 50" in response.context["form"].non_field_errors()[0]
    assert 'value="-50"' in response.content.decode()
    item.refresh_from_db()
    assert item.on_hand == 10


def test_transfer_button(staff_client, item):
    east = WarehouseFactory(code="EAST")
    response = action(staff_client, "stockitem", item.pk, "transfer", warehouse=str(east.pk), quantity="3")
    assert "moved to" in messages_of(response)[0]
    assert StockItem.objects.get(warehouse=east).on_hand == 3


def test_receive_stock_button_on_the_product(staff_client, stocked_product, warehouse):
    page = staff_client.get(reverse("admin:inventory_product_change", args=[stocked_product.pk]))
    assert "Receive stock" in page.content.decode()
    response = action(
        staff_client, "product", stocked_product.pk, "receive", warehouse=str(warehouse.pk), quantity="5"
    )
    assert "5 × WIDGET-1 received into MAIN" in messages_of(response)[0]
    assert StockItem.objects.get(product=stocked_product).on_hand == 15


def test_receipt_received_in_parts_from_the_admin(staff_client, warehouse):
    ProductFactory(sku="A")
    ProductFactory(sku="B")
    receipt = inbound_receipt_create(
        supplier="Acme",
        warehouse_id=warehouse.pk,
        lines=[ReceiptLineInput(p.pk, 5) for p in ProductFactory._meta.model.objects.order_by("sku")],
    )
    response = action(staff_client, "inboundreceipt", receipt.pk, "receive_some", quantities="a=2, B=5")
    assert f"{receipt.number}: 7 units received." in messages_of(response)
    response = action(staff_client, "inboundreceipt", receipt.pk, "receive_some", quantities="C=1")
    assert response.context["form"].errors == {"quantities": [f"C is not on receipt {receipt.number}."]}
    assert 'value="C=1"' in response.content.decode()
    receipt.refresh_from_db()
    assert receipt.status == InboundReceipt.Status.PARTIALLY_RECEIVED
    action(staff_client, "inboundreceipt", receipt.pk, "receive_all")
    receipt.refresh_from_db()
    assert receipt.status == InboundReceipt.Status.RECEIVED
    assert StockMovement.objects.filter(reference=f"receipt:{receipt.number}").count() == 3


def test_receipt_created_in_the_admin(admin_client, warehouse):
    product = ProductFactory(sku="A")
    data = {
        "supplier": "Acme",
        "supplier_reference": "PO-1",
        "warehouse": warehouse.pk,
        "notes": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": product.pk,
        "lines-0-bin_location": "",
        "lines-0-quantity_expected": "12",
    }
    response = admin_client.post(reverse("admin:inventory_inboundreceipt_add"), data)
    assert response.status_code == 302
    receipt = InboundReceipt.objects.get()
    assert receipt.lines.get().quantity_expected == 12
    page = admin_client.get(reverse("admin:inventory_inboundreceipt_change", args=[receipt.pk]))
    assert "Receive delivery" in page.content.decode()


def _low_items(n):
    warehouse = WarehouseFactory(code="MAIN")
    for _ in range(n):
        product = ProductFactory()
        stock_put(product, warehouse, 2)
        StockItem.objects.filter(product=product).update(reorder_point=5)


@pytest.mark.parametrize("size", [3, 12])
def test_low_stock_list_query_count_does_not_grow(admin_client, django_assert_num_queries, size):
    _low_items(size)
    url = reverse("admin:inventory_stockitem_changelist") + "?low=yes"
    admin_client.get(url)  # warm caches (content types, session)
    with django_assert_num_queries(6):
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) == size


def test_product_search_for_order_lines_by_sku_name_or_barcode_with_price_and_stock(
    staff_client, stocked_product, warehouse
):
    """The phone order's product field: the admin's autocomplete over ProductAdmin.search_fields."""
    ProductFactory(sku="WIDGET-OLD", name="Blue widget (old)", is_active=False)
    stocked_product.barcode = "5000000000011"
    stocked_product.save()
    url = reverse("admin:inventory_product_autocomplete")
    source = {"app_label": "orders", "model_name": "orderline", "field_name": "product"}

    def texts(term):
        return [r["text"] for r in staff_client.get(url, {"term": term, **source}).json()["results"]]

    expected = ["WIDGET-1 · Blue widget — 25.00 · 10 available"]
    assert texts("widget-1") == texts("blue wid") == texts("5000000000011") == expected
    assert texts("500000000001") == []  # barcodes match whole, as scanned
