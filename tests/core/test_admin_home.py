"""The admin home page: each role lands on its own work queues, with counts that match the lists
they link to, links that open for that role, and a number of queries that doesn't grow with the
data."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.admin_home import home_queues, home_sections
from core.models import Delivery
from fulfillment.models import PickList, Shipment
from intake.models import InboundRequest
from inventory.models import InboundReceipt
from orders.models import Order, OrderHold
from returns.models import ReturnRequest
from support.models import Thread
from tests.conftest import PINNED_NOW
from tests.factories import (
    ChannelFactory,
    OrderFactory,
    ReturnRequestFactory,
    ShipmentFactory,
    UserFactory,
    WarehouseFactory,
    stock_item,
)

SS = Shipment.Status
RS = ReturnRequest.Status
TODAY = PINNED_NOW.date()
LONG_AGO = PINNED_NOW - dt.timedelta(days=20)


# --- reading the page as a user sees it ----------------------------------------------------------
@dataclass
class Node:
    tag: str
    attrs: dict
    children: list = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())

    def all(self, tag: str | None = None, cls: str | None = None) -> list["Node"]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                    found.append(child)
                found.extend(child.all(tag, cls))
        return found

    def kids(self, tag: str) -> list["Node"]:
        return [c for c in self.children if isinstance(c, Node) and c.tag == tag]


class _Tree(HTMLParser):
    VOID = {"br", "hr", "img", "input", "link", "meta", "source", "col", "wbr"}

    def __init__(self):
        super().__init__()
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


@dataclass
class Line:
    count: str
    url: str
    zero: bool
    note: str = ""
    rows: dict = field(default_factory=dict)  # label -> Line


@dataclass
class Section:
    tools: dict  # title -> url
    queues: dict  # title -> Line
    links: dict  # group -> {title: url}


def _line(tr: Node) -> tuple[str, Line]:
    th, td = tr.kids("th")[0], tr.kids("td")[0]
    link = th.kids("a")[0]
    note = " ".join(n.text() for n in th.all("span", "oms-home-note"))
    return link.text(), Line(td.text(), link.attrs["href"], "oms-home-zero" in td.classes, note)


def home_page(client) -> dict[str, Section]:
    """The home page as {section title: Section}, in the page's order."""
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    tree = _Tree()
    tree.feed(response.content.decode())
    sections = {}
    for node in tree.root.all("section", "oms-home-section"):
        tools = {a.text(): a.attrs["href"] for ul in node.all("ul", "oms-home-tools") for a in ul.all("a")}
        queues = {}
        for body in node.all("tbody", "oms-home-queue"):
            head, *rows = body.kids("tr")
            title, line = _line(head)
            line.rows = dict(_line(tr) for tr in rows)
            queues[title] = line
        links = {
            nav.all("h3")[0].text(): {a.text(): a.attrs["href"] for a in nav.all("a")}
            for nav in node.all("nav", "oms-home-links")
        }
        sections[node.all("h2")[0].text()] = Section(tools, queues, links)
    return sections


def counts(section: Section) -> dict:
    """{queue: count} and, for a queue split in rows, {queue: {row: count}} (the total aside)."""
    return {
        title: ({label: row.count for label, row in q.rows.items()} if q.rows else q.count)
        for title, q in section.queues.items()
    }


def every_url(section: Section) -> list[str]:
    urls = [*section.tools.values()]
    for queue in section.queues.values():
        urls += [queue.url, *(row.url for row in queue.rows.values())]
    for group in section.links.values():
        urls += group.values()
    return urls


def assert_all_open(client, section: Section) -> None:
    failures = [
        f"{url}: {status}" for url in every_url(section) if (status := client.get(url).status_code) != 200
    ]
    assert failures == []


def listed(client, url: str) -> int:
    """How many rows the admin list at `url` shows (its own count, over all pages)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


# --- data ------------------------------------------------------------------------------------------
def staff_in(group: str, username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def warehouse_staff(db):
    return staff_in("Warehouse staff", "wendy")


@pytest.fixture
def service_staff(db):
    return staff_in("Customer service", "sam")


@pytest.fixture
def manager(db):
    return staff_in("Managers", "maya")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


def make_work(k: int) -> None:
    """Work in every queue, k times over, plus k-proportional rows that are in no queue (done or
    old), so two values of k show whether anything grows with the data. Counts: see expected()."""
    main = WarehouseFactory(code="MAIN", priority=1)
    east = WarehouseFactory(code="EAST", priority=2)
    WarehouseFactory(code="OLD", priority=3, is_active=False)
    yesterday = PINNED_NOW - dt.timedelta(days=1)
    for _ in range(2 * k):
        ShipmentFactory(warehouse=main, status=SS.PENDING)
    for i in range(k):
        pick_list = PickList.objects.create(number=f"PL-{i:03d}", warehouse=east if i % 2 else main)
        for _ in range(2):
            ShipmentFactory(warehouse=pick_list.warehouse, status=SS.PICKING, pick_list=pick_list)
        ShipmentFactory(warehouse=pick_list.warehouse, status=SS.PACKED, pick_list=pick_list)
        # on the way: shipped today, due tomorrow; late: due yesterday
        ShipmentFactory(
            warehouse=main,
            status=SS.IN_TRANSIT,
            shipped_at=PINNED_NOW,
            estimated_delivery=TODAY + dt.timedelta(1),
        )
        ShipmentFactory(
            warehouse=east,
            status=SS.SHIPPED,
            shipped_at=yesterday,
            estimated_delivery=TODAY - dt.timedelta(1),
        )
    for _ in range(3 * k):
        ShipmentFactory(
            warehouse=main, status=SS.DELIVERED, shipped_at=LONG_AGO, estimated_delivery=LONG_AGO.date()
        )

    for reason, n in [(OrderHold.Reason.ADDRESS, k), (OrderHold.Reason.FRAUD, 2 * k)]:
        for _ in range(n):
            OrderHold.objects.create(order=OrderFactory(status=Order.Status.ON_HOLD), reason=reason)
    for _ in range(3 * k):
        OrderHold.objects.create(order=OrderFactory(), reason=OrderHold.Reason.PAYMENT, released_at=LONG_AGO)

    for outcome, n in [("failed", k), ("held", 2 * k), ("captured", 3 * k), ("invalid", k)]:
        for _ in range(n):
            InboundRequest.objects.create(source="api", outcome=outcome)
    shop = ChannelFactory(kind="shopify")
    for _ in range(k):  # waiting for the intake worker
        InboundRequest.objects.create(source="shopify", channel=shop, outcome="received")
    InboundRequest.objects.create(source="csv", channel=shop, outcome="received")  # its import runs it

    for status, n in [("dead", k), ("paused", 1), ("delivered", 3 * k), ("pending", k)]:
        for _ in range(n):
            Delivery.objects.create(target="channel:1", topic="test.topic", status=status)

    for _ in range(k):
        OrderFactory(status=Order.Status.ALLOCATED)

    for minutes in [120, *[30] * (k - 1)]:
        Thread.objects.create(order=OrderFactory(), waiting_since=PINNED_NOW - dt.timedelta(minutes=minutes))
    for _ in range(2 * k):
        Thread.objects.create(order=OrderFactory(), status=Thread.Status.ANSWERED)

    for status, n in [(RS.REQUESTED, k), (RS.APPROVED, 2 * k), (RS.RECEIVED, 3 * k), (RS.RESOLVED, 4 * k)]:
        for _ in range(n):
            ReturnRequestFactory(status=status)

    for status, n in [("expected", k), ("partially_received", 1), ("received", 2 * k), ("cancelled", k)]:
        for _ in range(n):
            InboundReceipt.objects.create(supplier="ACME", warehouse=main, status=status)

    for i in range(k):
        stock_item(warehouse=main, on_hand=3, reserved=1, reorder_point=2, bin_location=f"LOW-{i}")
        stock_item(warehouse=main, on_hand=50, reorder_point=2, bin_location=f"OK-{i}")
        stock_item(warehouse=east, on_hand=0, reorder_point=0, bin_location=f"NONE-{i}")

    # Everything above was placed long ago; today: k in USD, one in EUR, one cancelled.
    Order.objects.update(placed_at=LONG_AGO)
    for _ in range(k):
        OrderFactory(currency="USD", total=Decimal("10.05"), placed_at=PINNED_NOW - dt.timedelta(hours=1))
    OrderFactory(currency="EUR", total=Decimal("5.50"), placed_at=PINNED_NOW - dt.timedelta(hours=2))
    OrderFactory(currency="USD", total=Decimal("99.00"), status=Order.Status.CANCELLED, placed_at=PINNED_NOW)
    OrderFactory(currency="USD", total=Decimal("7.00"), placed_at=yesterday)


def expected(k: int) -> dict[str, dict]:
    pick_lists = {f"PL-{i:03d} · {'EAST' if i % 2 else 'MAIN'}": "2" for i in range(k)}
    return {
        "Warehouse": {
            "Orders to start": str(k),
            "Ready to pick": {"MAIN": str(2 * k), "EAST": "0"},
            "Pick lists in progress": pick_lists,
            "Packed, not shipped": str(k),
            "Inbound receipts expected": str(k + 1),
            "Return parcels to receive": str(2 * k),
            "Returns to inspect": str(3 * k),
            "Low stock": str(k),
        },
        "Customer service": {
            "Holds": {"Address unverifiable": str(k), "Fraud review": str(2 * k)},
            "Failed inbound requests": str(k),
            "Inbound requests waiting": str(k),
            "Customer messages to answer": str(k),
            "Returns to approve": str(k),
            "Late shipments": str(k),
            "Failed deliveries to channels": str(k + 1),
        },
        "Managers": {
            "Orders placed today": str(k + 2),
            "Shipments shipped today": str(k),
            "Orders on hold now": str(3 * k),
            "Revenue today": {"EUR": "5.50", "USD": f"{Decimal('10.05') * k:,}"},
        },
    }


@pytest.fixture
def work(db, clock):
    make_work(1)


def visible(expected_section: dict, hidden: set[str]) -> dict:
    return {title: value for title, value in expected_section.items() if title not in hidden}


# --- each role sees its own work ------------------------------------------------------------------
def test_warehouse_staff_land_on_the_warehouse_queues(work, login, warehouse_staff):
    page = home_page(login(warehouse_staff))

    assert list(page) == ["Warehouse"]
    assert counts(page["Warehouse"]) == expected(1)["Warehouse"]
    assert page["Warehouse"].queues["Ready to pick"].count == "2"  # the warehouses' total
    assert page["Warehouse"].queues["Ready to pick"].rows["EAST"].zero
    assert list(page["Warehouse"].tools) == ["Build a pick list", "Packing station", "Receive a return"]


def test_warehouse_links_open_for_warehouse_staff_and_list_what_was_counted(work, login, warehouse_staff):
    client = login(warehouse_staff)
    section = home_page(client)["Warehouse"]

    assert_all_open(client, section)
    ready = section.queues["Ready to pick"]
    assert listed(client, ready.rows["MAIN"].url) == 2
    assert listed(client, ready.url) == 2
    for title in [
        "Orders to start",
        "Packed, not shipped",
        "Inbound receipts expected",
        "Return parcels to receive",
        "Low stock",
    ]:
        assert listed(client, section.queues[title].url) == int(section.queues[title].count), title
    (pick_list,) = section.queues["Pick lists in progress"].rows.values()
    assert listed(client, pick_list.url) == 2
    assert "Scan" in client.get(section.tools["Packing station"]).content.decode()


def test_warehouse_staff_build_a_pick_list_in_one_click(work, login, warehouse_staff):
    client = login(warehouse_staff)
    tools = home_page(client)["Warehouse"].tools

    assert "Build a pick list" in tools
    assert client.get(tools["Build a pick list"]).status_code == 200


def test_customer_service_land_on_their_queues(work, login, service_staff):
    page = home_page(login(service_staff))

    assert list(page) == ["Customer service"]
    assert counts(page["Customer service"]) == expected(1)["Customer service"]
    assert page["Customer service"].queues["Holds"].count == "3"
    assert page["Customer service"].queues["Customer messages to answer"].note == "oldest waiting 2 hours"


def test_customer_service_links_open_and_list_what_was_counted(work, login, service_staff):
    client = login(service_staff)
    section = home_page(client)["Customer service"]

    assert_all_open(client, section)
    holds = section.queues["Holds"]
    assert listed(client, holds.rows["Fraud review"].url) == 2
    assert listed(client, holds.url) == 3
    for title in ["Customer messages to answer", "Returns to approve", "Failed deliveries to channels"]:
        assert listed(client, section.queues[title].url) == int(section.queues[title].count), title


def test_customer_service_see_failed_inbound_requests(work, login, service_staff):
    client = login(service_staff)
    queue = home_page(client)["Customer service"].queues["Failed inbound requests"]

    assert queue.count == "1"
    assert listed(client, queue.url) == 1


def test_customer_service_see_late_shipments(work, login, service_staff):
    client = login(service_staff)
    queue = home_page(client)["Customer service"].queues["Late shipments"]

    assert queue.count == "1"
    assert listed(client, queue.url) == 1


def test_managers_land_on_todays_figures_the_dashboard_and_the_exports(work, login, manager):
    client = login(manager)
    page = home_page(client)

    assert list(page) == ["Managers"]
    section = page["Managers"]
    assert counts(section) == expected(1)["Managers"]
    assert section.queues["Revenue today"].count == ""  # no total across currencies
    assert section.tools == {"KPI dashboard": reverse("reports:dashboard")}
    assert list(section.links["CSV exports"]) == [
        "Orders",
        "Shipments",
        "Tracking events",
        "Return requests",
        "Refunds",
        "Stock items",
        "Stock movements",
    ]
    assert_all_open(client, section)
    for title in ["Orders placed today", "Shipments shipped today", "Orders on hold now"]:
        assert listed(client, section.queues[title].url) == int(section.queues[title].count), title
    assert listed(client, section.queues["Revenue today"].rows["EUR"].url) == 1
    assert "Orders CSV" in client.get(section.links["CSV exports"]["Orders"]).content.decode()


def test_a_superuser_sees_every_section_and_every_queue(work, login, superuser):
    page = home_page(login(superuser))

    assert {title: counts(section) for title, section in page.items()} == expected(1)
    assert list(page["Warehouse"].tools) == ["Build a pick list", "Packing station", "Receive a return"]


def test_a_user_in_no_staff_group_sees_the_queues_their_permissions_open(db, clock, login):
    make_work(1)
    user = UserFactory(username="auditor")
    user.user_permissions.add(Permission.objects.get(codename="view_returnrequest"))

    page = home_page(login(user))

    assert counts(page["Warehouse"]) == {"Return parcels to receive": "2", "Returns to inspect": "3"}
    assert counts(page["Customer service"]) == {"Returns to approve": "1"}
    assert list(page) == ["Warehouse", "Customer service"]


def test_empty_queues_show_a_muted_zero_and_the_records_stay_reachable(db, clock, login, superuser):
    client = login(superuser)
    page = home_page(client)

    warehouse = page["Warehouse"]
    assert warehouse.queues["Packed, not shipped"].count == "0"
    assert warehouse.queues["Packed, not shipped"].zero
    assert warehouse.queues["Low stock"].zero
    assert page["Customer service"].queues["Holds"].count == "0"
    assert page["Managers"].queues["Revenue today"].count == "0"
    html = client.get(reverse("admin:index")).content.decode()
    assert "<summary>All records</summary>" in html
    assert reverse("admin:orders_order_changelist") in html


def test_staff_without_any_queue_get_the_records_unfolded(db, login):
    page_html = login(UserFactory(username="nobody")).get(reverse("admin:index")).content.decode()

    assert "oms-home-section" not in page_html
    assert '<details class="oms-home-records" open>' in page_html


def test_the_app_index_pages_keep_their_own_layout(db, login, superuser):
    html = login(superuser).get(reverse("admin:app_list", args=["orders"])).content.decode()

    assert "oms-home-section" not in html


def test_a_long_run_of_pick_lists_ends_in_one_line_for_the_rest(db, clock, login, superuser):
    main = WarehouseFactory(code="MAIN")
    for i in range(11):
        pick_list = PickList.objects.create(number=f"PL-{i:03d}", warehouse=main)
        ShipmentFactory(warehouse=main, status=SS.PICKING, pick_list=pick_list)
    client = login(superuser)

    rows = home_page(client)["Warehouse"].queues["Pick lists in progress"].rows

    assert list(rows)[:2] == ["PL-000 · MAIN", "PL-001 · MAIN"]
    assert len(rows) == 9
    assert rows["3 more pick lists"].count == "3"
    assert listed(client, rows["3 more pick lists"].url) == 11


# --- performance: a fixed number of queries ------------------------------------------------------
def test_each_queue_costs_one_query(db, clock, superuser):
    make_work(2)
    counted = [q for q in home_queues() if q.count is not None]

    with CaptureQueriesContext(connection) as ctx:
        home_sections(superuser)

    assert len(ctx.captured_queries) == len(counted) == 19


# The whole page: session and user, the user's permissions and group names (none for a superuser),
# the recent-actions box, and one query per queue shown.
PAGE_QUERIES = {
    "superuser": 2 + 1 + 19,
    "warehouse_staff": 2 + 3 + 1 + 8,
    "service_staff": 2 + 3 + 1 + 7,
    "manager": 2 + 3 + 1 + 4,
}


@pytest.mark.parametrize("scale", [1, 4])
@pytest.mark.parametrize("who", sorted(PAGE_QUERIES))
def test_the_page_costs_the_same_queries_whatever_the_data(
    db, clock, client, scale, who, request, django_assert_num_queries
):
    make_work(scale)
    client.force_login(request.getfixturevalue(who))

    with django_assert_num_queries(PAGE_QUERIES[who]):
        assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.postgres
def test_the_big_tables_are_counted_through_indexes(db, clock, superuser):
    """With sequential scans priced out, every count over orders, holds and shipments still has
    a plan: an index serves each filter (on a small test table the planner would scan anyway)."""
    make_work(1)
    with CaptureQueriesContext(connection) as ctx:
        home_sections(superuser)
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in ctx.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    big = ["orders_order", "orders_orderhold", "fulfillment_shipment"]
    scanned = [p for p in plans if any(f"Seq Scan on {table}" in p for table in big)]
    assert scanned == []
    assert sum(any(table in p for table in big) for p in plans) == 10
