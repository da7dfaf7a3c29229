"""Stock levels to every connected channel: what each may sell, pushed after every change that
moves it (coalesced per channel and SKU, skipped when it didn't move), cheap on the capture
path, and reconciled against what the shop shows.

Shopify's `inventorySetQuantities` and the variant and level queries have no recording under a
reuse licence (SOURCES.md): the stand-in answers in the shapes Shopify documents, keeping the
levels it was set so a reconciliation reads them back. WooCommerce's batch update answers with
the recorded docs example."""

import io
import itertools
import json

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from connectors.channels import channel_plans
from connectors.models import ShopifyConnection, ShopifyLocation, StockListing, WooCommerceConnection
from connectors.stock import stock_levels_compute
from core.models import Delivery
from core.outbox.services import delivery_send
from orders.services import order_capture
from tests.conftest import make_order_input
from tests.factories import ProductFactory, WarehouseFactory, stock_put
from tests.intake.conftest import fixture_bytes, fixture_json

from .conftest import SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET, stand_in_url
from .shopify_stand_in import ShopifyInventory, ShopifyStandIn

Status = Delivery.Status
LOCATION = "gid://shopify/Location/655441491"
OTHER_LOCATION = "gid://shopify/Location/655441492"
emails = itertools.count(1)


@pytest.fixture
def shop(db, shopify, warehouse, httpserver, credentials_key):
    connection = ShopifyConnection.objects.create(
        channel=shopify,
        shop_domain="example.myshopify.com",
        access_token=SHOPIFY_TOKEN,
        base_url=stand_in_url(httpserver),
    )
    ShopifyLocation.objects.create(connection=connection, warehouse=warehouse, location_id="655441491")
    return connection


@pytest.fixture
def stand_in(httpserver):
    return ShopifyStandIn(httpserver)


def set_quantities_sent(stand_in) -> list[list[dict]]:
    return [v["input"]["quantities"] for v in stand_in.variables("InventorySetQuantities")]


def capture(channel, sku, quantity=1):
    data = make_order_input(lines=[(sku, quantity, "10.00")], email=f"buyer{next(emails)}@example.com")
    return order_capture(channel=channel, data=data)


# --- what each channel may sell --------------------------------------------------------------------
def test_the_safety_buffer_is_held_back_once_from_the_location_that_ships_last(shop, warehouse):
    second = WarehouseFactory(code="EAST", priority=50)
    ShopifyLocation.objects.create(connection=shop, warehouse=second, location_id=OTHER_LOCATION)
    shop.safety_buffer = 3
    shop.save()
    product = ProductFactory(sku="MUG-1")
    stock_put(product, warehouse, 5)  # priority 1: ships first
    stock_put(product, second, 2)  # priority 50: ships last, gives up its 2 first

    plan = channel_plans()[shop.channel_id]
    level = stock_levels_compute(plans=[plan], product_ids=[product.pk]).by_channel[
        (shop.channel_id, product.pk)
    ]

    assert level == {"available": 4, "locations": {LOCATION: 4, OTHER_LOCATION: 0}}


def test_reserved_units_inactive_products_and_a_big_buffer_leave_nothing_below_zero(shop, warehouse):
    shop.safety_buffer = 100
    shop.save()
    product, retired = ProductFactory(sku="MUG-1"), ProductFactory(sku="OLD-1", is_active=False)
    stock_put(product, warehouse, 5)
    stock_put(retired, warehouse, 5)
    plan = channel_plans()[shop.channel_id]

    levels = stock_levels_compute(plans=[plan], product_ids=[product.pk, retired.pk]).by_channel
    assert levels[(shop.channel_id, product.pk)]["available"] == 0
    shop.safety_buffer = 2
    shop.save()
    levels = stock_levels_compute(
        plans=[channel_plans()[shop.channel_id]], product_ids=[product.pk, retired.pk]
    )
    assert levels.by_channel[(shop.channel_id, product.pk)]["available"] == 3
    assert levels.by_channel[(shop.channel_id, retired.pk)]["available"] == 0


def test_a_woocommerce_store_sells_every_active_warehouse_unless_told_which(woo, warehouse, credentials_key):
    store = WooCommerceConnection.objects.create(
        channel=woo, store_url="https://shop.example.com", consumer_key=WOO_KEY, consumer_secret=WOO_SECRET
    )
    second = WarehouseFactory(code="EAST", priority=50)
    closed = WarehouseFactory(code="OLD", priority=60, is_active=False)
    product = ProductFactory(sku="MUG-1")
    for where, units in [(warehouse, 5), (second, 2), (closed, 7)]:
        stock_put(product, where, units)

    def available():
        plan = channel_plans()[woo.pk]
        return stock_levels_compute(plans=[plan], product_ids=[product.pk]).by_channel[(woo.pk, product.pk)]

    assert available() == {"available": 7}
    store.warehouses.set([second])
    assert available() == {"available": 2}


# --- pushed after every change ----------------------------------------------------------------------
def test_a_stock_change_reaches_shopify_and_a_reconciliation_finds_no_drift(
    shop, warehouse, channel, stand_in, django_capture_on_commit_callbacks
):
    inventory = ShopifyInventory(stand_in, ["MUG-1", "TEA-1"])
    mug, tea = ProductFactory(sku="MUG-1"), ProductFactory(sku="TEA-1")
    with django_capture_on_commit_callbacks(execute=True):
        stock_put(mug, warehouse, 12)
    with django_capture_on_commit_callbacks(execute=True):
        stock_put(tea, warehouse, 4)
    with django_capture_on_commit_callbacks(execute=True):
        capture(channel, "MUG-1", 5)  # an order from another channel reserves 5

    assert stand_in.variables("VariantBySku") == [{"query": 'sku:"MUG-1"'}, {"query": 'sku:"TEA-1"'}]
    assert stand_in.variables("InventorySetQuantities")[0] == {
        "input": {
            "name": "available",
            "reason": "correction",
            "ignoreCompareQuantity": True,
            "referenceDocumentUri": "oms://stock-level/MUG-1",
            "quantities": [
                {"inventoryItemId": inventory.items["MUG-1"], "locationId": LOCATION, "quantity": 12}
            ],
        }
    }
    assert [q[0]["quantity"] for q in set_quantities_sent(stand_in)] == [12, 4, 7]
    assert inventory.available("MUG-1") == 7 and inventory.available("TEA-1") == 4
    listing = StockListing.objects.get(channel=shop.channel, product=mug)
    assert listing.remote_id == inventory.items["MUG-1"] and listing.level_pushed["available"] == 7

    out = io.StringIO()
    call_command("stock_reconcile", "shopify", stdout=out)
    assert "2 SKUs compared, 0 drifted" in out.getvalue()


def test_reconciliation_lists_the_drift_and_fixes_it(
    shop, warehouse, stand_in, django_capture_on_commit_callbacks
):
    inventory = ShopifyInventory(stand_in, ["MUG-1", "TEA-1", "THEIRS-ONLY"])
    mug, tea = ProductFactory(sku="MUG-1"), ProductFactory(sku="TEA-1")
    with django_capture_on_commit_callbacks(execute=True):
        stock_put(mug, warehouse, 12)
        stock_put(tea, warehouse, 4)
    inventory.levels[(inventory.items["MUG-1"], LOCATION)] = 30  # someone edited it in Shopify

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("stock_reconcile", "shopify", "--fix", stdout=out)

    report = out.getvalue()
    assert "MUG-1" in report and "30" in report and "TEA-1" not in report
    assert "2 SKUs compared, 1 drifted" in report and "1 of the shop's not ours" in report
    assert "1 pushes queued" in report
    assert inventory.available("MUG-1") == 12
    out = io.StringIO()
    call_command("stock_reconcile", "shopify", stdout=out)
    assert "0 drifted" in out.getvalue()


def test_changes_before_the_push_are_coalesced_and_the_latest_level_is_sent(shop, warehouse, stand_in):
    inventory = ShopifyInventory(stand_in, ["MUG-1"])
    mug = ProductFactory(sku="MUG-1")
    for units in (10, 3, 1):  # three receipts; the worker hasn't run yet (no commit here)
        stock_put(mug, warehouse, units)

    (delivery,) = Delivery.objects.filter(topic="shopify.stock")
    assert delivery.payload["level"] == {"available": 14, "locations": {LOCATION: 14}}
    assert delivery.coalesce_key == f"stock:{shop.channel_id}:{mug.pk}"
    assert delivery_send(delivery_id=delivery.pk).status == Status.DELIVERED
    assert set_quantities_sent(stand_in) == [
        [{"inventoryItemId": inventory.items["MUG-1"], "locationId": LOCATION, "quantity": 14}]
    ]


def test_a_change_that_doesnt_move_the_channels_level_queues_nothing(shop, warehouse, stand_in):
    ShopifyInventory(stand_in, ["MUG-1"])
    mug = ProductFactory(sku="MUG-1")
    stock_put(mug, warehouse, 10)
    assert (
        delivery_send(delivery_id=Delivery.objects.get(topic="shopify.stock").pk).status == Status.DELIVERED
    )
    elsewhere = WarehouseFactory(code="EAST", priority=50)  # not mapped to the shop: not sold there

    stock_put(mug, elsewhere, 8)

    assert Delivery.objects.filter(topic="shopify.stock").count() == 1
    stock_put(mug, warehouse, 1)  # this one moves it
    assert Delivery.objects.filter(topic="shopify.stock", status=Status.PENDING).get().payload["level"] == {
        "available": 11,
        "locations": {LOCATION: 11},
    }


def test_a_channel_that_isnt_connected_is_sent_no_stock(shopify, warehouse, credentials_key):
    ShopifyConnection.objects.create(channel=shopify, shop_domain="example.myshopify.com")
    ShopifyLocation.objects.create(
        connection=ShopifyConnection.objects.get(), warehouse=warehouse, location_id="655441491"
    )
    stock_put(ProductFactory(sku="MUG-1"), warehouse, 10)
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("catalog_size", [1, 40])
def test_a_capture_costs_a_few_queries_more_with_a_connected_channel_whatever_the_catalogue(
    shop, warehouse, channel, catalog_size
):
    products = [ProductFactory(sku=f"SKU-{i}") for i in range(catalog_size)]
    for product in products:
        stock_put(product, warehouse, 50)
    capture(channel, products[0].sku)  # warms the cached channel plans, as a running server has them

    def queries(sku) -> int:
        with CaptureQueriesContext(db_connection) as ctx:
            capture(channel, sku)
        return len(ctx)

    connected = queries(products[-1].sku)
    ShopifyConnection.objects.filter(pk=shop.pk).update(push_stock=False)
    channel_plans_forget_now()
    capture(channel, products[0].sku)
    without = queries(products[-1].sku)

    # the levels (1), the levels last queued (1), the coalesced delivery (a look for a waiting
    # one, then its insert in a savepoint: 3 more on SQLite) and the listings' upsert (1)
    assert connected - without <= EXTRA_QUERIES_PER_CAPTURE, f"{connected} vs {without}"
    QUERIES[catalog_size] = connected - without
    if len(QUERIES) == 2:
        assert QUERIES[1] == QUERIES[40], QUERIES


EXTRA_QUERIES_PER_CAPTURE = 7
QUERIES: dict[int, int] = {}


def channel_plans_forget_now():
    from django.core.cache import cache

    cache.clear()


# --- WooCommerce --------------------------------------------------------------------------------------
@pytest.fixture
def store(db, woo, warehouse, httpserver, credentials_key):
    return WooCommerceConnection.objects.create(
        channel=woo,
        store_url="https://shop.example.com",
        base_url=stand_in_url(httpserver),
        consumer_key=WOO_KEY,
        consumer_secret=WOO_SECRET,
    )


def test_woocommerce_stock_goes_through_the_product_and_variation_batch_updates(
    store, warehouse, httpserver, django_capture_on_commit_callbacks
):
    api = "/wp-json/wc/v3"
    # The variation as the docs show it, with our SKU (a lookup by SKU answers the product list).
    variation = fixture_json("woocommerce/outbound/wc-rest-api-docs__v3_product_variation_update.json")
    variation.update(sku="SHIRT-M", type="variation", parent_id=22)
    simple = {"id": 799, "sku": "MUG-1", "type": "simple", "parent_id": 0, "manage_stock": False}
    httpserver.expect_request(f"{api}/products", query_string="sku=MUG-1").respond_with_json([simple])
    httpserver.expect_request(f"{api}/products", query_string="sku=SHIRT-M").respond_with_json([variation])
    batch = fixture_bytes("woocommerce/outbound/wc-rest-api-docs__v3_products_batch.json")
    httpserver.expect_request(f"{api}/products/batch", method="POST").respond_with_data(
        batch, content_type="application/json"
    )
    httpserver.expect_request(f"{api}/products/22/variations/batch", method="POST").respond_with_json(
        {"update": [{**variation, "manage_stock": True, "stock_quantity": 3}]}
    )

    with django_capture_on_commit_callbacks(execute=True):
        stock_put(ProductFactory(sku="MUG-1"), warehouse, 9)
    with django_capture_on_commit_callbacks(execute=True):
        stock_put(ProductFactory(sku="SHIRT-M"), warehouse, 3)

    posted = {r.path: json.loads(r.data) for r, _ in httpserver.log if r.method == "POST"}
    assert posted == {
        f"{api}/products/batch": {"update": [{"id": 799, "manage_stock": True, "stock_quantity": 9}]},
        f"{api}/products/22/variations/batch": {
            "update": [{"id": 733, "manage_stock": True, "stock_quantity": 3}]
        },
    }
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert StockListing.objects.get(product__sku="SHIRT-M").remote_parent_id == "22"
