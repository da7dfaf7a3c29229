"""The order's admin page reads like an order: what it is and what it is waiting for on top, with
the links that fix it for those who may follow them; the raw fields folded away; and a number of
queries that doesn't grow with the order's lines."""

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from fulfillment.models import Shipment
from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from intake.models import SkuMapping
from orders.models import Channel, Order
from orders.services import order_capture
from returns.services import return_request_create
from support.models import Thread
from tests.factories import ProductFactory, UserFactory, WarehouseFactory, stock_put

pytestmark = pytest.mark.django_db


def member_of(group: str):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def as_role(client):
    def login(group: str):
        client.force_login(member_of(group))
        return client

    return login


def page_of(client, order) -> str:
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def what_next(html: str) -> list[str]:
    """The "What next" lines as text."""
    block = html.split('<ul class="oms-next-steps">', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li[^>]*>(.*?)</li>", block, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def links(html: str) -> dict[str, str]:
    """Link text -> href within the summary at the top of the page."""
    summary = html.split('<section class="oms-order"', 1)[1].split("</section>", 1)[0]
    return {
        " ".join(re.sub(r"<[^>]+>", "", text).split()): href.replace("&amp;", "&")
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', summary, flags=re.S)
    }


@pytest.fixture
def held_for_unknown_sku(channel, stocked_product, order_input):
    return order_capture(
        channel=channel,
        data=order_input(lines=[("WIDGET-1", 1, "25.00"), ("NOPE-9", 2, "5.00")], phone="+1 555 0199"),
    )


def test_a_held_order_says_why_and_links_customer_service_to_the_fix(as_role, held_for_unknown_sku):
    order = held_for_unknown_sku
    html = page_of(as_role("Customer service"), order)

    assert "On hold" in html.split('class="oms-order-status"', 1)[1][:200]
    assert what_next(html)[0].startswith(
        "On hold: Unknown SKU NOPE-9: map it to one of our products, then match SKUs again."
    )
    found = links(html)
    mapping = urlsplit(found["Map NOPE-9"])
    assert mapping.path == reverse("admin:intake_skumapping_add")
    assert parse_qs(mapping.query) == {
        "channel": [str(order.channel_id)],
        "external_key": ["NOPE-9"],
        "return_to": [reverse("admin:orders_order_change", args=[order.pk])],
    }
    assert found["Match SKUs again and re-check"].endswith(f"/{order.pk}/action/rematch/")
    assert found["ada@example.com"] == "mailto:ada@example.com"
    assert found["+1 555 0199"] == "tel:+1 555 0199"
    assert "Correct the address" in found
    summary = html.split('<section class="oms-order"', 1)[1].split("</section>", 1)[0]
    assert "35.00 USD" in summary and "Card · paid" in summary


def test_mapping_the_sku_from_the_order_comes_back_to_it_and_rematching_releases_it(
    as_role, held_for_unknown_sku, stocked_product
):
    client = as_role("Customer service")
    order = held_for_unknown_sku
    map_url = links(page_of(client, order))["Map NOPE-9"]

    form = client.get(map_url)
    assert form.status_code == 200
    assert form.context["adminform"].form.initial["external_key"] == "NOPE-9"
    saved = client.post(
        map_url, {"channel": order.channel_id, "external_key": "NOPE-9", "product": stocked_product.pk}
    )
    assert saved.status_code == 302
    assert saved["Location"] == reverse("admin:orders_order_change", args=[order.pk])
    assert SkuMapping.objects.get().product == stocked_product

    rematch = links(page_of(client, order))["Match SKUs again and re-check"]
    client.post(rematch)
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert what_next(page_of(client, order)) == [
        "Ready for the warehouse: stock reserved at MAIN; fulfilment not started yet."
    ]


def test_the_warehouse_reads_a_held_order_without_the_fixes_it_may_not_make(as_role, held_for_unknown_sku):
    html = page_of(as_role("Warehouse staff"), held_for_unknown_sku)

    assert what_next(html) == [
        "On hold: Unknown SKU NOPE-9: map it to one of our products, then match SKUs again."
    ]
    assert set(links(html)) == {
        "ada@example.com",
        "+1 555 0199",
        "Open as the customer sees it",
    }
    assert "oms-actions-list" not in html  # no button
    assert reverse("admin:orders_channel_change", args=[held_for_unknown_sku.channel_id]) not in html


def test_an_allocated_order_is_the_warehouse_s_move(as_role, channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))

    warehouse = page_of(as_role("Warehouse staff"), order)
    assert what_next(warehouse) == [
        "Ready for the warehouse: stock reserved at MAIN; fulfilment not started yet. Start fulfilment"
    ]
    assert 'class="oms-next oms-next-act"' in warehouse
    manager = page_of(as_role("Managers"), order)
    assert what_next(manager) == [
        "Ready for the warehouse: stock reserved at MAIN; fulfilment not started yet."
    ]
    assert "oms-actions-list" not in manager and "Correct the address" not in manager


def test_a_backordered_order_waits_for_stock(as_role, channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 50, "25.00")]))
    assert order.status == Order.Status.BACKORDERED

    assert what_next(page_of(as_role("Customer service"), order)) == [
        "Waiting for stock (backordered): it is allocated by itself when stock arrives, oldest order first. "
        "Try to allocate now"
    ]


@pytest.fixture
def split_order(channel, service_level, order_input):
    """Two parcels from two warehouses; the first is shipped with a UPS tracking number."""
    channel.allocation_strategy = Channel.AllocationStrategy.SPLIT
    channel.save()
    main, east = WarehouseFactory(code="MAIN", priority=1), WarehouseFactory(code="EAST", priority=2)
    stock_put(ProductFactory(sku="MUG-1"), main, 5)
    stock_put(ProductFactory(sku="TEA-1"), east, 5)
    order = order_capture(
        channel=channel, data=order_input(lines=[("MUG-1", 1, "9.00"), ("TEA-1", 1, "4.00")])
    )
    first, second = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=first.pk)
    shipment_ship(shipment_id=first.pk, tracking_number="1ZTEST", notify=False)
    return order


def test_a_partly_shipped_order_counts_its_parcels_and_links_the_tracking(as_role, split_order):
    html = page_of(as_role("Customer service"), split_order)
    first, second = Shipment.objects.filter(order=split_order).order_by("pk")

    lines = what_next(html)
    assert lines[0] == "Shipped 1 of 2 parcels."
    assert lines[1].startswith(f"{first.number}: Shipped with UPS Ground; due ")
    assert lines[2] == f"{second.number}: Ready to pick at EAST. Shipment"
    assert "https://www.ups.com/track?tracknum=1ZTEST" in links(html).values()
    # The shipments list below links the tracking too.
    assert html.count('href="https://www.ups.com/track?tracknum=1ZTEST"') == 2


def test_returns_and_messages_say_whose_move_it_is(as_role, split_order):
    shipment_deliver(shipment_id=split_order.shipments.get(tracking_number="1ZTEST").pk, notify=False)
    line = split_order.lines.get(sku="MUG-1")
    rr = return_request_create(order_id=split_order.pk, quantities={line.pk: 1}, reason="damaged")
    Thread.objects.create(order=split_order)

    service = what_next(page_of(as_role("Customer service"), split_order))
    assert f"Return {rr.number} requested by the customer: approve or reject it. {rr.number}" in service
    assert "The customer has waited for an answer to their message. Answer" in service
    manager = what_next(page_of(as_role("Managers"), split_order))
    assert "The customer has waited for an answer to their message. Read it" in manager


def test_the_raw_fields_are_folded_under_details_below_the_timeline(as_role, held_for_unknown_sku):
    html = page_of(as_role("Customer service"), held_for_unknown_sku)

    assert html.index("oms-order") < html.index("Order lines") < html.index("Timeline")
    assert html.index("Timeline") < html.index("Internal notes") < html.index(">Details<")
    details = html[html.index(">Details<") - 300 :]
    assert "<details>" in details[:300] and "Payment reference" in details


# --- a fixed number of queries --------------------------------------------------------------------
def order_with_lines(n: int, channel, order_input) -> Order:
    """An order of n lines with everything the page shows: two parcels, a return, a message."""
    main = WarehouseFactory(code="MAIN", priority=1)
    skus = []
    for i in range(n):
        product = ProductFactory(sku=f"ITEM-{n}-{i}", price=Decimal("3.00"))
        stock_put(product, main, 5)
        skus.append((product.sku, 1, "3.00"))
    order = order_capture(channel=channel, data=order_input(lines=skus, external_id=f"Q-{n}"))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk, tracking_number=f"1Z{n}", notify=False)
    shipment_deliver(shipment_id=shipment.pk, notify=False)
    line = order.lines.first()
    return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="damaged")
    Thread.objects.create(order=order)
    return order


# Session and user; the user's permissions (2); the order with its channel and address; its lines;
# the inlines' holds, shipments, return lines (for the heading) and returns, and message thread; what
# next from fulfilment, returns and messages (one each); the order again (the thread names it); the
# timeline. Nothing per line, parcel or event. (Content types are cached after the first page.)
ORDER_PAGE_QUERIES = 16


@pytest.mark.parametrize("lines", [2, 20])
def test_the_order_page_costs_the_same_queries_whatever_its_size(
    client, channel, service_level, order_input, lines, django_assert_num_queries
):
    order = order_with_lines(lines, channel, order_input)
    client.force_login(member_of("Customer service"))
    url = reverse("admin:orders_order_change", args=[order.pk])
    client.get(url)  # process-wide caches (content types) warm, whichever test ran before

    with django_assert_num_queries(ORDER_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("ITEM-") >= lines
