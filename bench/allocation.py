"""Allocation throughput on PostgreSQL: orders captured and allocated per second for 1, 8 and 32
concurrent workers, on one hot SKU and on SKUs spread over many stock rows, with pgbench's own
TPC-B-like figure from the same run as the reference. Ends by checking nothing was oversold.

    .venv/bin/python bench/allocation.py            # about two minutes
    BENCH_SECONDS=3 .venv/bin/python bench/allocation.py

Uses its own database (oms_bench_alloc on 127.0.0.1:5432, user postgres), dropped at the end.
Workers are threads in one process, each with its own connection (as gunicorn threads would be);
the GIL caps the Python side, so read the figures relative to each other and to pgbench.
"""

import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
DB = os.environ.get("BENCH_DB", "oms_bench_alloc")
PG = "postgres://postgres@127.0.0.1:5432"
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
WORKERS = [1, 8, 32]
SPREAD_SKUS = 300

os.environ["DATABASE_URL"] = f"{PG}/{DB}"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
os.environ.setdefault("CONN_MAX_AGE", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG}/postgres", "-qc", sql], check=True, capture_output=True)


def pgbench(clients: int) -> float:
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(int(SECONDS)),
            f"{PG}/{DB}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))


def main() -> None:
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {DB}")


def run() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    # E-mails are queued, not sent inline: production hands them to the db_worker.
    override_settings(TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}).enable()

    call_command("migrate", verbosity=0)
    subprocess.run(["pgbench", "-i", "-q", "-s", "2", f"{PG}/{DB}"], check=True, capture_output=True)

    from inventory.models import Product, StockItem, Warehouse
    from inventory.selectors import stock_list_discrepancies
    from inventory.services import stock_receive
    from orders.models import Channel, Order
    from orders.selectors import order_line_list_discrepancies, reservation_list_stale
    from orders.services import order_capture
    from tests.conftest import make_order_input

    channel = Channel.objects.create(code="bench", name="Bench")
    warehouses = [
        Warehouse.objects.create(code=f"W{i}", name=f"W{i}", country="US", priority=i) for i in range(3)
    ]
    hot = Product.objects.create(sku="HOT", name="Hot item", price=5)
    stock_receive(product=hot, warehouse=warehouses[0], quantity=1_000_000, reference="bench")
    spread = []
    for i in range(SPREAD_SKUS):
        product = Product.objects.create(sku=f"S{i:04d}", name=f"Spread {i}", price=5)
        for w in warehouses:
            stock_receive(product=product, warehouse=w, quantity=10_000, reference="bench")
        spread.append(product.sku)
    connection.close()

    def measure(workers: int, pick_sku) -> tuple[float, float]:
        stop = time.monotonic() + SECONDS
        counts = [0] * workers
        latencies: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(workers)

        def worker(index: int) -> None:
            rng = random.Random(index)
            barrier.wait()
            try:
                n = 0
                while time.monotonic() < stop:
                    data = make_order_input(
                        lines=[(pick_sku(rng), 1, "5.00")], email=f"w{workers}-{index}-{n}@bench.example"
                    )
                    started = time.monotonic()
                    order_capture(channel=channel, data=data)
                    with lock:
                        latencies.append(time.monotonic() - started)
                    n += 1
                counts[index] = n
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else 0.0
        return sum(counts) / elapsed, p95

    print(f"Allocation benchmark, {SECONDS:.0f} s per run, PostgreSQL database {DB}")
    row = "{:>7} | {:>16} | {:>7} | {:>15} | {:>7} | {:>11}"
    print(row.format("workers", "hot SKU orders/s", "p95 ms", "spread orders/s", "p95 ms", "pgbench tps"))
    rows = []
    for workers in WORKERS:
        hot_rate, hot_p95 = measure(workers, lambda rng: "HOT")
        spread_rate, spread_p95 = measure(workers, lambda rng: rng.choice(spread))
        tps = pgbench(workers)
        rows.append((workers, hot_rate, hot_p95, spread_rate, spread_p95, tps))
        figures = [f"{x:.1f}" for x in (hot_rate, hot_p95, spread_rate, spread_p95, tps)]
        print(row.format(workers, *figures))

    problems = stock_list_discrepancies() + order_line_list_discrepancies() + reservation_list_stale()
    oversold = StockItem.objects.filter(reserved__gt=models_F("on_hand")).count()
    allocated = Order.objects.filter(status=Order.Status.ALLOCATED).count()
    others = Order.objects.exclude(status=Order.Status.ALLOCATED).count()
    print(f"orders allocated: {allocated}, not allocated: {others}")
    print(f"oversold stock items: {oversold}; check_inventory discrepancies: {len(problems)}")
    for problem in problems[:20]:
        print(f"  - {problem}")
    if oversold or problems:
        sys.exit(1)


def models_F(name):
    from django.db.models import F

    return F(name)


if __name__ == "__main__":
    main()
