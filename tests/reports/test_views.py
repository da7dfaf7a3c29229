"""reports.views: the KPI dashboard (the figures a manager reads, ranges, who may see it, queries
that don't grow with the data) and the CSV export of a filtered admin list (filters, search,
permissions, queries)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.csv_stream import BOM
from orders.models import Order
from reports.models import ExportLog
from returns.models import ReturnRequest
from tests.factories import (
    ChannelFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ReturnLineFactory,
    ShipmentFactory,
    backorder_event,
    staff_in,
    stock_item,
)

from .helpers import one_of_everything, read_csv, streamed_text

# The dashboard's tests pin the clock (tests/conftest.py): "today" is the same day for the view
# and for the test that reads it back, and the backlog's ages are what the fixture made them,
# whenever CI runs.
S = Order.Status
RANGE = {"start": "2026-03-01", "end": "2026-03-10"}


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def placed(channel, when, status, **kwargs) -> Order:
    order = OrderFactory(channel=channel, placed_at=when, status=status, **kwargs)
    Order.objects.filter(pk=order.pk).update(created_at=when)  # captured when placed
    return order


@pytest.fixture
def operation(db):
    """A small March: six orders in range, one outside, a backlog, shipments, returns, stock."""
    web = ChannelFactory(code="web", name="Web shop")
    phone = ChannelFactory(code="phone", name="Phone")
    a, b = ProductFactory(sku="SKU-A", name="Anvil"), ProductFactory(sku="SKU-B", name="Bucket")
    hour = dt.timedelta(hours=1)

    o1 = placed(web, at(1, 10), S.SHIPPED, shipped_at=at(1, 10) + 1 * hour)
    o2 = placed(web, at(1, 12), S.SHIPPED, shipped_at=at(1, 12) + 2 * hour)
    o3 = placed(phone, at(2), S.SHIPPED, shipped_at=at(2) + 3 * hour)
    o4 = placed(web, at(3), S.SHIPPED, shipped_at=at(3) + 10 * hour)
    backorder_event(placed(web, at(4), S.BACKORDERED))
    backorder_event(placed(phone, at(4), S.ALLOCATED))
    placed(web, dt.datetime(2026, 2, 20, tzinfo=dt.UTC), S.SHIPPED, shipped_at=at(1, 0))  # before range

    now = timezone.now()
    placed(web, now - 2 * hour, S.PENDING)
    placed(web, now - dt.timedelta(days=2), S.ON_HOLD)
    placed(phone, now - dt.timedelta(days=5), S.PROCESSING)

    march_4, march_5 = dt.date(2026, 3, 4), dt.date(2026, 3, 5)
    ShipmentFactory(
        order=o1, status="delivered", shipped_at=at(1, 11), estimated_delivery=march_4, delivered_at=at(3)
    )
    ShipmentFactory(
        order=o2, status="delivered", shipped_at=at(1, 14), estimated_delivery=march_4, delivered_at=at(5)
    )
    ShipmentFactory(order=o3, status="in_transit", shipped_at=at(2, 13), estimated_delivery=march_5)
    ShipmentFactory(order=o4, status="shipped", shipped_at=at(3, 20))
    ShipmentFactory(order=o4, status="shipped", shipped_at=at(3, 20),
                    estimated_delivery=timezone.localdate() + dt.timedelta(days=3))  # fmt: skip

    line1 = OrderLineFactory(order=o1, product=a, quantity=4, quantity_shipped=4)
    line2 = OrderLineFactory(order=o2, product=b, quantity=2, quantity_shipped=2)
    line3 = OrderLineFactory(order=o3, product=a, quantity=4, quantity_shipped=4)
    ReturnLineFactory(order_line=line1, return_request__order=o1, quantity=2)
    ReturnLineFactory(
        order_line=line2, return_request__order=o2, return_request__reason=ReturnRequest.Reason.DOES_NOT_FIT
    )
    ReturnLineFactory(order_line=line3, return_request__order=o3, return_request__status="rejected")

    stock_item(a, on_hand=10, reserved=6, reorder_point=5)  # 4 available: short by 1
    stock_item(b, on_hand=3, reserved=3, reorder_point=0)  # none available
    stock_item(ProductFactory(sku="SKU-C"), on_hand=20, reorder_point=5)  # fine


@pytest.mark.usefixtures("clock")
def test_dashboard_shows_the_kpis_a_manager_reads(manager_client, operation):
    response = manager_client.get(reverse("reports:dashboard"), RANGE)
    assert response.status_code == 200
    ctx = response.context

    assert ctx["orders_total"] == 6
    html = response.content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="kpi-chart') == 4
    main = html.split('id="content-main" class="kpi"', 1)[1]
    assert "<script" not in main.split("END SVGs", 1)[0].rsplit("</div>", 1)[0]  # charts need no JS
    assert "03-01 · Web shop: 2" in html  # bar tooltip: 2 web orders on 1 March
    assert "03-04 · Phone: 1" in html

    backlog = {row["status"]: row for row in ctx["backlog"]}
    assert ctx["backlog_total"] == 5
    assert (backlog["pending"]["total"], backlog["pending"]["under_1d"]) == (1, 1)
    assert backlog["on_hold"]["d1_3"] == 1
    assert backlog["processing"]["d3_7"] == 1
    assert backlog["backordered"]["over_7d"] == 1
    assert backlog["allocated"]["over_7d"] == 1
    assert "<tr><td>Backordered</td><td>0</td><td>0</td><td>0</td><td>1</td><td>1</td></tr>" in html

    lead, hour = ctx["lead_time"], dt.timedelta(hours=1)
    # Bands to the hour: 1, 2, 3 and 10 hours are each "within" their own hour.
    assert (lead.orders, lead.median.within, lead.p90.within) == (4, 2 * hour, 10 * hour)

    on_time = ctx["on_time"]
    assert (on_time["on_time"], on_time["late"], on_time["overdue"], on_time["pending"]) == (1, 1, 1, 1)
    assert on_time["no_estimate"] == 1
    assert on_time["rate"] == Decimal("33.3")

    backorders = ctx["backorders"]
    assert (backorders["backordered"], backorders["orders"], backorders["still_backordered"]) == (2, 6, 1)
    assert backorders["rate"] == Decimal("33.3")

    returns = ctx["returns"]
    assert (returns["returned_units"], returns["shipped_units"], returns["rate"]) == (3, 10, Decimal("30.0"))
    assert [(r["reason"], r["units"], r["rate"]) for r in returns["reasons"]] == [
        ("damaged", 2, Decimal("20.0")),
        ("does_not_fit", 1, Decimal("10.0")),
    ]
    assert [(r["sku"], r["returned"], r["shipped"], r["rate"]) for r in ctx["by_product"]] == [
        ("SKU-A", 2, 8, Decimal("25.0")),
        ("SKU-B", 1, 2, Decimal("50.0")),
    ]
    assert [r["name"] for r in ctx["by_product"]] == ["Anvil", "Bucket"]

    assert ctx["low_stock_total"] == 2
    assert [(i.product.sku, i.available_qty) for i in ctx["low_stock"]] == [("SKU-A", 4), ("SKU-B", 0)]
    assert "33.3%" in html and "30.0%" in html
    assert ">within 2 h<" in html and ">within 10 h<" in html  # lead time tiles


@pytest.mark.usefixtures("clock")
def test_a_narrower_range_changes_the_cohort(manager_client, operation):
    ctx = manager_client.get(
        reverse("reports:dashboard"), {"start": "2026-03-02", "end": "2026-03-02"}
    ).context
    assert ctx["orders_total"] == 1
    assert (ctx["lead_time"].median.within, ctx["lead_time"].p90.within) == (dt.timedelta(hours=3),) * 2
    assert ctx["backlog_total"] == 5  # the backlog is always "now"


@pytest.mark.usefixtures("clock")
def test_empty_range_shows_dashes_not_errors(manager_client, db):
    response = manager_client.get(reverse("reports:dashboard"), RANGE)
    assert response.status_code == 200
    assert response.context["lead_time"].median is None
    assert 'value="2026-03-01"' in response.content.decode()  # the range shown is the one asked for
    assert response.context["on_time"]["rate"] is None


@pytest.mark.usefixtures("clock")
@pytest.mark.parametrize(
    "params", [{"start": "not-a-date"}, {"start": "2026-03-10", "end": "2026-03-01"}, {"start": "1990-01-01"}]
)
def test_bad_range_is_explained_and_the_default_range_shown(manager_client, db, params):
    response = manager_client.get(reverse("reports:dashboard"), params)
    assert response.status_code == 200
    assert "Showing the default range instead." in response.content.decode()
    assert response.context["end"] == timezone.localdate()
    assert "Showing the default range instead." in response.content.decode()
    assert (response.context["end"] - response.context["start"]).days == 29


@pytest.mark.usefixtures("clock")
def test_only_managers_see_the_dashboard(client, clerk, manager):
    url = reverse("reports:dashboard")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert url not in client.get(reverse("admin:index")).content.decode()
    client.force_login(manager)
    assert url in client.get(reverse("admin:index")).content.decode()


def _dashboard_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("reports:dashboard"), RANGE).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.usefixtures("clock")
def test_dashboard_queries_do_not_grow_with_the_data(manager_client, operation):
    _dashboard_queries(manager_client)  # the first view builds the rollups
    small = _dashboard_queries(manager_client)
    web = ChannelFactory(code="web")
    for day in range(1, 10):
        order = placed(web, at(day), S.SHIPPED, shipped_at=at(day, 18))
        ShipmentFactory(
            order=order, status="shipped", shipped_at=at(day, 18), estimated_delivery=dt.date(2026, 3, 20)
        )
        line = OrderLineFactory(order=order, product=ProductFactory(), quantity=1, quantity_shipped=1)
        ReturnLineFactory(order_line=line, return_request__order=order)
        stock_item(line.product, on_hand=1, reorder_point=2)
    large = _dashboard_queries(manager_client)
    assert len(small) == len(large), "\n".join(large)


@pytest.mark.usefixtures("clock")
def test_without_a_range_the_last_30_days_are_shown_in_the_form(manager_client, db):
    response = manager_client.get(reverse("reports:dashboard"))
    today = timezone.localdate()
    html = response.content.decode()
    assert f'value="{today - dt.timedelta(days=29)}"' in html and f'value="{today}"' in html
    assert "Showing the default range instead." not in html


@pytest.mark.usefixtures("clock")
def test_dashboard_shows_the_lead_time_resolution(manager_client, db):
    html = manager_client.get(reverse("reports:dashboard")).content.decode()
    assert "to the hour up to 3 days, 6 h up to a week, a day up to 30 days" in html


def test_filtered_list_export_respects_filters_and_search(manager_client, manager, orders):
    evil, shipped, by_phone = orders
    url = reverse("reports:export", args=["orders"])
    response = manager_client.get(url, {"status__exact": "allocated", "channel__id__exact": evil.channel_id})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="orders.csv"' in response["Content-Disposition"]
    assert [r["number"] for r in read_csv(streamed_text(response))] == [evil.number]

    response = manager_client.get(url, {"q": shipped.email, "bom": "1"})
    text = streamed_text(response)
    assert text.startswith(BOM)
    assert [r["number"] for r in read_csv(text.removeprefix(BOM))] == [shipped.number]

    logs = list(ExportLog.objects.order_by("pk"))
    assert [(lg.user, lg.source, lg.row_count) for lg in logs] == [
        (manager, "admin", 1),
        (manager, "admin", 1),
    ]
    assert "status__exact=allocated" in logs[0].query
    assert f"q={shipped.email.replace('@', '%40')}" in logs[1].query


def test_order_lines_of_the_filtered_orders(manager_client, orders):
    evil, shipped, _ = orders
    OrderLineFactory(order=evil, sku="A")
    OrderLineFactory(order=shipped, sku="B")
    response = manager_client.get(reverse("reports:export", args=["order_lines"]), {"q": evil.email})
    assert [(r["order_number"], r["sku"]) for r in read_csv(streamed_text(response))] == [(evil.number, "A")]


def test_bad_filter_is_a_message_not_a_500(manager_client, orders):
    response = manager_client.get(reverse("reports:export", args=["orders"]), {"nonsense__field": "1"})
    assert response.status_code == 302
    assert not ExportLog.objects.exists()


def test_export_needs_view_permission_on_the_exported_rows(client, orders):
    """The export permission alone does not open rows the user may not see."""
    from tests.factories import UserFactory

    user = UserFactory(username="exporter")
    user.groups.add(Group.objects.get(name="Customer service"))
    user.user_permissions.add(*Group.objects.get(name="Managers").permissions.filter(codename="export_data"))
    client.force_login(user)
    assert client.get(reverse("reports:export", args=["stock_movements"])).status_code == 403
    assert client.get(reverse("reports:export", args=["orders"])).status_code == 200


def _queries_for_export(client, kind) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("reports:export", args=[kind]))
        streamed_text(response)
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("kind", ["orders", "order_lines", "returns", "return_lines", "stock_levels"])
def test_export_queries_do_not_grow_with_the_data(manager_client, kind):
    one_of_everything()
    small = _queries_for_export(manager_client, kind)
    for _ in range(6):
        one_of_everything()
    large = _queries_for_export(manager_client, kind)
    assert len(small) == len(large), "\n".join(large)
    assert len(large) <= 15, "\n".join(large)


def test_export_of_a_list_filtered_through_a_join(manager_client, orders):
    """The hold filter joins holds and adds DISTINCT; the export still works and has no duplicates."""
    from orders.models import OrderHold

    evil = orders[0]
    OrderHold.objects.create(order=evil, reason=OrderHold.Reason.FRAUD, detail="card")
    OrderHold.objects.create(order=evil, reason=OrderHold.Reason.FRAUD, detail="address")
    OrderLineFactory(order=evil)
    url = reverse("reports:export", args=["orders"])
    assert [r["number"] for r in read_csv(streamed_text(manager_client.get(url, {"hold": "fraud"})))] == [
        evil.number
    ]
    url = reverse("reports:export", args=["order_lines"])
    lines = read_csv(streamed_text(manager_client.get(url, {"hold": "fraud"})))
    assert [r["order_number"] for r in lines] == [evil.number]


@pytest.mark.django_db
def test_manager_exports_the_filtered_list_as_csv(client, channel):
    client.force_login(staff_in("Managers"))
    shipped = OrderFactory(status=Order.Status.SHIPPED, email="=cmd|' /C calc'!A0@example.com")
    OrderLineFactory(order=shipped)
    OrderFactory(status=Order.Status.CANCELLED)
    url = reverse("reports:export", args=["orders"]) + "?status__exact=shipped"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["number"] for r in rows] == [shipped.number]
    assert rows[0]["status"] == "shipped"
    assert rows[0]["email"].startswith("'=")
    assert rows[0]["placed_at"][:19] == shipped.placed_at.isoformat()[:19]


@pytest.mark.django_db
def test_customer_service_cannot_export(client):
    client.force_login(staff_in("Customer service"))
    assert client.get(reverse("reports:export", args=["orders"])).status_code == 403
