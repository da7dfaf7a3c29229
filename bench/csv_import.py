"""Marketplace CSV import benchmark: a 50,000-row file through the chunked capture, on PostgreSQL.

Creates its own database (oms_bench_csv), loads the demo catalogue (seed_demo's SKUs, with
plenty of stock in two warehouses), writes Amazon-style order reports (tab-separated, the
`marketplace` layout's spellings: order-id, purchase-date, buyer-email, sku, quantity-purchased,
item-price, item-tax, shipping-price, ship-service-level, ship-*), 1 to 3 rows per order, about
1% of orders naming a SKU we don't have (captured on hold) and 0.2% a quantity that isn't whole
(refused and reported), then imports them as the task worker does (import_batch_run), each
import in a process of its own so its peak memory is its own:

- per order: 5,000 rows with OMS_INTAKE_BATCH_SIZE=1, every order its own insert, capture,
  outcome update and batch update: the statements of the import before chunking;
- chunked: the same 5,000 rows (other order ids) with the default chunk size, then 50,000 rows;
- again: the chunked 5,000-row file imported a second time (every order a duplicate).

For each: orders/s and rows/s (wall clock), the process's CPU, SQL statements per order, and the
import process's peak resident memory (ru_maxrss) against the same process just before the
import. At the end it checks no (channel, external id) has two orders and runs check_inventory,
then drops the database.

    .venv/bin/python bench/csv_import.py [--rows 50000] [--small-rows 5000] [--batch-size 200]
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
DB = "oms_bench_csv"
PG = "postgres://postgres@127.0.0.1:5432"
CHANNEL = "bench-marketplace"
HEADER = [
    "order-id",
    "purchase-date",
    "buyer-email",
    "buyer-name",
    "buyer-phone-number",
    "sku",
    "product-name",
    "quantity-purchased",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "ship-service-level",
    "recipient-name",
    "ship-address-1",
    "ship-address-2",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
]
ADDRESSES = [
    ("12 Analytical Way", "New York", "NY", "10001"),
    ("1 Cobol Ct", "Arlington", "VA", "22201"),
    ("300 E St SW", "Washington", "DC", "20546"),
    ("9 Frequency Ln", "Los Angeles", "CA", "90028"),
    ("11 Apollo Dr", "Boston", "MA", "02110"),
    ("5 Kernel Ave", "Portland", "OR", "97201"),
]


def env() -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "SECRET_KEY": "bench-secret-key",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def child(*args: str) -> dict:
    """Run one step in a fresh process; it prints one JSON line last."""
    out = subprocess.run(
        [PY, __file__, "--child", *args], cwd=ROOT, env=env(), capture_output=True, text=True
    )
    if out.returncode:
        sys.exit(f"step {args} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def proc_loadavg() -> str:
    path = Path("/proc/loadavg")
    return path.read_text().strip() if path.exists() else loadavg()


# --- steps run in child processes --------------------------------------------------------------
def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def step_seed() -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from inventory.models import Product, StockMovement, Warehouse
    from inventory.services import stock_receive
    from portal.management.commands.seed_demo import PRODUCT_KINDS, VARIANTS

    warehouses = [
        Warehouse.objects.create(code="EWR", name="Newark DC", country="US", region="NJ", priority=1),
        Warehouse.objects.create(code="LAX", name="Los Angeles DC", country="US", region="CA", priority=2),
    ]
    for prefix, name, price, grams, *_ in PRODUCT_KINDS:
        for variant in VARIANTS:
            product = Product.objects.create(
                sku=f"{prefix}-{variant}", name=f"{name} ({variant})", price=price, weight_grams=grams
            )
            for warehouse in warehouses:
                stock_receive(
                    product=product,
                    warehouse=warehouse,
                    quantity=1_000_000,
                    bin_location="A-01-1",
                    kind=StockMovement.Kind.RECEIPT,
                    reference="bench",
                )
    return {"products": Product.objects.count()}


def marketplace_file(rows: int, tag: str) -> tuple[bytes, int]:
    """`rows` rows of an Amazon-style order report, 1-3 per order; the orders' ids start with
    `tag`. Returns the file and its number of orders."""
    from inventory.models import Product

    products = list(Product.objects.order_by("sku").values_list("sku", "name", "price"))
    rng = random.Random(f"csv-bench-{tag}-{rows}")
    lines = ["\t".join(HEADER)]
    n = 0
    while len(lines) - 1 < rows:
        n += 1
        order_id = f"{tag}-{n:07d}"
        count = min(rng.randint(1, 3), rows - (len(lines) - 1))
        street, city, state, postal = rng.choice(ADDRESSES)
        name = f"Buyer {n}"
        placed = f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:15:00Z"
        speed = rng.choice(["Standard", "Standard", "Expedited", "NextDay"])
        for i, (sku, title, price) in enumerate(rng.sample(products, count)):
            qty = str(rng.randint(1, 2))
            if i == 0 and n % 100 == 7:
                sku, title = f"ASIN-B0{n:08d}", "A product we don't list"  # held: unknown SKU
            if i == 0 and n % 500 == 11:
                qty = "1.5"  # refused: not a whole number of units
            lines.append(
                "\t".join(
                    [
                        order_id,
                        placed,
                        f"buyer-{tag.lower()}-{n}@example.com",
                        name,
                        "+1 555 0100",
                        sku,
                        title,
                        qty,
                        "USD",
                        str(price),
                        "1.20",
                        "4.99" if i == 0 else "0.00",
                        speed,
                        name,
                        street,
                        "",
                        city,
                        state,
                        postal,
                        "US",
                    ]
                )
            )
    return ("\n".join(lines) + "\n").encode(), n


def step_create(rows: int, tag: str) -> dict:
    from intake.csv_import import import_batch_create, marketplace_channel

    raw, orders = marketplace_file(rows, tag)
    batch = import_batch_create(
        channel=marketplace_channel(CHANNEL), file_name=f"amazon-{tag}-{rows}.txt", raw=raw
    )
    assert (batch.rows_total, batch.orders_total) == (rows, orders), (batch.rows_total, batch.orders_total)
    return {"batch": batch.pk, "rows": rows, "orders": orders, "bytes": len(raw)}


def step_import(batch_id: int, size: int) -> dict:
    from django.conf import settings
    from django.db import connection

    from intake.csv_import import import_batch_run

    settings.OMS["INTAKE_BATCH_SIZE"] = size
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    connection.ensure_connection()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(count):
        batch = import_batch_run(batch_id=batch_id)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "seconds": wall,
        "cpu": cpu,
        "statements": statements,
        "rss_before_kb": rss_before,
        "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "status": batch.status,
        "rows": batch.rows_total,
        "orders": batch.orders_total,
        "processed": batch.orders_processed,
        "created": batch.orders_created,
        "held": batch.orders_held,
        "duplicate": batch.orders_duplicate,
        "invalid": batch.orders_invalid,
        "report": len(batch.report),
    }


def step_check() -> dict:
    from io import StringIO

    from django.core.management import call_command
    from django.db.models import Count

    from intake.models import InboundRequest
    from orders.models import Order

    keys = Order.objects.values("channel", "external_id")
    out = StringIO()
    call_command("check_inventory", stdout=out)
    return {
        "orders": Order.objects.count(),
        "duplicates": keys.annotate(n=Count("pk")).filter(n__gt=1).count(),
        "inbound": InboundRequest.objects.filter(source="csv").count(),
        "inbound_unfinished": InboundRequest.objects.filter(source="csv", outcome="received").count(),
        "by_status": dict(Order.objects.values_list("status").annotate(n=Count("pk")).order_by()),
        "check_inventory": out.getvalue().strip(),
    }


def run_child(args) -> None:
    setup_django()
    name, *rest = args
    if name == "seed":
        result = step_seed()
    elif name == "create":
        result = step_create(int(rest[0]), rest[1])
    elif name == "import":
        result = step_import(int(rest[0]), int(rest[1]))
    else:
        result = step_check()
    print(json.dumps(result, default=str))


# --- the run -----------------------------------------------------------------------------------
def phase(label: str, rows: int, tag: str, size: int) -> dict:
    made = child("create", str(rows), tag)
    before = loadavg()
    r = child("import", str(made["batch"]), str(size))
    r["load"] = f"{before} → {loadavg()}"
    r["orders_s"] = r["orders"] / r["seconds"]
    r["rows_s"] = r["rows"] / r["seconds"]
    growth = (r["rss_peak_kb"] - r["rss_before_kb"]) / 1024
    print(
        f"{label}: {r['rows']:,} rows, {r['orders']:,} orders ({made['bytes'] / 2**20:.1f} MB of text) in "
        f"{r['seconds']:.1f} s = {r['orders_s']:.1f} orders/s, {r['rows_s']:.1f} rows/s; "
        f"CPU {1000 * r['cpu'] / r['orders']:.2f} ms/order; "
        f"{r['statements']:,} statements ({r['statements'] / r['orders']:.2f}/order, "
        f"{r['statements'] / -(-r['orders'] // size):.1f}/chunk of {size}); "
        f"peak RSS {r['rss_peak_kb'] / 1024:.0f} MB (+{growth:.0f} MB over the process before the import); "
        f"{r['created']:,} captured, {r['held']:,} held, {r['duplicate']:,} duplicates, "
        f"{r['invalid']:,} invalid, {r['report']} report rows; status {r['status']}; load {r['load']}",
        flush=True,
    )
    assert r["processed"] == r["orders"] and r["status"] == "done", r
    return r


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return run_child(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--small-rows", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args()

    admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin_sql(f"CREATE DATABASE {DB}")
    try:
        print(f"PostgreSQL db {DB}; /proc/loadavg before: {proc_loadavg()}")
        print(f"catalogue: {child('seed')['products']} demo products, stock in 2 warehouses", flush=True)
        one = phase("per order (batch size 1)", args.small_rows, "P", 1)
        small = phase(f"chunked (batch size {args.batch_size})", args.small_rows, "S", args.batch_size)
        big = phase(f"chunked (batch size {args.batch_size})", args.rows, "B", args.batch_size)
        again = phase("the chunked small file again (duplicates)", args.small_rows, "S", args.batch_size)
        print(
            f"chunked / per order at {args.small_rows:,} rows: {small['orders_s'] / one['orders_s']:.2f}x; "
            f"at {args.rows:,} rows: {big['orders_s'] / one['orders_s']:.2f}x the per-order rate"
        )
        state = child("check")
        print(
            f"end state: {state['orders']:,} orders, "
            f"{state['duplicates']} (channel, external id) with two orders, "
            f"{state['inbound']:,} CSV inbound requests ({state['inbound_unfinished']} unfinished), "
            f"by status {state['by_status']}; {state['check_inventory']}"
        )
        assert again["duplicate"] == small["created"] + small["held"] and state["duplicates"] == 0
        print(f"/proc/loadavg after: {proc_loadavg()}")
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
