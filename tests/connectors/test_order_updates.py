"""Order updates from the platforms (Shopify orders/updated, WooCommerce order.updated) go through
the edit service while the order can change, and wait for a person, the difference spelled out,
when it can't. Built on the platforms' published payloads, changed the way an edit changes them."""

import copy
import json
from decimal import Decimal

import pytest

from fulfillment.picking import pick_list_create
from fulfillment.services import order_start_fulfillment
from intake.models import InboundRequest, SkuMapping
from inventory.models import StockItem
from orders.edits import OrderEdit
from orders.inputs import AddressInput
from orders.models import Order, OrderEvent
from orders.services import order_edit
from returns.models import Refund
from tests.factories import ProductFactory, stock_put
from tests.intake.conftest import fixture_json

from .conftest import outcome_of, send_shopify, send_woo

pytestmark = pytest.mark.django_db
D = Decimal
SKUS = ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]


@pytest.fixture
def ipods(warehouse, service_level):
    for sku in SKUS:
        stock_put(ProductFactory(sku=sku, price=D("199.00")), warehouse, 5)


def shopify_order() -> dict:
    """Shopify's published order, its total made to add up (3 × 199.00 + 11.94 tax)."""
    order = fixture_json("shopify/shopify_python_api__order.json")["order"]
    order["total_price"] = "608.94"
    return order


def edited(order: dict, **current_quantities) -> dict:
    """The order after a Shopify edit: each named SKU at a current quantity, totals to match."""
    order = copy.deepcopy(order)
    items = 0
    for item in order["line_items"]:
        item["current_quantity"] = current_quantities.get(item["sku"], item["quantity"])
        items += item["current_quantity"] * 199
    order["current_subtotal_price"] = f"{items}.00"
    order["current_total_tax"] = f"{D('0.02') * items:.2f}"
    order["current_total_price"] = f"{items + D('0.02') * items:.2f}"
    return order


def send(client, order: dict, delivery: str, topic="orders/updated"):
    return send_shopify(client, json.dumps(order).encode(), delivery=delivery, topic=topic)


def test_a_shopify_edit_is_applied_to_the_order(client, shopify, ipods, django_capture_on_commit_callbacks):
    base = shopify_order()
    send(client, base, "create", topic="orders/create")
    order = Order.objects.get(channel=shopify)
    assert order.status == "allocated"

    with django_capture_on_commit_callbacks(execute=True):
        send(client, edited(base, IPOD2008RED=0), "update-1")

    assert outcome_of("update-1") == "edited"
    order.refresh_from_db()
    assert sorted(order.lines.values_list("sku", flat=True)) == ["IPOD2008BLACK", "IPOD2008GREEN"]
    assert (order.subtotal, order.tax_total, order.total) == (D("398.00"), D("7.96"), D("405.96"))
    assert StockItem.objects.get(product__sku="IPOD2008RED").reserved == 0
    (event,) = order.events.filter(kind=OrderEvent.Kind.EDITED)
    assert "Changed in Shopify" in event.message and "paid back by Shopify" in event.message
    assert not Refund.objects.exists()  # Shopify refunded it: recording one here would pay twice


def test_an_update_that_changes_nothing_here_is_acknowledged(client, shopify, ipods):
    base = shopify_order()
    send(client, base, "create", topic="orders/create")
    tagged = {**base, "tags": "vip", "note": "gift wrap"}

    send(client, tagged, "update-1")

    assert outcome_of("update-1") == "ignored"
    assert not OrderEvent.objects.filter(kind=OrderEvent.Kind.EDITED).exists()


def test_an_unrelated_update_doesnt_undo_what_staff_changed_here(client, shopify, ipods):
    base = shopify_order()
    send(client, base, "create", topic="orders/create")
    order = Order.objects.get(channel=shopify)
    office = AddressInput(
        name="Bob Norman",
        line1="1 Office Park",
        city="Louisville",
        region="KY",
        postal_code="40202",
        country="US",
    )
    order_edit(order_id=order.pk, changes=OrderEdit(shipping_address=office), reason="customer called")

    send(client, {**base, "tags": "vip"}, "update-1")

    assert outcome_of("update-1") == "ignored"
    order.refresh_from_db()
    assert order.shipping_address.line1 == "1 Office Park"


def test_a_shopify_edit_of_an_order_being_picked_waits_for_a_person(client, shopify, ipods, warehouse):
    base = shopify_order()
    send(client, base, "create", topic="orders/create")
    order = Order.objects.get(channel=shopify)
    order_start_fulfillment(order_id=order.pk)
    pick_list_create(warehouse_id=warehouse.pk)

    send(client, edited(base, IPOD2008BLACK=3), "update-1")

    assert outcome_of("update-1") == "failed"
    inbound = InboundRequest.objects.get(delivery_id="update-1")
    assert "is being picked" in inbound.error
    assert "IPod Nano - 8gb - black (IPOD2008BLACK): quantity 1 → 3." in inbound.error
    note = order.events.filter(kind=OrderEvent.Kind.NOTE).last()
    assert "Shopify changed order" in note.message and "quantity 1 → 3" in note.message
    assert order.lines.get(sku="IPOD2008BLACK").quantity == 1


def test_an_update_of_an_order_being_picked_that_changes_nothing_is_acknowledged(
    client, shopify, ipods, warehouse
):
    base = shopify_order()
    send(client, base, "create", topic="orders/create")
    order = Order.objects.get(channel=shopify)
    order_start_fulfillment(order_id=order.pk)
    pick_list_create(warehouse_id=warehouse.pk)

    send(client, {**base, "fulfillment_status": "partial"}, "update-1")

    assert outcome_of("update-1") == "ignored"


def test_the_orders_edited_body_is_acknowledged_for_the_update_that_follows_it(client, shopify):
    body = {
        "order_edit": {"id": 78912, "order_id": 450789469, "line_items": {"additions": [], "removals": []}}
    }

    send(client, body, "edit-1", topic="orders/edited")

    assert outcome_of("edit-1") == "ignored"
    assert "orders/updated" in InboundRequest.objects.get().error


def test_an_update_of_an_order_never_captured_captures_it(client, shopify, ipods):
    send(client, shopify_order(), "update-1")

    assert outcome_of("update-1") == "captured"
    assert Order.objects.filter(channel=shopify).count() == 1


def test_a_woocommerce_update_changes_the_quantity(client, woo, warehouse, service_level):
    single = ProductFactory(sku="WOO-SINGLE", price=D("3.00"))
    stock_put(single, warehouse, 10)
    stock_put(ProductFactory(sku="Bar3", price=D("12.00")), warehouse, 10)
    SkuMapping.objects.create(channel=woo, external_key="woo-93", product=single)
    order = fixture_json("woocommerce/wc-rest-api-docs__v3_order_retrieve.json")
    send_woo(client, json.dumps(order).encode(), delivery="w-create")
    captured = Order.objects.get(channel=woo)
    assert captured.status == "allocated"

    order["line_items"][0]["quantity"] = 4  # the shop owner added two more singles
    order["total_tax"], order["total"] = "1.65", "35.65"
    send_woo(client, json.dumps(order).encode(), delivery="w-update", topic="order.updated")

    assert outcome_of("w-update") == "edited"
    captured.refresh_from_db()
    assert captured.lines.get(sku="WOO-SINGLE").quantity == 4
    assert (captured.tax_total, captured.total) == (D("1.65"), D("35.65"))
    assert StockItem.objects.get(product=single).reserved == 4
