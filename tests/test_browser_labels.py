"""The packing station in Chromium, logged in as warehouse staff: with the manual gateway the
last scan opens the packing slip (today's behaviour); with EasyPost (its recorded answers on a
local server) the packer picks the station's printer, scans the box and the last item, and holds
the label: bought once, shown to print, its tracking number on the shipment. Screenshots go to
test-artifacts/. No CSP violations."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from core.roles import ensure_staff_groups
from fulfillment.models import Box, PackingStation, Shipment, ShippingLabel
from fulfillment.services import order_start_fulfillment
from orders.services import order_capture
from tests.browser import ARTIFACTS, admin_login, scan, watch_csp
from tests.conftest import make_order_input
from tests.factories import ProductFactory, stock_put

PASSWORD = "pack-pass-123"


def warehouse_user():
    ensure_staff_groups()
    user = get_user_model().objects.create_user("packer", "packer@oms.example", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Warehouse staff"))
    return user


def pending_shipment(channel, warehouse) -> Shipment:
    mug = ProductFactory(sku="MUG-1", barcode="5000000000011", name="Blue mug", weight_grams=300)
    stock_put(mug, warehouse, 20, bin_location="B-10-1")
    order = order_capture(channel=channel, data=make_order_input(lines=[("MUG-1", 2, "12.00")]))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    return shipment


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manual_gateway_last_scan_opens_the_packing_slip(
    browser, live_server, channel, warehouse, service_level
):
    warehouse_user()
    shipment = pending_shipment(channel, warehouse)
    violations: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watch_csp(page, violations)
    admin_login(
        page, live_server.url + reverse("admin:fulfillment_shipment_pack_station"), "packer", PASSWORD
    )
    scan(page, shipment.number)
    page.get_by_text("0 of 2 units packed").wait_for()
    scan(page, "5000000000011")
    page.get_by_text("OK: MUG-1 (1 of 2)").wait_for()
    scan(page, "5000000000011")
    page.get_by_role("heading", name="Packing slip").wait_for()
    page.screenshot(path=ARTIFACTS / "labels-1-manual-packing-slip.png", full_page=True)
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED and not ShippingLabel.objects.exists()
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_easypost_last_scan_buys_and_shows_the_label(
    browser, live_server, channel, warehouse, usps, easypost
):
    easypost.cassette("easypost-python__test_shipment_buy.yaml")
    warehouse_user()
    Box.objects.create(
        code="BOX-M", name="Medium", length_mm=254, width_mm=203, height_mm=102, weight_grams=137
    )
    PackingStation.objects.create(name="Desk 1", label_format="png")
    shipment = pending_shipment(channel, warehouse)
    violations: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    watch_csp(page, violations)
    admin_login(
        page, live_server.url + reverse("admin:fulfillment_shipment_pack_station"), "packer", PASSWORD
    )
    page.locator("#station").select_option(label="Desk 1 (PNG image)")
    page.get_by_role("button", name="Use").click()
    page.locator("#code").click()
    scan(page, shipment.number)
    page.get_by_text("0 of 2 units packed").wait_for()
    scan(page, "BOX-M")  # the box is scanned like an item
    page.get_by_text("Box: Medium").wait_for()
    scan(page, "5000000000011")
    page.get_by_text("OK: MUG-1 (1 of 2)").wait_for()
    page.screenshot(path=ARTIFACTS / "labels-2-station-scanning.png", full_page=True)
    scan(page, "5000000000011")  # the last unit: rated, bought, shown
    page.get_by_role("heading", name=f"Label for {shipment.number}").wait_for()
    page.get_by_text("9400100208303109505657").first.wait_for()
    page.locator("img.label-image").wait_for()
    page.wait_for_load_state("load")  # the label image too (no script: the page's CSP forbids eval)
    page.screenshot(path=ARTIFACTS / "labels-3-label-bought.png", full_page=True)
    shipment.refresh_from_db()
    assert shipment.tracking_number == "9400100208303109505657" and shipment.box.code == "BOX-M"
    label = ShippingLabel.objects.get(shipment=shipment)
    assert label.status == "bought" and label.label_format == "png"
    assert len(easypost.requests("POST", r"/v2/shipments/.*/buy")) == 1

    # Back at the station the shipment shows its label, with void and repack.
    page.goto(live_server.url + reverse("admin:fulfillment_shipment_pack", args=[shipment.pk]))
    page.get_by_text("Print label (Alt+L)").wait_for()
    page.screenshot(path=ARTIFACTS / "labels-4-station-with-label.png", full_page=True)
    assert violations == []
