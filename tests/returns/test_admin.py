"""The returns desk in the admin: the queue, scan-to-receive, per-line inspection, resolution; a
store credit's page shows where it was spent."""

from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import StockItem
from orders.services import order_cancel
from returns.models import ReturnRequest
from returns.services import return_request_approve, return_request_create

from .helpers import delivered_order, pay_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(channel, stocked_product, service_level, order_input):
    order = delivered_order(channel, order_input)
    rr = return_request_create(order_id=order.pk, quantities={order.lines.get().pk: 2}, reason="damaged")
    return return_request_approve(return_id=rr.pk)


def test_queue_lists_work_to_do_first(admin_client, approved, channel, order_input):
    done = ReturnRequest.objects.create(order=approved.order, reason="other")
    ReturnRequest.objects.filter(pk=done.pk).update(status="resolved")
    fresh = ReturnRequest.objects.create(order=approved.order, reason="other")
    page = admin_client.get(reverse("admin:returns_returnrequest_changelist")).content.decode()
    assert page.index(fresh.number) < page.index(approved.number) < page.index(done.number)
    waiting = admin_client.get(reverse("admin:returns_returnrequest_changelist") + "?queue=awaiting")
    assert approved.number in waiting.content.decode() and fresh.number not in waiting.content.decode()


def test_scanning_receives_then_inspection_restocks_only_restock_lines(
    admin_client, approved, stocked_product
):
    before = StockItem.objects.get(product=stocked_product).on_hand
    scan = admin_client.post(
        reverse("admin:returns_returnrequest_scan"), {"number": f" {approved.number.lower()} "}
    )
    inspect_url = reverse("admin:returns_returnrequest_inspect", args=[approved.pk])
    assert scan.status_code == 302 and scan["Location"] == inspect_url
    approved.refresh_from_db()
    assert approved.status == "received"
    assert StockItem.objects.get(product=stocked_product).on_hand == before

    line = approved.lines.get()
    form = admin_client.get(inspect_url)
    assert f"condition-{line.pk}" in form.content.decode()
    bad = admin_client.post(
        inspect_url, {f"condition-{line.pk}": "missing", f"disposition-{line.pk}": "restock"}
    )
    assert bad.status_code == 200 and "nothing to restock" in bad.content.decode()
    ok = admin_client.post(
        inspect_url, {f"condition-{line.pk}": "resellable", f"disposition-{line.pk}": "restock"}
    )
    assert ok.status_code == 302
    assert StockItem.objects.get(product=stocked_product).on_hand == before + 2

    change = admin_client.get(
        reverse("admin:returns_returnrequest_change", args=[approved.pk])
    ).content.decode()
    assert "50.00 USD" in change  # the quote: both units, damaged, no fees
    refund = admin_client.post(
        reverse("admin:returns_returnrequest_object_action", args=[approved.pk, "refund"])
    )
    assert refund.status_code == 302
    approved.refresh_from_db()
    assert approved.status == "resolved" and approved.refunds.get().amount == Decimal("50.00")
    order_page = admin_client.get(
        reverse("admin:orders_order_change", args=[approved.order_id])
    ).content.decode()
    assert "fully returned (2 of 2 units)" in order_page


def test_scanning_an_unknown_or_finished_return_says_so(admin_client, approved):
    unknown = admin_client.post(
        reverse("admin:returns_returnrequest_scan"), {"number": "RMA-NOTHERE"}, follow=True
    )
    assert "No return with the number" in unknown.content.decode()
    ReturnRequest.objects.filter(pk=approved.pk).update(status="resolved")
    again = admin_client.post(
        reverse("admin:returns_returnrequest_scan"), {"number": approved.number}, follow=True
    )
    assert "nothing to receive" in again.content.decode()


def test_reject_without_reason_is_refused_on_the_page(
    admin_client, channel, stocked_product, service_level, order_input
):
    order = delivered_order(channel, order_input)
    rr = return_request_create(order_id=order.pk, quantities={order.lines.get().pk: 1}, reason="other")
    url = reverse("admin:returns_returnrequest_object_action", args=[rr.pk, "reject"])
    response = admin_client.post(url, {"note": ""}, follow=True)
    assert "is required" in response.content.decode()
    rr.refresh_from_db()
    assert rr.status == "requested"


def test_store_credit_page_lists_where_it_was_spent_and_given_back(
    admin_client, channel, order_input, credit
):
    order = pay_with(channel, order_input, credit.code)
    order_cancel(order_id=order.pk)
    page = admin_client.get(reverse("admin:returns_storecredit_change", args=[credit.pk])).content.decode()
    assert order.number in page
    assert "25.00" in page and "-25.00" in page
    assert "Spent on orders (negative: given back)" in page
