"""portal.selectors: the order page's read, written as SQL, gives what the ORM gives (same values,
same types, on SQLite and PostgreSQL), in a fixed number of queries for one order or many."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.selectors import order_list_pages
from tests.factories import OrderFactory

from .helpers import AT, full_order

pytestmark = pytest.mark.django_db


def test_values_and_types_are_the_orms():
    order = full_order()
    [page] = order_list_pages(numbers=[order.number])
    assert page.order.number == order.number and page.order.status_label == "Delivered"
    assert page.order.placed_at == order.placed_at and page.order.placed_at.tzinfo is not None
    assert page.order.discount_total == Decimal("1.50") and str(page.order.total) == "41.00"
    assert page.order.city == order.shipping_address.city and page.order.has_address
    assert [(line.name, str(line.line_total)) for line in page.lines] == [
        ("Item 0", "39.98"),
        ("Item 1", "39.98"),
    ]
    [parcel] = page.parcels
    assert (
        parcel.service == "UPS Ground"
        and parcel.tracking_url == f"https://www.ups.com/track?tracknum=1ZPAGE{order.pk}"
    )
    assert parcel.delivered_at == AT and parcel.estimated_delivery == dt.date(2026, 3, 3)
    assert [(i.quantity, i.name) for i in parcel.items] == [(2, "Item 0"), (2, "Item 1")]
    [rr] = page.returns
    assert rr.status_label == "Resolved" and rr.replacement_number and rr.credit_code.startswith("SC-")
    assert rr.credit_balance == Decimal("9.99") and str(rr.credit_balance) == "9.99"
    assert [(i.quantity, i.name) for i in rr.items] == [(1, "Item 0")]
    titles = [(e.title, e.detail, e.source) for e in page.timeline]
    assert titles == [("Shipped", "On its way", "order"), ("In transit", "Scan · Memphis", "carrier")]
    assert all(e.at.tzinfo is not None for e in page.timeline)
    assert [(m.author, m.body) for m in page.thread_messages] == [("customer", "Where is it?")]
    assert page.has_thread and page.return_state == "partially_returned" and page.may_return


def test_a_bare_order_and_an_unknown_number():
    order = OrderFactory(status="pending", shipping_address=None)
    [page] = order_list_pages(numbers=[order.number, "SO-NOSUCH1"])
    assert page.order.number == order.number and not page.order.has_address
    assert page.lines == page.parcels == page.returns == page.timeline == page.thread_messages == []
    assert not page.has_thread and not page.may_return
    assert order_list_pages(numbers=["SO-NOSUCH1"]) == [] and order_list_pages(numbers=[]) == []


def test_numbers_are_matched_exactly():
    order = OrderFactory()
    assert order_list_pages(numbers=[order.number.lower()]) == []


def _queries(numbers) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as ctx:
        pages = order_list_pages(numbers=numbers)
    return len(ctx.captured_queries), pages


def test_one_order_or_many_in_the_same_queries():
    orders = [full_order(lines=n) for n in (1, 10, 3)]
    counts_and_pages = [_queries([o.number]) for o in orders]
    assert {count for count, _ in counts_and_pages} == {4}
    many_count, many = _queries([o.number for o in orders])
    assert many_count == 4
    # Each order's page read with the others is its page read alone.
    assert many == [pages[0] for _, pages in counts_and_pages]
