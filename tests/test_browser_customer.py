"""The whole customer + returns-desk journey in Chromium: look up an order on a phone-sized
screen, request a return, staff approve, scan and inspect it in the admin, and the customer
sees the new status. Screenshots go to test-artifacts/. No CSP violations on either side."""

import pytest
from django.contrib.auth import get_user_model

from returns.models import ReturnRequest
from tests.browser import ARTIFACTS, admin_login, watch_csp
from tests.conftest import make_order_input
from tests.factories import ChannelFactory, ProductFactory, ServiceLevelFactory, WarehouseFactory, stock_put
from tests.returns.helpers import delivered_order


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_customer_returns_an_item_and_staff_process_it(browser, live_server):
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="MAIN", priority=1)
    ServiceLevelFactory()
    product = ProductFactory(sku="WIDGET-1", name="Blue widget")
    stock_put(product, warehouse, 10)
    order = delivered_order(channel, make_order_input, email="ada@example.com")
    get_user_model().objects.create_superuser("desk", "desk@oms.example", "desk-pass-123")
    violations: list[str] = []

    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    customer = phone.new_page()
    watch_csp(customer, violations)
    customer.goto(f"{live_server.url}/track/")
    customer.get_by_label("Order number").fill(order.number)
    customer.get_by_label("E-mail used for the order").fill("ada@example.com")
    customer.get_by_role("button", name="Find my order").click()
    customer.get_by_role("heading", name=f"Order {order.number}").wait_for()
    assert customer.get_by_text("Your order has been delivered.", exact=True).is_visible()
    customer.screenshot(path=ARTIFACTS / "1-order-page-mobile.png", full_page=True)
    order_url = customer.url

    customer.get_by_role("link", name="Return items").click()
    customer.get_by_label("How many to return (up to 2)").select_option("1")
    customer.get_by_label("Why are you returning these items?").select_option("damaged")
    customer.get_by_label("Anything we should know? (optional)").fill("Cracked on arrival")
    customer.get_by_label("Store credit").check()
    customer.screenshot(path=ARTIFACTS / "2-return-form-mobile.png", full_page=True)
    customer.get_by_role("button", name="Request the return").click()
    rr = ReturnRequest.objects.get()
    customer.get_by_role("heading", name=f"Return {rr.number}").wait_for()
    customer.screenshot(path=ARTIFACTS / "3-return-confirmation.png", full_page=True)

    desk = browser.new_context().new_page()
    watch_csp(desk, violations)
    admin_login(desk, f"{live_server.url}/admin/returns/returnrequest/", "desk", "desk-pass-123")
    desk.get_by_role("link", name=rr.number).click()
    desk.get_by_role("button", name="Approve").click()
    desk.get_by_text(f"Return {rr.number} approved").wait_for()

    desk.goto(f"{live_server.url}/admin/returns/returnrequest/scan/")
    desk.get_by_label("Return number").fill(rr.number)
    desk.get_by_label("Return number").press("Enter")
    desk.get_by_role("heading", name=f"Inspect {rr.number}").wait_for()
    desk.get_by_label("Condition of WIDGET-1").select_option("resellable")
    desk.get_by_label("Disposition of WIDGET-1").select_option("restock")
    desk.screenshot(path=ARTIFACTS / "4-admin-inspect.png", full_page=True)
    desk.get_by_role("button", name="Save inspection").click()
    desk.get_by_text(f"{rr.number} inspected").wait_for()
    desk.get_by_role("button", name="Issue store credit").click()
    desk.get_by_text("Store credit SC-").wait_for()
    desk.screenshot(path=ARTIFACTS / "5-admin-resolved.png", full_page=True)

    customer.goto(order_url)
    returns = customer.locator("article.return")
    assert "Resolved" in returns.inner_text()
    assert "Store credit" in returns.inner_text() and "SC-" in returns.inner_text()
    assert "partly returned" in customer.locator("#status-heading").inner_text()
    customer.screenshot(path=ARTIFACTS / "6-customer-sees-resolution.png", full_page=True)
    assert violations == []
