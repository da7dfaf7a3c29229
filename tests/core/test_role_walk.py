"""Each demo role's day, walked in the admin while logged in as that role (the logins `seed_demo`
makes: warehouse, service, manager, each in its staff group, with the demo password).

PAGES is the guarantee: every page a role's jobs need opens for it (200), and the pages of what it
must not do refuse it (403). WRITES posts what each role must not do and expects 403 with nothing
changed. The crawl follows every link and button each role's pages offer, from its home page, and
finds none that refuses it: a role is never offered what it may not do.
"""

import collections
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

from core.models import Delivery
from fulfillment.models import Shipment
from fulfillment.picking import pick_list_create
from fulfillment.services import order_start_fulfillment, shipment_pack
from intake.models import InboundRequest
from inventory.models import Product, StockItem
from orders.models import Order
from orders.services import order_capture
from portal.management.commands.seed_demo import DEMO_PASSWORD, demo_staff_create
from returns.models import ReturnRequest
from returns.services import (
    return_request_approve,
    return_request_create,
    return_request_inspect,
    return_request_receive,
)
from support.models import Thread
from tests.factories import ProductFactory, WarehouseFactory, stock_put
from tests.returns.helpers import delivered_order

OK, NO = 200, 403
ROLES = ("warehouse", "service", "manager")  # the demo logins, in the order of the columns below


@dataclass
class Day:
    """One of everything the three roles work on."""

    held: Order  # on hold for an unknown SKU, from an inbound request
    inbound: InboundRequest  # failed: waits to be re-processed
    allocated: Order  # waits for fulfilment to start; a customer message waits on it
    picking: Shipment  # on a pick list
    packed: Shipment
    requested: ReturnRequest
    approved: ReturnRequest
    received: ReturnRequest
    inspected: ReturnRequest
    thread: Thread
    product: Product
    stock_item: StockItem


@pytest.fixture
def day(db, channel, service_level, order_input) -> Day:
    main = WarehouseFactory(code="MAIN", priority=1)
    widget = ProductFactory(sku="WIDGET-1", name="Blue widget")
    stock_put(widget, main, 20, bin_location="A-01-1")

    emails = iter(f"customer{i}@example.com" for i in range(100))  # no suspected duplicates

    def capture(*lines):
        return order_capture(channel=channel, data=order_input(lines=list(lines), email=next(emails)))

    held = capture(("NOPE-9", 1, "5.00"))
    InboundRequest.objects.create(source="api", channel=channel, outcome="held", order=held, body="{}")
    inbound = InboundRequest.objects.create(source="api", channel=channel, outcome="failed", body="{}")
    allocated = capture(("WIDGET-1", 1, "25.00"))
    thread = Thread.objects.create(order=allocated)
    (picking,) = order_start_fulfillment(order_id=capture(("WIDGET-1", 1, "25.00")).pk)
    pick_list_create(warehouse_id=main.pk)
    (packed,) = order_start_fulfillment(order_id=capture(("WIDGET-1", 1, "25.00")).pk)
    shipment_pack(shipment_id=packed.pk)
    returns = []
    for steps in range(4):
        order = delivered_order(channel, order_input, lines=[("WIDGET-1", 1, "25.00")], email=next(emails))
        rr = return_request_create(order_id=order.pk, quantities={order.lines.get().pk: 1}, reason="damaged")
        for step in [return_request_approve, return_request_receive, return_request_inspect][:steps]:
            step(return_id=rr.pk)
        returns.append(rr)
    Delivery.objects.create(target=f"channel:{channel.pk}", topic="test.update", status="dead")
    requested, approved, received, inspected = returns
    return Day(
        held=held,
        inbound=inbound,
        allocated=allocated,
        picking=Shipment.objects.get(pk=picking.pk),
        packed=packed,
        requested=requested,
        approved=approved,
        received=received,
        inspected=inspected,
        thread=thread,
        product=widget,
        stock_item=StockItem.objects.get(product=widget),
    )


def action(obj, name: str) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_object_action", args=[obj.pk, name])


def change(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def url(name: str, *args, query: str = "") -> str:
    return reverse(name, args=args) + (f"?{query}" if query else "")


# (page, its URL from the day's data, warehouse, service, manager)
PAGES = [
    # --- the warehouse's day: orders to start, pick lists, the packing station, shipping, stock,
    # return parcels
    ("home page", lambda d: url("admin:index"), OK, OK, OK),
    (
        "orders to start",
        lambda d: url("admin:orders_order_changelist", query="status__exact=allocated"),
        OK,
        OK,
        OK,
    ),
    ("an order's page", lambda d: change(d.allocated), OK, OK, OK),
    ("start fulfilment", lambda d: action(d.allocated, "start_fulfillment"), OK, NO, NO),
    ("build a pick list", lambda d: url("admin:fulfillment_picklist_add"), OK, NO, NO),
    ("pick lists", lambda d: url("admin:fulfillment_picklist_changelist"), OK, NO, OK),
    (
        "print a pick list",
        lambda d: url("admin:fulfillment_picklist_print", d.picking.pick_list_id),
        OK,
        NO,
        OK,
    ),
    ("packing station", lambda d: url("admin:fulfillment_shipment_pack_station"), OK, NO, NO),
    (
        "pack a shipment by scanning",
        lambda d: url("admin:fulfillment_shipment_pack", d.picking.pk),
        OK,
        NO,
        NO,
    ),
    ("packing slip", lambda d: url("admin:fulfillment_shipment_packing_slip", d.packed.pk), OK, OK, OK),
    ("ship a packed shipment", lambda d: action(d.packed, "ship"), OK, NO, NO),
    ("change a shipment's carrier service", lambda d: action(d.packed, "change_service"), OK, NO, NO),
    ("a shipment's page", lambda d: change(d.packed), OK, OK, OK),
    ("receive stock of a product", lambda d: action(d.product, "receive"), OK, NO, OK),
    ("count a stock item", lambda d: action(d.stock_item, "count"), OK, NO, OK),
    ("the stock ledger", lambda d: url("admin:inventory_stockmovement_changelist"), OK, NO, OK),
    ("inbound receipts", lambda d: url("admin:inventory_inboundreceipt_changelist"), OK, NO, OK),
    ("add an inbound receipt", lambda d: url("admin:inventory_inboundreceipt_add"), OK, NO, OK),
    ("scan a return parcel", lambda d: url("admin:returns_returnrequest_scan"), OK, NO, NO),
    ("receive an approved return", lambda d: action(d.approved, "receive"), OK, NO, NO),
    (
        "inspect a received return",
        lambda d: url("admin:returns_returnrequest_inspect", d.received.pk),
        OK,
        NO,
        NO,
    ),
    # --- customer service's day: holds and unknown SKUs, inbound requests, orders and addresses,
    # messages, returns and refunds, late shipments, failed deliveries
    ("holds queue", lambda d: url("admin:orders_orderhold_changelist"), NO, OK, OK),
    ("a held order's page", lambda d: change(d.held), OK, OK, OK),
    (
        "map the unknown SKU (from the held order)",
        lambda d: url(
            "admin:intake_skumapping_add", query=f"channel={d.held.channel_id}&external_key=NOPE-9"
        ),
        NO,
        OK,
        OK,
    ),
    ("SKU mappings", lambda d: url("admin:intake_skumapping_changelist"), NO, OK, OK),
    ("match SKUs again and re-check", lambda d: action(d.held, "rematch"), NO, OK, NO),
    ("release holds", lambda d: action(d.held, "release"), NO, OK, NO),
    (
        "failed inbound requests",
        lambda d: url("admin:intake_inboundrequest_changelist", query="outcome__exact=failed"),
        NO,
        OK,
        OK,
    ),
    ("an inbound request", lambda d: change(d.inbound), NO, OK, OK),
    ("re-process an inbound request", lambda d: action(d.inbound, "reprocess"), NO, OK, NO),
    ("upload a marketplace file", lambda d: url("admin:intake_importbatch_add"), NO, OK, NO),
    ("take a phone order", lambda d: url("admin:orders_order_phone"), NO, OK, NO),
    ("correct an address", lambda d: change(d.held.shipping_address), NO, OK, OK),
    ("cancel an order", lambda d: action(d.allocated, "cancel"), NO, OK, NO),
    ("add a note to an order", lambda d: action(d.allocated, "note"), NO, OK, NO),
    (
        "customer messages to answer",
        lambda d: url("admin:support_thread_changelist", query="queue=waiting"),
        NO,
        OK,
        OK,
    ),
    ("answer a customer", lambda d: change(d.thread), NO, OK, OK),
    ("close a conversation", lambda d: action(d.thread, "close"), NO, OK, NO),
    (
        "returns to approve",
        lambda d: url("admin:returns_returnrequest_changelist", query="queue=decide"),
        OK,
        OK,
        OK,
    ),
    ("approve a return", lambda d: action(d.requested, "approve"), NO, OK, NO),
    ("reject a return", lambda d: action(d.requested, "reject"), NO, OK, NO),
    ("refund a return", lambda d: action(d.inspected, "refund"), NO, OK, NO),
    ("give store credit", lambda d: action(d.inspected, "store_credit"), NO, OK, NO),
    ("late shipments", lambda d: url("admin:fulfillment_lateshipment_changelist"), NO, OK, OK),
    (
        "failed deliveries to channels",
        lambda d: url("admin:core_delivery_changelist", query="status__in=dead,paused"),
        NO,
        OK,
        OK,
    ),
    ("refunds", lambda d: url("admin:returns_refund_changelist"), NO, OK, OK),
    # --- managers: the dashboard, exports, the catalogue, channels and carriers
    ("KPI dashboard", lambda d: url("reports:dashboard"), NO, NO, OK),
    ("export orders as CSV", lambda d: url("reports:export", "orders"), NO, NO, OK),
    ("export log", lambda d: url("admin:reports_exportlog_changelist"), NO, NO, OK),
    ("add a product", lambda d: url("admin:inventory_product_add"), NO, NO, OK),
    ("add a warehouse", lambda d: url("admin:inventory_warehouse_add"), NO, NO, OK),
    ("carriers", lambda d: url("admin:fulfillment_carrier_changelist"), OK, OK, OK),
    ("add a carrier", lambda d: url("admin:fulfillment_carrier_add"), NO, NO, OK),
    ("add a service level", lambda d: url("admin:fulfillment_servicelevel_add"), NO, NO, OK),
    ("a channel's page", lambda d: change(d.held.channel), NO, OK, OK),
    ("add a channel", lambda d: url("admin:orders_channel_add"), NO, NO, OK),
    ("create a channel API key", lambda d: action(d.held.channel, "create_key"), NO, NO, OK),
    ("channel API keys", lambda d: url("admin:intake_channelapikey_changelist"), NO, NO, OK),
]


def login(client, username: str):
    demo_staff_create()
    assert client.login(username=username, password=DEMO_PASSWORD)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_what_its_jobs_need_and_is_refused_the_rest(client, day, role):
    client = login(client, role)
    column = 2 + ROLES.index(role)
    wrong = []
    for row in PAGES:
        page, make_url, expected = row[0], row[1], row[column]
        status = client.get(make_url(day)).status_code
        if status != expected:
            wrong.append(f"{page}: {status}, expected {expected}")
    assert wrong == []


# (what a role must not do, the role, the POST's URL and data from the day's data)
WRITES = [
    (
        "the warehouse cancels an order",
        "warehouse",
        lambda d: (action(d.allocated, "cancel"), {"reason": "x"}),
    ),
    ("the warehouse refunds a return", "warehouse", lambda d: (action(d.inspected, "refund"), {})),
    (
        "the warehouse approves a return",
        "warehouse",
        lambda d: (action(d.requested, "approve"), {"note": ""}),
    ),
    (
        "the warehouse re-processes an inbound request",
        "warehouse",
        lambda d: (action(d.inbound, "reprocess"), {}),
    ),
    (
        "customer service packs at the station",
        "service",
        lambda d: (url("admin:fulfillment_shipment_pack", d.picking.pk), {"code": "WIDGET-1"}),
    ),
    (
        "customer service ships a parcel",
        "service",
        lambda d: (action(d.packed, "ship"), {"tracking_number": "1Z"}),
    ),
    (
        "customer service edits a product",
        "service",
        lambda d: (change(d.product), {"sku": "WIDGET-1", "name": "Renamed", "price": "1.00"}),
    ),
    ("customer service receives a return parcel", "service", lambda d: (action(d.approved, "receive"), {})),
    ("the manager releases a hold", "manager", lambda d: (action(d.held, "release"), {})),
    ("the manager cancels an order", "manager", lambda d: (action(d.allocated, "cancel"), {"reason": "x"})),
    (
        "the manager re-processes an inbound request",
        "manager",
        lambda d: (action(d.inbound, "reprocess"), {}),
    ),
    (
        "the manager packs at the station",
        "manager",
        lambda d: (url("admin:fulfillment_shipment_pack_station"), {"code": "X"}),
    ),
    ("the manager refunds a return", "manager", lambda d: (action(d.inspected, "refund"), {})),
    (
        "the manager answers a customer",
        "manager",
        lambda d: (
            change(d.thread),
            {
                "messages-TOTAL_FORMS": "1",
                "messages-INITIAL_FORMS": "0",
                "messages-0-body": "Hello",
            },
        ),
    ),
    (
        "the manager corrects an address",
        "manager",
        lambda d: (change(d.held.shipping_address), {"name": "X", "line1": "1 Road", "country": "US"}),
    ),
]


def state(day: Day) -> list:
    """What the refused writes would have changed."""
    return [
        *Order.objects.order_by("pk").values_list("status", flat=True),
        *Shipment.objects.order_by("pk").values_list("status", "tracking_number"),
        *ReturnRequest.objects.order_by("pk").values_list("status", flat=True),
        *InboundRequest.objects.order_by("pk").values_list("attempts", flat=True),
        Product.objects.get(pk=day.product.pk).name,
        day.held.shipping_address.__class__.objects.get(pk=day.held.shipping_address_id).name,
        day.thread.messages.count(),
    ]


@pytest.mark.parametrize("what,role,request_of", WRITES, ids=[w[0] for w in WRITES])
def test_what_a_role_must_not_do_is_refused_and_changes_nothing(client, day, what, role, request_of):
    client = login(client, role)
    before = state(day)
    post_url, data = request_of(day)

    assert client.post(post_url, data).status_code == 403
    assert state(day) == before


# --- offered only what it may do --------------------------------------------------------------
HREF = re.compile(r'(?:href|action)="([^"#]+)"')
NOT_FOLLOWED = ("/logout/", "/password_change/", "/delete/", "/history/", "/autocomplete/", "/jsi18n/")
PAGES_AT_MOST = 700


def shape(path: str) -> str:
    """A page is its path: the same list filtered or sorted otherwise says nothing new about who
    may open it. Every object's own pages are walked, though: what they offer depends on the
    object's state (a packed shipment offers "Ship", one being picked "Pack by scanning")."""
    return path


def crawl(client) -> tuple[int, list[str]]:
    """Follow every admin link and form a page offers, from the home page, one URL per page (see
    shape). Returns (pages seen, refusals)."""
    queue = collections.deque([(reverse("admin:index"), "login")])
    shapes, seen, refused = set(), set(), []
    while queue and len(seen) < PAGES_AT_MOST:
        page, came_from = queue.popleft()
        if page in seen:
            continue
        seen.add(page)
        response = client.get(page)
        if response.status_code >= 400:
            refused.append(f"{page} ({response.status_code}) offered on {came_from}")
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for href in HREF.findall(response.content.decode()):
            target = urljoin(page, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if (
                parts.netloc
                or not parts.path.startswith("/admin/")
                or any(n in parts.path for n in NOT_FOLLOWED)
            ):
                continue
            key = shape(parts.path)
            if key not in shapes:
                shapes.add(key)
                queue.append((target, page))
    return len(seen), refused


@pytest.mark.parametrize("role", ROLES)
def test_no_page_offers_a_role_a_link_or_button_that_refuses_it(client, day, role):
    pages, refused = crawl(login(client, role))

    assert refused == []
    assert 40 < pages < PAGES_AT_MOST  # it really walked, and walked everything


# --- the list actions each role has ---------------------------------------------------------------
def run_list_action(client, changelist: str, name: str, *pks) -> list[str]:
    """Select rows on an admin list, run an action, return the messages shown after."""
    data = {"action": name, "_selected_action": [str(pk) for pk in pks], "index": "0"}
    response = client.post(reverse(changelist), data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_the_warehouse_starts_fulfilment_of_the_orders_it_selects(client, day):
    shown = run_list_action(
        login(client, "warehouse"),
        "admin:orders_order_changelist",
        "start_fulfillment_selected",
        day.allocated.pk,
    )

    assert shown == [f"Fulfilment started, shipments per order: {day.allocated.number} (1)"]
    day.allocated.refresh_from_db()
    assert day.allocated.status == Order.Status.PROCESSING


def test_customer_service_cancel_the_orders_they_select(client, day):
    shown = run_list_action(
        login(client, "service"), "admin:orders_order_changelist", "cancel_selected", day.allocated.pk
    )

    assert shown == ["1 orders cancelled."]
    day.allocated.refresh_from_db()
    assert day.allocated.status == Order.Status.CANCELLED


def test_customer_service_re_process_the_requests_they_select(client, day):
    inbound = InboundRequest.objects.get(order=day.held)
    client = login(client, "service")

    shown = run_list_action(
        client, "admin:intake_inboundrequest_changelist", "reprocess_selected", inbound.pk
    )

    assert shown == [f"#{inbound.pk}: {day.held.number} re-checked: it is now on hold."]


def test_only_those_who_keep_channels_see_a_channel_s_webhook_secret(client, day):
    channel = day.held.channel
    channel.webhook_secret = "whsec-very-secret"
    channel.save()

    assert "whsec-very-secret" not in login(client, "service").get(change(channel)).content.decode()
    assert "whsec-very-secret" in login(client, "manager").get(change(channel)).content.decode()
