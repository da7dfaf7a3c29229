"""Staff in Chromium: take an order on the phone with the product search, start fulfilment,
build the pick list, then pack it at the scan station (a wrong item is refused loudly, the last
scan opens the packing slip). Screenshots go to test-artifacts/. No CSP violations."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from fulfillment.models import Shipment
from orders.models import Order
from tests.browser import ARTIFACTS, admin_login, scan, watch_csp
from tests.factories import ProductFactory, ServiceLevelFactory, WarehouseFactory, stock_put


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_phone_order_to_packed_parcel(browser, live_server):
    expect = pytest.importorskip("playwright.sync_api").expect
    warehouse = WarehouseFactory(code="MAIN", name="Main warehouse", priority=1)
    ServiceLevelFactory()
    mug = ProductFactory(sku="MUG-1", barcode="5000000000011", name="Blue mug", price="12.00")
    tea = ProductFactory(sku="TEA-1", barcode="5000000000028", name="Green tea", price="4.00")
    stock_put(mug, warehouse, 20, bin_location="B-10-1")
    stock_put(tea, warehouse, 20, bin_location="A-02-3")
    get_user_model().objects.create_superuser("floor", "floor@oms.example", "floor-pass-123")
    violations: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watch_csp(page, violations)
    url = live_server.url

    # On the phone: the product field searches as the agent types part of a name, or a barcode.
    admin_login(page, url + reverse("admin:orders_order_phone"), "floor", "floor-pass-123")
    page.locator("#id_email").fill("carol@example.com")
    page.locator("#id_customer_name").fill("Carol Phone")
    page.locator("#id_line1").fill("1 Dial Road")
    page.locator("#id_city").fill("London")
    page.locator("#id_postal_code").fill("SW1A 1AA")
    page.locator("#id_country").fill("GB")
    page.locator("#id_payment_method").select_option("card")
    page.locator("#id_payment_status").select_option("authorized")
    for line, typed, found in [
        (0, "blue m", "MUG-1 · Blue mug — 12.00 · 20 available"),
        (1, "5000000000028", "TEA-1 · Green tea — 4.00 · 20 available"),
    ]:
        page.locator(f"#id_lines-{line}-product + .select2").click()
        page.locator(".select2-search__field").press_sequentially(typed, delay=30)
        expect(page.locator(".select2-results__option")).to_have_text([found])  # the list for all typed
        page.keyboard.press("Enter")
    page.locator("#id_lines-0-quantity").fill("2")
    page.locator("#id_lines-1-quantity").fill("1")
    page.screenshot(path=ARTIFACTS / "7-phone-order-form.png", full_page=True)
    page.get_by_role("button", name="Capture order").click()

    order = Order.objects.get()
    page.get_by_role("button", name="Start fulfilment").wait_for()
    assert order.status == Order.Status.ALLOCATED and order.total == 28
    page.get_by_role("button", name="Start fulfilment").click()
    shipment = Shipment.objects.get(order=order)
    page.get_by_text(f"{shipment.number}").first.wait_for()

    page.goto(url + reverse("admin:fulfillment_picklist_add"))
    page.get_by_label("Warehouse").select_option(label=str(warehouse))
    page.get_by_role("button", name="Build and print the pick list").click()
    page.get_by_text("A-02-3").first.wait_for()  # the list walks the bins in order
    page.screenshot(path=ARTIFACTS / "8-pick-list.png", full_page=True)

    # The scan station: the cursor is in the field, a scanner "types" and presses Enter.
    page.goto(url + reverse("admin:fulfillment_shipment_pack_station"))
    scan(page, shipment.number.lower())
    page.get_by_text("0 of 3 units packed").wait_for()
    for code, answer in [("5000000000011", "OK: MUG-1 (1 of 2)"), ("5000000000099", "STOP")]:
        page.locator("body").click()  # a stray click: the scanner's keystrokes still land in the field
        scan(page, code)
        page.get_by_text(answer).first.wait_for()
    page.screenshot(path=ARTIFACTS / "9-pack-station-refused.png", full_page=True)
    scan(page, "5000000000011")
    page.get_by_text("OK: MUG-1 (2 of 2)").wait_for()
    scan(page, "5000000000028")  # the last unit: the box is complete, the slip opens
    page.get_by_role("heading", name="Packing slip").wait_for()
    page.screenshot(path=ARTIFACTS / "10-packing-slip.png", full_page=True)
    assert order.number in page.content() and "Carol Phone" in page.content()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED
    assert violations == []
