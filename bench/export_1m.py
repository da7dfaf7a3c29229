#!/usr/bin/env python
"""Benchmark for issue 7: a million orders on PostgreSQL — export rate and memory, KPI rollups,
dashboard and admin order list times.

    .venv/bin/python bench/export_1m.py [--orders 1000000] [--keep] [--reuse] [--skip-exports]

Creates its own database (oms_bench_export, dropped at the end unless --keep), generates the
orders with INSERT ... SELECT generate_series (plus one line each, a shipment for every shipped
order, captured/backordered events and some returns), then measures:

- baseline: PostgreSQL's own `COPY (<the export's SELECT>) TO STDOUT (FORMAT csv)`, read by psycopg;
- `manage.py export orders` (call_command in a child process): rows/s and the child's peak RSS;
- the admin "Orders CSV" download (streamed through Django's test client) in a child process;
- the KPI rollups: a full rebuild (`kpi_rebuild`), then the incremental refresh with nothing
  new, after 1,000 of the newest orders changed (a busy hour), after 1,000 orders spread over
  the last 60 days changed (returns, late deliveries) and over the whole year (the worst case);
- the KPI dashboard for the default 30 days and for a whole year (each view refreshes first);
- the dashboard right after 1,000 orders over the whole year changed (a historical import): the
  view that leaves the recompute to the background task, the task, and the view after it;
- the admin order list unfiltered, with each filter, with searches and deep pages, and whether
  any query counts the whole table.

Prints the figures; copy them into docs/benchmarks.md. `--keep` then `--reuse` re-measures on
the same data without generating it again.
"""

import argparse
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "oms_bench_export"
SERVER = "postgres://postgres@127.0.0.1:5432"
os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
sys.path.insert(0, str(ROOT))

CSV_PATH = Path("/tmp") / f"{DB_NAME}_orders.csv"


def recreate_database():
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database():
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def setup_django():
    import django

    django.setup()


GENERATE_SQL = [
    # Shipments were last updated when shipped or delivered, at the latest ten minutes ago (the
    # last carrier scan), not in the future as the generated delivery times can be.
    # Orders: newest first by g; about a year at one order every 31.5 s. Recent ones are still
    # open, some are backordered or cancelled, the rest shipped or delivered. Order numbers are
    # unique and look random, like real ones (g times an odd constant, modulo 2^32).
    """
    INSERT INTO orders_order (
        created_at, updated_at, number, external_id, status, email, customer_name, phone,
        shipping_speed, currency, subtotal, shipping_total, tax_total, discount_total, total,
        payment_method, payment_status, payment_reference, payment_amount, placed_at, verified_at,
        allocated_at, shipped_at, delivered_at, cancelled_at, cancel_reason, notes, channel_id,
        shipping_address_id)
    SELECT p + interval '1 minute', p + interval '1 minute',
        'SO-' || upper(lpad(to_hex((g * 2654435761) %% 4294967296), 8, '0')),
        'EXT-' || g, s, 'customer' || (g %% 50000) || '@example.com', 'Customer ' || (g %% 50000), '',
        (ARRAY['standard','standard','standard','express','overnight'])[1 + g %% 5], 'USD',
        (g %% 500) + 10.50, 5.00, 0, 0, (g %% 500) + 15.50, 'card',
        CASE WHEN s = 'cancelled' THEN 'voided' ELSE 'paid' END, '', (g %% 500) + 15.50, p,
        CASE WHEN s NOT IN ('pending', 'on_hold') THEN p + interval '2 minutes' END,
        CASE WHEN s NOT IN ('pending', 'on_hold', 'verified', 'backordered', 'cancelled')
             THEN p + interval '3 minutes' END,
        CASE WHEN s IN ('partially_shipped', 'shipped', 'delivered')
             THEN p + ((g %% 72) + 2) * interval '1 hour' END,
        CASE WHEN s = 'delivered' THEN p + ((g %% 72) + 2) * interval '1 hour'
                                        + ((g %% 5) + 1) * interval '1 day' END,
        CASE WHEN s = 'cancelled' THEN p + interval '1 hour' END, '', '',
        %(channel_min)s + g %% 4, %(address_min)s + g %% 1000
    FROM (
        SELECT g, now() - g * interval '31.5 seconds' AS p,
            CASE WHEN g <= 3000 THEN (ARRAY['pending', 'on_hold', 'verified', 'allocated', 'processing',
                                            'partially_shipped'])[1 + g %% 6]
                 WHEN g <= 20000 AND g %% 25 = 0 THEN 'backordered'
                 WHEN g %% 50 = 0 THEN 'cancelled'
                 WHEN g <= 12000 THEN 'shipped'
                 ELSE 'delivered' END AS s
        FROM generate_series(1, %(n)s) AS g
    ) AS x
    """,
    """
    INSERT INTO orders_orderline (sku, name, unit_price, quantity, quantity_shipped, quantity_returned,
                                  order_id, product_id)
    SELECT p.sku, p.name, o.subtotal, 1,
           CASE WHEN o.shipped_at IS NOT NULL THEN 1 ELSE 0 END, 0, o.id, p.id
    FROM orders_order o JOIN inventory_product p ON p.id = %(product_min)s + o.id %% 200
    """,
    """
    INSERT INTO fulfillment_shipment (created_at, updated_at, number, status, tracking_number, weight_grams,
        estimated_delivery, packed_at, shipped_at, delivered_at, order_id, warehouse_id)
    SELECT o.allocated_at, LEAST(COALESCE(o.delivered_at, o.shipped_at), now() - interval '10 minutes'),
           'SH-B' || o.id,
           CASE WHEN o.delivered_at IS NOT NULL THEN 'delivered' ELSE 'shipped' END,
           '1ZB' || o.id, 500, (o.shipped_at + interval '3 days')::date, o.shipped_at - interval '1 hour',
           o.shipped_at, o.delivered_at, o.id, %(warehouse_min)s + o.id %% 2
    FROM orders_order o WHERE o.shipped_at IS NOT NULL
    """,
    """
    INSERT INTO orders_orderevent (kind, from_status, to_status, message, visible_to_customer, created_at,
                                   order_id)
    SELECT 'captured', '', 'pending', '', true, o.created_at, o.id FROM orders_order o
    UNION ALL
    SELECT 'backordered', 'verified', 'backordered', '', true, o.created_at + interval '2 minutes', o.id
    FROM orders_order o WHERE o.status = 'backordered' OR o.id %% 40 = 0
    """,
    """
    INSERT INTO returns_returnrequest (created_at, updated_at, number, status, reason, comment, resolution,
                                       decision_note, order_id)
    SELECT o.delivered_at + interval '2 days', o.delivered_at + interval '2 days', 'RMA-B' || o.id,
           'requested', (ARRAY['damaged', 'wrong_item', 'not_as_described', 'does_not_fit',
                               'changed_mind', 'other'])[1 + o.id %% 6], '', 'refund', '', o.id
    FROM orders_order o WHERE o.delivered_at IS NOT NULL AND o.id %% 33 = 0
    """,
    """
    INSERT INTO returns_returnline (quantity, condition, disposition, quantity_restocked, order_line_id,
                                    return_request_id)
    SELECT 1, '', '', 0, l.id, r.id
    FROM returns_returnrequest r JOIN orders_orderline l ON l.order_id = r.order_id
    """,
    # Stock rows are written directly (the ledger is not what this benchmark measures).
    """
    INSERT INTO inventory_stockitem (created_at, updated_at, bin_location, on_hand, reserved, reorder_point,
                                     reorder_quantity, product_id, warehouse_id)
    SELECT now(), now(), 'A-' || p.id, (p.id * 7) %% 60, LEAST((p.id * 7) %% 60, (p.id * 3) %% 10), 12, 40,
           p.id, w.id
    FROM inventory_product p CROSS JOIN inventory_warehouse w
    """,
]


def generate(n: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from inventory.models import Product, Warehouse
    from orders.models import Address, Channel

    started = time.perf_counter()
    channels = Channel.objects.bulk_create(
        Channel(code=code, name=name, kind=kind)
        for code, name, kind in [
            ("web", "Web shop", "web"),
            ("shopify", "Shopify", "shopify"),
            ("phone", "Phone", "phone"),
            ("market", "Marketplace", "marketplace"),
        ]
    )
    addresses = Address.objects.bulk_create(
        Address(name=f"Customer {i}", line1=f"{i} Main St", city="Springfield", postal_code=f"{10000 + i}",
                country="US")
        for i in range(1000)
    )  # fmt: skip
    products = Product.objects.bulk_create(
        Product(sku=f"BENCH-{i:04d}", name=f"Bench product {i}", price="19.99") for i in range(200)
    )
    warehouses = Warehouse.objects.bulk_create(
        [Warehouse(code="EAST", name="East", country="US", priority=1),
         Warehouse(code="WEST", name="West", country="US", priority=2)]
    )  # fmt: skip
    get_user_model().objects.create_superuser("bench", "bench@oms.example", "bench-password-123")
    params = {
        "n": n,
        "channel_min": min(c.pk for c in channels),
        "address_min": min(a.pk for a in addresses),
        "product_min": min(p.pk for p in products),
        "warehouse_min": min(w.pk for w in warehouses),
    }
    counts = {}
    search_indexes = importlib.import_module(
        "orders.migrations.0002_indexes_for_admin_list_filters_and_search"
    )
    # The trigram indexes are built once after the bulk insert, as a restore would: much faster
    # than maintaining three GIN indexes row by row.
    search_indexes.drop_search_indexes(None, connection.schema_editor())
    with connection.cursor() as cursor:
        for sql in GENERATE_SQL:
            cursor.execute(sql, params)
            table = re.search(r"INSERT INTO (\w+)", sql).group(1)
            counts[table] = cursor.rowcount
        started_indexes = time.perf_counter()
        with connection.schema_editor() as editor:
            search_indexes.create_search_indexes(None, editor)
        counts["search index build s"] = round(time.perf_counter() - started_indexes, 1)
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have: statistics, visibility map
    counts["seconds"] = time.perf_counter() - started
    return counts


def export_sql() -> str:
    from orders.models import Order
    from reports.exports import EXPORTS

    export = EXPORTS["orders"]
    qs = Order.objects.order_by("pk").values_list(*[c.source for c in export.columns])
    sql, params = qs.query.sql_with_params()
    assert not params
    return sql


def baseline_copy() -> dict:
    import psycopg

    sql = export_sql()
    started = time.perf_counter()
    size = rows = 0
    with (
        psycopg.connect(f"{SERVER}/{DB_NAME}") as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as copy,
    ):
        for data in copy:
            size += len(data)
            rows += bytes(data).count(b"\n")
    seconds = time.perf_counter() - started
    return {"rows": rows - 1, "seconds": seconds, "rows_per_s": (rows - 1) / seconds, "mb": size / 1e6}


def child_command_export():
    """Run in a child process: `manage.py export orders` (call_command, after Django has started)."""
    import resource

    setup_django()
    from django.core.management import call_command

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    call_command("export", "orders", "--output", str(CSV_PATH), "--progress", "never", stdout=sys.stderr)
    seconds = time.perf_counter() - started
    with CSV_PATH.open("rb") as f:
        rows = sum(1 for _ in f) - 1
    size = CSV_PATH.stat().st_size
    CSV_PATH.unlink()
    print(json.dumps({
        "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "mb": size / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_before_mb": rss_before,
    }))  # fmt: skip


def child_http_export():
    """Run in a child process: stream the admin's Orders CSV and report time and own peak RSS."""
    import resource

    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    response = client.get(reverse("reports:export", args=["orders"]))
    size = rows = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    print(json.dumps({
        "rows": rows - 1, "seconds": seconds, "rows_per_s": (rows - 1) / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_before_mb": rss_before,
    }))  # fmt: skip


def in_child(flag: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, flag], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed_get(client, url, *, runs=3) -> tuple[float, list[str], int]:
    """Median seconds of `runs` GETs after one warm-up, the SQL of the last, and its status."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
    return statistics.median(times), [q["sql"] for q in ctx.captured_queries], response.status_code


def full_table_counts(queries: list[str]) -> list[str]:
    """COUNT queries over the order table with no WHERE and no LIMIT: a full-table count."""
    return [
        q for q in queries
        if "COUNT(" in q.upper() and '"orders_order"' in q and " WHERE " not in q and " LIMIT " not in q
    ]  # fmt: skip


def pages(n: int) -> dict:
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from orders.models import Channel, Order

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    dashboard = reverse("reports:dashboard")
    today = timezone.localdate()
    results = {}
    for label, url in [
        ("dashboard, last 30 days (default)", dashboard),
        ("dashboard, last 365 days", f"{dashboard}?start={today - dt.timedelta(days=364)}&end={today}"),
    ]:
        seconds, queries, status = timed_get(client, url)
        results[label] = {"seconds": seconds, "queries": len(queries), "status": status}

    changelist = reverse("admin:orders_order_changelist")
    channel = Channel.objects.get(code="shopify").pk
    number = (
        Order.objects.filter(external_id=f"EXT-{min(123456, n // 2)}").values_list("number", flat=True).get()
    )
    midnight = dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC)
    week = f"placed_at__gte={midnight - dt.timedelta(days=7):%Y-%m-%d+%H:%M:%S%%2B00:00}&placed_at__lt=" + (
        f"{midnight + dt.timedelta(days=1):%Y-%m-%d+%H:%M:%S%%2B00:00}"
    )
    for label, query in [
        ("unfiltered, page 1", ""),
        ("status = backordered", "status__exact=backordered"),
        ("status = delivered", "status__exact=delivered"),
        ("channel = Shopify", f"channel__id__exact={channel}"),
        ("placed in the past 7 days", week),
        ("hold reason = fraud", "hold=fraud"),
        ("shipping speed = overnight", "shipping_speed__exact=overnight"),
        ("payment status = voided", "payment_status__exact=voided"),
        ("search: order number", f"q={number}"),
        ("search: part of a number", f"q={number[-5:]}"),
        ("search: e-mail", "q=customer4242%40example.com"),
        ("search: name fragment", "q=Customer+4242"),
        ("page 200", "p=200"),
        ("sorted by total, page 50", "o=7&p=50"),
        ("with the optional facet counts (“Show counts”)", "_facets=1"),
    ]:
        seconds, queries, status = timed_get(client, f"{changelist}?{query}")
        results[f"order list: {label}"] = {
            "seconds": seconds,
            "queries": len(queries),
            "status": status,
            "full_counts": len(full_table_counts(queries)),
        }
    return results


def touch_orders(where: str) -> int:
    """Give the orders matching `where` (SQL on orders_order o) an event now, as any change to an
    order does, and bump their shipments' updated_at. Returns how many orders."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_orderevent (kind, from_status, to_status, message, visible_to_customer,"
            " created_at, order_id) SELECT 'note', '', '', 'bench touch', false, now(), o.id"
            f" FROM orders_order o WHERE {where}"
        )
        touched = cursor.rowcount
        cursor.execute(
            "UPDATE fulfillment_shipment SET updated_at = now() WHERE order_id IN"
            " (SELECT order_id FROM orders_orderevent WHERE message = 'bench touch'"
            "  AND created_at > now() - interval '1 second')"
        )
    return touched


def age_touches() -> None:
    """Move the touches an hour back, out of the next refresh's overlap window."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_orderevent SET created_at = created_at - interval '1 hour'"
            " WHERE message = 'bench touch' AND created_at > now() - interval '1 hour'"
        )
        cursor.execute(
            "UPDATE fulfillment_shipment SET updated_at = updated_at - interval '1 hour'"
            " WHERE updated_at > now() - interval '1 minute'"
        )


def rollups(n: int) -> list[str]:
    """Full rebuild, then incremental refreshes after touching 1,000 orders in three patterns."""
    from django.db.models import Sum

    from orders.models import Order
    from reports.models import KpiLeadTimeDay, KpiOrderDay, KpiShipmentDay, KpiSkuDay
    from reports.rollups import kpi_rebuild, kpi_refresh

    lines = []
    started = time.perf_counter()
    result = kpi_rebuild()
    seconds = time.perf_counter() - started
    rows = {m.__name__: m.objects.count() for m in (KpiOrderDay, KpiLeadTimeDay, KpiSkuDay, KpiShipmentDay)}
    assert KpiOrderDay.objects.aggregate(n=Sum("orders"))["n"] == Order.objects.count()
    lines.append(
        f"kpi_rebuild: {result.placed_days} days in {seconds:.1f} s ("
        + ", ".join(f"{k} {v:,} rows" for k, v in rows.items())
        + "; orders in the rollups = orders in the table)"
    )
    for label, where in [
        ("nothing new (only the overlap window)", None),
        (
            "1,000 newest orders touched",
            "o.id IN (SELECT id FROM orders_order ORDER BY placed_at DESC LIMIT 1000)",
        ),
        (
            "1,000 orders over the last 60 days touched",
            "o.id IN (SELECT id FROM orders_order WHERE placed_at > now() - interval '60 days'"
            " ORDER BY id % 997, id LIMIT 1000)",
        ),
        (
            "1,000 orders over the whole year touched",
            f"o.id IN (SELECT id FROM orders_order WHERE id % {max(n // 1000, 1)} = 7 LIMIT 1000)",
        ),
    ]:
        touched = touch_orders(where) if where else 0
        started = time.perf_counter()
        result = kpi_refresh()
        seconds = time.perf_counter() - started
        lines.append(
            f"kpi_refresh, {label}: {seconds * 1000:.0f} ms ({touched} orders touched; recomputed "
            f"{result.placed_days} placed days, {result.shipped_days} shipped days)"
        )
        age_touches()
    return lines


def dashboard_after_big_change(n: int) -> list[str]:
    """A year-wide change, then the dashboard with the production task backend (the view queues
    the refresh; the worker's run is timed separately), then the view after the worker ran."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client, override_settings
    from django.urls import reverse

    from reports.tasks import kpi_refresh_task

    cache.clear()  # no refresh queued yet
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    url = reverse("reports:dashboard")
    client.get(url)  # warm, and up to date
    age_touches()
    touch_orders(f"o.id IN (SELECT id FROM orders_order WHERE id % {max(n // 1000, 1)} = 3 LIMIT 1000)")
    lines = []
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        started = time.perf_counter()
        response = client.get(url)
        seconds = time.perf_counter() - started
        notice = 'id="kpi-catching-up"' in response.content.decode()
        lines.append(
            f"dashboard right after 1,000 orders over the year changed: {seconds * 1000:.0f} ms "
            f"(HTTP {response.status_code}, catching-up notice shown: {notice})"
        )
    started = time.perf_counter()
    kpi_refresh_task.call()  # what the worker runs
    lines.append(f"  the queued refresh, run by the worker: {(time.perf_counter() - started) * 1000:.0f} ms")
    started = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - started
    notice = 'id="kpi-catching-up"' in response.content.decode()
    lines.append(f"  the next view: {seconds * 1000:.0f} ms (catching-up notice shown: {notice})")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument(
        "--reuse", action="store_true", help="Measure the database kept by --keep; generate nothing."
    )
    parser.add_argument(
        "--skip-exports", action="store_true", help="Skip the CSV export measurements (about a minute)."
    )
    parser.add_argument("--child-http", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-command", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_http:
        return child_http_export()
    if args.child_command:
        return child_command_export()

    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if not args.reuse:
        recreate_database()
    setup_django()
    from django.db import connections

    try:
        run(args)
    finally:
        connections.close_all()
        if not args.keep:
            drop_database()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def run(args):
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.reuse:
        from orders.models import Order

        args.orders = Order.objects.count()
        print(f"reusing {DB_NAME}: {args.orders:,} orders")
    else:
        counts = generate(args.orders)
        print(
            f"generated in {counts.pop('seconds'):.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        )
    if not args.skip_exports:
        exports()
    for line in rollups(args.orders):
        print(line)
    for line in dashboard_after_big_change(args.orders):
        print(line)
    for label, r in pages(args.orders).items():
        extra = f", full-table COUNTs: {r['full_counts']}" if "full_counts" in r else ""
        print(f"{label}: {r['seconds'] * 1000:.0f} ms ({r['queries']} queries, HTTP {r['status']}{extra})")


def exports():
    base = baseline_copy()
    print(f"baseline COPY TO STDOUT: {base['rows']:,} rows in {base['seconds']:.1f} s = "
          f"{base['rows_per_s']:,.0f} rows/s ({base['mb']:.0f} MB)")  # fmt: skip
    cmd = in_child("--child-command")
    print(f"manage.py export orders: {cmd['rows']:,} rows in {cmd['seconds']:.1f} s = "
          f"{cmd['rows_per_s']:,.0f} rows/s, peak RSS {cmd['peak_rss_mb']:.0f} MB "
          f"(after Django setup: {cmd['rss_before_mb']:.0f} MB; {cmd['mb']:.0f} MB file)")  # fmt: skip
    web = in_child("--child-http")
    print(f"admin Orders CSV (streamed): {web['rows']:,} rows in {web['seconds']:.1f} s = "
          f"{web['rows_per_s']:,.0f} rows/s, peak RSS {web['peak_rss_mb']:.0f} MB "
          f"(process after Django setup: {web['rss_before_mb']:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
