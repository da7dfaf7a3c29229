"""Each demo role's day in Chromium, logged in as that role (seed_demo's logins), never as a
superuser: the warehouse starts, picks, packs by scanning and ships; customer service map an
unknown SKU from a held order, release a hold, answer a customer and approve a return; the manager
reads the dashboard and downloads an export. Screenshots go to test-artifacts/. No CSP violations."""

import csv
import io

import pytest
from django.urls import reverse

from fulfillment.models import Shipment
from intake.models import SkuMapping
from orders.inputs import AddressInput
from orders.models import Order, OrderHold
from orders.services import order_capture
from portal.management.commands.seed_demo import DEMO_PASSWORD, demo_staff_create
from returns.models import ReturnRequest
from returns.services import return_request_create
from support.models import Message
from support.services import support_message_post
from tests.browser import ARTIFACTS, admin_login, scan, watch_csp
from tests.conftest import make_order_input
from tests.factories import ChannelFactory, ProductFactory, ServiceLevelFactory, WarehouseFactory, stock_put
from tests.returns.helpers import delivered_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(db):
    """A warehouse with two stocked products, a carrier, a web channel and the demo logins."""
    warehouse = WarehouseFactory(code="MAIN", name="Main warehouse", priority=1)
    ServiceLevelFactory()
    mug = ProductFactory(sku="MUG-1", barcode="5000000000011", name="Blue mug", price="12.00")
    tea = ProductFactory(sku="TEA-1", barcode="5000000000028", name="Green tea", price="4.00")
    stock_put(mug, warehouse, 20, bin_location="B-10-1")
    stock_put(tea, warehouse, 20, bin_location="A-02-3")
    demo_staff_create()
    return {"warehouse": warehouse, "channel": ChannelFactory(), "mug": mug, "tea": tea}


def capture(shop, *lines, email="carol@example.com", **overrides) -> Order:
    data = make_order_input(lines=list(lines), email=email, **overrides)
    return order_capture(channel=shop["channel"], data=data)


@pytest.fixture
def page(browser):
    violations: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    watch_csp(page, violations)
    yield page
    assert violations == []


def shot(page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"roles-{name}.png", full_page=True)


def test_the_warehouse_starts_picks_packs_by_scanning_and_ships(page, live_server, shop):
    expect = pytest.importorskip("playwright.sync_api").expect
    order = capture(shop, ("MUG-1", 2, "12.00"), ("TEA-1", 1, "4.00"))
    assert order.status == Order.Status.ALLOCATED

    admin_login(page, live_server.url + reverse("admin:index"), "warehouse", DEMO_PASSWORD)
    shot(page, "warehouse-1-home")
    # Orders to start: select them all, start fulfilment.
    page.get_by_role("link", name="Orders to start").click()
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("start_fulfillment_selected")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Fulfilment started, shipments per order: {order.number} (1)"
    )
    shot(page, "warehouse-2-orders-started")
    shipment = Shipment.objects.get(order=order)

    # Build the pick list from the home page; it opens ready to print.
    page.get_by_role("link", name="Home").first.click()
    page.get_by_role("link", name="Build a pick list").click()
    page.get_by_label("Warehouse").select_option(label=str(shop["warehouse"]))
    shot(page, "warehouse-3-build-pick-list")
    page.get_by_role("button", name="Build and print the pick list").click()
    page.get_by_text("A-02-3").first.wait_for()
    shot(page, "warehouse-4-pick-list")

    # The packing station, from the pick list: scan the shipment, then each unit.
    page.get_by_role("link", name="Packing station").click()
    page.wait_for_url("**" + reverse("admin:fulfillment_shipment_pack_station"))
    scan(page, shipment.number)
    page.get_by_text("0 of 3 units packed").wait_for()
    for code, answer in [("5000000000011", "OK: MUG-1 (1 of 2)"), ("5000000000011", "OK: MUG-1 (2 of 2)")]:
        scan(page, code)
        page.get_by_text(answer).first.wait_for()
    shot(page, "warehouse-5-packing")
    scan(page, "5000000000028")
    page.get_by_role("heading", name="Packing slip").wait_for()
    shot(page, "warehouse-6-packing-slip")

    # Ship it from the shipment's page.
    page.get_by_role("link", name="Shipment page (ship it)").click()
    page.locator("form.oms-action", has_text="Ship").get_by_label("Tracking number").fill("1ZROLES0001")
    page.get_by_role("button", name="Ship", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("shipped with tracking number 1ZROLES0001")
    shot(page, "warehouse-7-shipped")
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_customer_service_fix_holds_answer_a_customer_and_approve_a_return(page, live_server, shop):
    expect = pytest.importorskip("playwright.sync_api").expect
    held = capture(shop, ("MUG-1", 1, "12.00"), ("NOPE-9", 1, "5.00"), email="nope@example.com")
    wrong_address = AddressInput(
        name="Dora Post", line1="1 Main St", city="New York", region="NY", postal_code="INVALID", country="US"
    )
    waiting = capture(shop, ("TEA-1", 1, "4.00"), email="wait@example.com", shipping_address=wrong_address)
    assert waiting.holds.get().reason == OrderHold.Reason.ADDRESS
    delivered = delivered_order(
        shop["channel"], make_order_input, lines=[("MUG-1", 1, "12.00")], email="rt@example.com"
    )
    rr = return_request_create(
        order_id=delivered.pk, quantities={delivered.lines.get().pk: 1}, reason="damaged"
    )
    support_message_post(order_id=delivered.pk, body="Where is my refund?")
    url = live_server.url

    admin_login(page, url + reverse("admin:index"), "service", DEMO_PASSWORD)
    shot(page, "service-1-home")
    # The holds queue, by reason, to the held order: what next says what to do.
    page.get_by_role("link", name="Unknown or inactive SKU").click()
    page.get_by_role("link", name=held.number).click()
    expect(page.locator(".oms-order-next")).to_contain_text("On hold: Unknown SKU NOPE-9")
    shot(page, "service-2-held-order")
    # Map the SKU (the page comes prefilled), and land back on the order.
    page.get_by_role("link", name="Map NOPE-9").click()
    expect(page.locator("#id_external_key")).to_have_value("NOPE-9")
    page.locator("#id_product + .select2").click()
    page.locator(".select2-search__field").press_sequentially("tea", delay=30)
    expect(page.locator(".select2-results__option")).to_have_text(["TEA-1 · Green tea"])
    page.keyboard.press("Enter")
    shot(page, "service-3-map-sku")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert page.url.endswith(reverse("admin:orders_order_change", args=[held.pk]))
    assert SkuMapping.objects.get().product == shop["tea"]
    page.get_by_role("button", name="Match SKUs again and re-check").click()
    expect(page.locator(".messagelist")).to_contain_text("re-matched and re-checked: it is now allocated")
    expect(page.locator(".oms-order-status")).to_contain_text("Allocated")
    shot(page, "service-4-rematched")

    # An address hold: correct the address from the order's page, come back, release the hold.
    page.goto(url + reverse("admin:orders_order_change", args=[waiting.pk]))
    expect(page.locator(".oms-order-next")).to_contain_text("Postal code “INVALID” is not valid for US")
    page.locator(".oms-order-next").get_by_role("link", name="Correct the address").click()
    page.locator("#id_postal_code").fill("10001")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Release holds and re-check").click()
    expect(page.locator(".messagelist")).to_contain_text("released; it is now allocated")
    shot(page, "service-5-hold-released")

    # Answer the customer, from the home page's queue.
    page.get_by_role("link", name="Home").first.click()
    page.get_by_role("link", name="Customer messages to answer").click()
    page.get_by_role("link", name=delivered.number).click()
    page.locator("textarea[name='messages-0-body']").fill("Your refund is on its way.")
    shot(page, "service-6-answer")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Answer sent to rt@example.com")
    assert Message.objects.filter(body="Your refund is on its way.").exists()

    # Approve the return, from the home page's queue.
    page.get_by_role("link", name="Home").first.click()
    page.get_by_role("link", name="Returns to approve").click()
    page.get_by_role("link", name=rr.number).click()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(f"Return {rr.number} approved")
    shot(page, "service-7-return-approved")
    rr.refresh_from_db()
    assert rr.status == ReturnRequest.Status.APPROVED
    held.refresh_from_db()
    waiting.refresh_from_db()
    assert held.status == waiting.status == Order.Status.ALLOCATED


def test_the_manager_reads_the_dashboard_and_downloads_an_export(page, live_server, shop):
    expect = pytest.importorskip("playwright.sync_api").expect
    order = capture(shop, ("MUG-1", 1, "12.00"))

    admin_login(page, live_server.url + reverse("admin:index"), "manager", DEMO_PASSWORD)
    shot(page, "manager-1-home")
    page.get_by_role("link", name="KPI dashboard").click()
    expect(page.get_by_role("heading", name="KPI dashboard")).to_be_visible()
    shot(page, "manager-2-dashboard")

    page.get_by_role("link", name="Home").first.click()
    page.locator("nav.oms-home-links").get_by_role("link", name="Orders", exact=True).click()
    shot(page, "manager-3-orders")
    with page.expect_download() as download:
        page.get_by_role("link", name="Orders CSV", exact=True).click()
    text = download.value.path().read_text(encoding="utf-8")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:6] == ["number", "channel", "external_id", "status", "placed_at", "captured_at"]
    assert [row[0] for row in rows] == [order.number]
