"""Stock levels pushed to a connected channel: 10,000 stock changes over 100 SKUs on PostgreSQL,
with a local stand-in for Shopify's GraphQL Admin API receiving the pushes. Prints how many
changes, deliveries and pushes there were, how long it took, the load average, and whether the
levels the stand-in ended with equal ours.

    .venv/bin/python bench/stock_push.py
    BENCH_CHANGES=2000 .venv/bin/python bench/stock_push.py

Uses its own database (oms_bench_stock on 127.0.0.1:5432, user postgres), dropped at the end.
One thread makes the changes (each its own transaction, as the services run), one thread is
the worker sending what is due (as `db_worker` would), and the stand-in (http.server, threads)
answers like Shopify: the variant lookup, then `inventorySetQuantities`, remembering each level.
"""

import json
import os
import random
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
DB = os.environ.get("BENCH_DB", "oms_bench_stock")
PG = "postgres://postgres@127.0.0.1:5432"
CHANGES = int(os.environ.get("BENCH_CHANGES", "10000"))
BASELINE = int(os.environ.get("BENCH_BASELINE", "1000"))
SKUS = 100
LOCATION = "gid://shopify/Location/1"

os.environ["DATABASE_URL"] = f"{PG}/{DB}"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
os.environ.setdefault("CONN_MAX_AGE", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG}/postgres", "-qc", sql], check=True, capture_output=True)


class StandIn(BaseHTTPRequestHandler):
    """Shopify's GraphQL endpoint, as far as stock pushes need it."""

    levels: dict[str, int] = {}
    counts = {"lookups": 0, "pushes": 0}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        query, variables = body["query"], body.get("variables") or {}
        if "VariantBySku" in query:
            sku = variables["query"].removeprefix('sku:"').removesuffix('"')
            data = {
                "productVariants": {
                    "nodes": [{"sku": sku, "inventoryItem": {"id": f"gid://shopify/InventoryItem/{sku}"}}]
                }
            }
            key = "lookups"
        else:
            with self.lock:
                for q in variables["input"]["quantities"]:
                    self.levels[q["inventoryItemId"].rsplit("/", 1)[-1]] = q["quantity"]
            data = {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"changes": []}, "userErrors": []}}
            key = "pushes"
        with self.lock:
            self.counts[key] += 1
        cost = {
            "requestedQueryCost": 10,
            "throttleStatus": {
                "maximumAvailable": 20000.0,
                "currentlyAvailable": 19990,
                "restoreRate": 10000.0,
            },
        }
        out = json.dumps({"data": data, "extensions": {"cost": cost}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def main() -> None:
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        from django.db import connections

        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {DB}")


def run(stand_in_url: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import override_settings

    # The worker thread below sends deliveries; nothing is sent inline after each commit.
    override_settings(
        TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}},
        OMS_CREDENTIALS_KEY="q3Jq0Zg9yBqkxXlJ5a1o1r8Q2mRk8d0o0uJc3d2cXxE=",  # a key for this run only
    ).enable()
    call_command("migrate", verbosity=0)

    from connectors.channels import channel_plans_forget
    from connectors.models import ShopifyConnection, ShopifyLocation, StockListing
    from connectors.stock import stock_level_now, stock_levels_queue
    from core.models import Delivery
    from core.outbox.services import delivery_send
    from inventory.models import Product, StockItem, StockMovement, Warehouse
    from inventory.services import (
        ReserveRequest,
        stock_movement_record,
        stock_receive,
        stock_release,
        stock_reserve_split,
    )
    from orders.models import Channel

    warehouse = Warehouse.objects.create(code="MAIN", name="Main", country="US", priority=1)
    channel = Channel.objects.create(code="shop", name="Shop", kind=Channel.Kind.SHOPIFY)
    shop = ShopifyConnection.objects.create(
        channel=channel, shop_domain="bench.myshopify.com", access_token="shpat_bench", base_url=stand_in_url
    )
    ShopifyLocation.objects.create(connection=shop, warehouse=warehouse, location_id="1")
    products = [Product.objects.create(sku=f"SKU-{i:03d}", name=f"Product {i}") for i in range(SKUS)]
    for product in products:
        stock_receive(product=product, warehouse=warehouse, quantity=500, reference="bench")
    items = dict(StockItem.objects.values_list("product_id", "pk"))

    done = threading.Event()
    sent = {"attempts": 0}

    def worker():
        try:
            while True:
                finished = done.is_set()
                due = list(
                    Delivery.objects.filter(status=Delivery.Status.PENDING)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:200]
                )
                for pk in due:
                    if delivery_send(delivery_id=pk) is not None:
                        sent["attempts"] += 1
                if finished and not due:
                    return
                if not due:
                    time.sleep(0.01)
        finally:
            connection.close()

    rng = random.Random(7)
    held: list[str] = []

    def change(n: int) -> None:
        product = rng.choice(products)
        roll = rng.random()
        if roll < 0.5:
            stock_movement_record(
                stock_item_id=items[product.pk],
                kind=StockMovement.Kind.ADJUSTMENT if rng.random() < 0.5 else StockMovement.Kind.RECEIPT,
                quantity=rng.randint(1, 3),
                reason_code="found",
                reference="bench",
            )
        elif roll < 0.8 or not held:
            reference = f"bench:{n}"
            request = ReserveRequest(
                line_reference=f"{reference}:1", product_id=product.pk, quantity=rng.randint(1, 2)
            )
            stock_reserve_split(reference=reference, warehouse_ids=[warehouse.pk], requests=[request])
            held.append(reference)
        else:
            stock_release(reference=held.pop(rng.randrange(len(held))))

    counted = {"queries": 0}

    def count(execute, sql, params, many, context):
        counted["queries"] += 1
        return execute(sql, params, many, context)

    # The same kind of changes with the channel not taking stock: the queries they cost anyway.
    ShopifyConnection.objects.filter(pk=shop.pk).update(push_stock=False)
    channel_plans_forget()
    with connection.execute_wrapper(count):
        for n in range(BASELINE):
            change(-1 - n)
    baseline_queries = counted["queries"] / BASELINE
    ShopifyConnection.objects.filter(pk=shop.pk).update(push_stock=True)
    channel_plans_forget()
    with transaction.atomic():  # the levels the baseline left, as saving the connection does
        stock_levels_queue(product_ids=[p.pk for p in products])
    counted["queries"] = 0

    thread = threading.Thread(target=worker)
    started = time.perf_counter()
    thread.start()
    with connection.execute_wrapper(count):
        for n in range(CHANGES):
            change(n)
    changes_took = time.perf_counter() - started
    done.set()
    thread.join()
    total = time.perf_counter() - started
    load = os.getloadavg()

    deliveries = Delivery.objects.filter(topic="shopify.stock")
    ours = {p.sku: stock_level_now(channel_id=channel.pk, product_id=p.pk)[1]["available"] for p in products}
    theirs = {sku: StandIn.levels.get(sku) for sku in ours}
    mismatched = {sku: (ours[sku], theirs[sku]) for sku in ours if ours[sku] != theirs[sku]}
    listings = StockListing.objects.filter(channel=channel).count()

    pushes, lookups = StandIn.counts["pushes"], StandIn.counts["lookups"]
    rate = CHANGES / changes_took
    delivered = deliveries.filter(status="delivered").count()
    print(f"changes made:            {CHANGES:,} over {SKUS} SKUs in {changes_took:.1f} s ({rate:,.0f}/s)")
    per_change = counted["queries"] / CHANGES
    print(
        f"queries per change:      {per_change:.2f} (with the channel taking no stock: "
        f"{baseline_queries:.2f}; extra {per_change - baseline_queries:.2f})"
    )
    print(f"deliveries written:      {deliveries.count():,} ({delivered:,} delivered)")
    print(f"send attempts:           {sent['attempts']:,}")
    print(f"pushes received:         {pushes:,} inventorySetQuantities, {lookups} SKU lookups")
    print(f"coalescing:              {CHANGES / max(pushes, 1):.1f} changes per push")
    print(f"all sent after:          {total:.1f} s")
    print(f"levels equal at the end: {len(ours) - len(mismatched)}/{len(ours)} SKUs (listings: {listings})")
    if mismatched:
        print(f"MISMATCHED: {mismatched}")
    print(f"load average:            {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 shared cores)")
    if mismatched:
        sys.exit(1)


if __name__ == "__main__":
    main()
