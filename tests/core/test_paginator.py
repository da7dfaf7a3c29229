"""core.paginator: counts exactly below the cap, estimates above it on PostgreSQL; the order list
never counts its whole table nor offers facet counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.paginator import LargeTablePaginator
from orders.models import Order
from tests.factories import OrderFactory


class SmallCap(LargeTablePaginator):
    CAP = 3


@pytest.fixture
def five_orders(db):
    return [OrderFactory(status=Order.Status.SHIPPED if i % 2 else Order.Status.PENDING) for i in range(5)]


def test_counts_exactly_below_the_cap_and_stops_at_it(five_orders):
    assert LargeTablePaginator(Order.objects.all(), 2).count == 5
    assert LargeTablePaginator(Order.objects.filter(status=Order.Status.PENDING), 2).count == 3
    capped = SmallCap(Order.objects.all(), 2)
    assert capped.count == 3
    assert capped.num_pages == 2


@pytest.mark.postgres
def test_unfiltered_big_table_uses_the_planner_estimate(five_orders):
    class Estimating(LargeTablePaginator):
        EXACT_BELOW = 0

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    with CaptureQueriesContext(connection) as ctx:
        assert Estimating(Order.objects.all(), 2).count == 5
    assert "pg_class" in ctx.captured_queries[0]["sql"]
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]


def test_order_list_never_counts_the_whole_table(manager_client, five_orders):
    with CaptureQueriesContext(connection) as ctx:
        response = manager_client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 5
    counts = [
        q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and "orders_order" in q["sql"]
    ]
    assert counts, "the list shows how many orders there are"
    assert all("LIMIT" in sql for sql in counts), counts


def test_order_list_offers_no_facet_counts(manager_client, five_orders):
    with CaptureQueriesContext(connection) as ctx:
        response = manager_client.get(reverse("admin:orders_order_changelist"), {"_facets": "1"})
    assert response.status_code == 200
    assert "Show counts" not in response.content.decode()
    counts = [
        q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and "orders_order" in q["sql"]
    ]
    assert all("LIMIT" in sql for sql in counts), counts
