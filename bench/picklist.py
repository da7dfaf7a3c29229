"""Benchmark: build one pick list from 5,000 ready shipments on PostgreSQL.

Creates its own database (oms_bench_pick), seeds 5,000 orders each with one shipment of one to
three lines (30 SKUs in 30 bins), then times, in the same run:
  baseline  a plain SELECT of the same shipments with their lines (what reading them costs);
  pick list pick_list_create(): locks, groups by bin, writes the list and moves every shipment.
Prints time and query counts, then drops the database.

    .venv/bin/python bench/picklist.py [--shipments 5000] [--host 127.0.0.1]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "oms_bench_pick"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shipments", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    admin_url = f"postgresql://postgres@{args.host}:5432/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    try:
        run(args.shipments)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB}")


def seed(n: int):
    from decimal import Decimal

    from django.utils import timezone

    from fulfillment.models import Carrier, ServiceLevel, Shipment, ShipmentLine
    from inventory.models import Product, Reservation, StockItem, StockMovement, Warehouse
    from orders.models import Address, Channel, Order, OrderLine

    wh = Warehouse.objects.create(code="MAIN", name="Main", country="US", priority=1)
    carrier = Carrier.objects.create(code="ups", name="UPS")
    level = ServiceLevel.objects.create(carrier=carrier, code="ground", name="Ground")
    channel = Channel.objects.create(code="web", name="Web")
    address = Address.objects.create(name="Ada", line1="1 Way", city="NYC", postal_code="10001", country="US")
    products = Product.objects.bulk_create(
        Product(sku=f"SKU-{i:03d}", barcode=f"5{i:012d}", name=f"Product {i}", weight_grams=300)
        for i in range(30)
    )
    items = StockItem.objects.bulk_create(
        StockItem(product=p, warehouse=wh, bin_location=f"{'ABC'[i % 3]}-{i:02d}-1", on_hand=100_000)
        for i, p in enumerate(products)
    )
    StockMovement.objects.bulk_create(
        StockMovement(stock_item=it, kind="receipt", quantity=100_000, reference="bench") for it in items
    )
    now = timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            channel=channel,
            email=f"c{i}@example.com",
            shipping_address=address,
            placed_at=now,
            number=f"SO-B{i:07d}",
            external_id=f"B{i}",
        )  # fmt: skip
        for i in range(n)
    )
    Order.objects.update(status=Order.Status.PROCESSING)
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=o,
            product=products[(i * 7 + j) % 30],
            sku=products[(i * 7 + j) % 30].sku,
            name="x",
            unit_price=Decimal("9.99"),
            quantity=1 + j,
        )  # fmt: skip
        for i, o in enumerate(orders)
        for j in range(1 + i % 3)
    )
    Reservation.objects.bulk_create(
        Reservation(
            stock_item=items[products.index(ln.product)],
            reference=f"order:{ln.order_id}",
            line_reference=f"line:{ln.pk}",
            quantity=ln.quantity,
        )  # fmt: skip
        for ln in lines
    )
    shipments = Shipment.objects.bulk_create(
        Shipment(number=f"{o.number}-1", order=o, warehouse=wh, service_level=level) for o in orders
    )
    by_order = {s.order_id: s for s in shipments}
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=by_order[ln.order_id], order_line=ln, quantity=ln.quantity) for ln in lines
    )
    return wh, len(lines)


def run(n: int):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from fulfillment.models import Shipment, ShipmentLine
    from fulfillment.picking import pick_list_create

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    wh, line_count = seed(n)
    print(f"seeded {n} shipments, {line_count} lines in {time.perf_counter() - t:.1f} s")
    reset_queries()

    def baseline():
        shipments = list(
            Shipment.objects.filter(warehouse=wh, status="pending").values("pk", "number", "order_id")
        )
        lines = list(
            ShipmentLine.objects.filter(shipment__warehouse=wh, shipment__status="pending").values(
                "shipment_id", "quantity", "order_line__sku"
            )
        )
        return len(shipments), len(lines)

    baseline()  # warm the cache the same way for both
    runs = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            baseline()
            runs.append((time.perf_counter() - t, len(ctx)))
    b_time, b_queries = min(runs)
    with CaptureQueriesContext(connection) as ctx:
        t = time.perf_counter()
        pick_list = pick_list_create(warehouse_id=wh.pk)
        p_time = time.perf_counter() - t
    print(f"baseline  plain SELECT of {n} shipments + {line_count} lines: ", end="")
    print(f"{b_time * 1000:.0f} ms, {b_queries} queries")
    print(
        f"pick list {pick_list.shipment_count} shipments, {pick_list.unit_count} units, "
        f"{pick_list.lines.count()} bin stops: {p_time * 1000:.0f} ms, {len(ctx)} queries "
        f"({p_time / b_time:.1f}x baseline)"
    )
    assert Shipment.objects.filter(status="picking").count() == n


if __name__ == "__main__":
    main()
