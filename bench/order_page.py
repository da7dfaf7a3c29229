"""Benchmark: the customer order page under load on gunicorn + PostgreSQL, beside a trivial
Django view (/healthz) measured in the same run.

Creates its own database (oms_bench_portal), fills it with ORDERS orders (3 lines, 2 shipments
with carrier events, a customer timeline, a return and a message thread each), starts gunicorn,
and drives each URL with 32 concurrent clients (4 processes x 8 threads, a new connection per
request as a browser behind a proxy would for sync workers). Prints req/s, p50 and p99. Drops
the database at the end.

    .venv/bin/python bench/order_page.py [--seconds 15] [--orders 400] [--workers 4]
"""

import argparse
import datetime as dt
import http.client
import multiprocessing as mp
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "oms_bench_portal"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("BENCH_PORT", "8766"))
ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "SECRET_KEY": "bench-secret-key",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
}


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True)


def seed(count: int) -> list[str]:
    """Bulk-insert orders with everything the page shows; return their page paths."""
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import timezone

    from fulfillment.models import Carrier, ServiceLevel, Shipment, ShipmentLine, TrackingEvent
    from inventory.models import Product, Warehouse
    from orders.links import order_tracking_url
    from orders.models import Address, Channel, Order, OrderEvent, OrderLine
    from returns.models import ReturnLine, ReturnRequest
    from support.models import Message, Thread

    now = timezone.now()
    channel = Channel.objects.create(code="web", name="Web shop")
    warehouse = Warehouse.objects.create(code="EWR", name="Newark", country="US")
    carrier = Carrier.objects.create(
        code="ups", name="UPS", tracking_url_template="https://ups.example/{tracking_number}"
    )
    level = ServiceLevel.objects.create(carrier=carrier, code="ground", name="Ground")
    products = Product.objects.bulk_create(
        Product(sku=f"P-{i}", name=f"Product {i}", price=Decimal("20.00")) for i in range(20)
    )
    address = Address.objects.create(
        name="Ada", line1="1 Way", city="New York", postal_code="10001", country="US"
    )
    orders = Order.objects.bulk_create(
        Order(
            channel=channel,
            email=f"c{i}@example.com",
            customer_name="Ada Lovelace",
            shipping_address=address,
            subtotal=Decimal("60.00"),
            total=Decimal("60.00"),
            placed_at=now - dt.timedelta(days=5),
            status="delivered",
            payment_status="paid",
        )
        for i in range(count)
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=o,
            product=products[(i + j) % 20],
            sku=f"P-{(i + j) % 20}",
            name="Product",
            unit_price=Decimal("20.00"),
            quantity=1,
            quantity_shipped=1,
        )
        for i, o in enumerate(orders)
        for j in range(3)
    )
    shipments = Shipment.objects.bulk_create(
        Shipment(
            order=o,
            number=f"{o.number}-{k}",
            warehouse=warehouse,
            service_level=level,
            status="delivered",
            tracking_number=f"1Z{i:06d}{k}",
            shipped_at=now - dt.timedelta(days=4),
            delivered_at=now - dt.timedelta(days=2),
        )
        for i, o in enumerate(orders)
        for k in range(2)
    )
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipments[2 * (idx // 3) + (idx % 3 > 0)], order_line=ln, quantity=1)
        for idx, ln in enumerate(lines)
    )
    TrackingEvent.objects.bulk_create(
        TrackingEvent(
            shipment=s,
            tracking_number=s.tracking_number,
            status=st,
            carrier_status=st,
            description="Scan",
            location="Newark, NJ",
            occurred_at=now - dt.timedelta(hours=h),
        )
        for s in shipments
        for st, h in [
            ("pre_transit", 90),
            ("in_transit", 80),
            ("in_transit", 60),
            ("out_for_delivery", 50),
            ("delivered", 48),
        ]
    )
    OrderEvent.objects.bulk_create(
        OrderEvent(order=o, kind=kind, message="Event", visible_to_customer=True)
        for o in orders
        for kind in ["captured", "verified", "allocated", "shipped", "delivered", "return"]
    )
    returns = ReturnRequest.objects.bulk_create(ReturnRequest(order=o, reason="damaged") for o in orders)
    ReturnLine.objects.bulk_create(
        ReturnLine(return_request=r, order_line=lines[3 * i], quantity=1) for i, r in enumerate(returns)
    )
    threads = Thread.objects.bulk_create(Thread(order=o, waiting_since=now) for o in orders)
    Message.objects.bulk_create(
        Message(thread=t, author=a, body="Hello") for t in threads for a in ["customer", "staff"]
    )
    return [order_tracking_url(order_number=o.number, absolute=False) for o in orders]


def client(paths, seconds, out_queue, threads=8):
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def run():
        nonlocal errors
        rng = random.Random()
        mine = []
        while time.perf_counter() < stop_at:
            path = rng.choice(paths)
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                conn.request("GET", path, headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                conn.close()
                ok = response.status == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - start
            if ok:
                mine.append(elapsed)
            else:
                with lock:
                    errors += 1
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out_queue.put((latencies, errors))


def measure(name: str, paths: list[str], seconds: int, processes: int = 4) -> dict:
    queue = mp.Queue()
    procs = [mp.Process(target=client, args=(paths, seconds, queue)) for _ in range(processes)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    row = {
        "name": name,
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000 if latencies else 0,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0,
    }
    print(
        f"{name:<28} {row['rps']:8.1f} req/s  p50 {row['p50']:6.1f} ms  p99 {row['p99']:6.1f} ms  "
        f"({row['requests']} ok, {errors} errors)",
        flush=True,
    )
    return row


def wait_up(timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not come up")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin_sql(f"CREATE DATABASE {DB_NAME}")
    server = None
    try:
        manage("migrate", "--noinput", "-v0")
        manage("collectstatic", "--noinput", "-v0")
        paths = seed(args.orders)
        print(
            f"{len(paths)} orders seeded; gunicorn with {args.workers} sync workers; 32 clients; "
            f"{args.seconds}s per URL; {os.cpu_count()} CPUs",
            flush=True,
        )
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=ENV,
            start_new_session=True,
        )
        wait_up()
        measure("warm-up", paths, 3)
        base = measure("trivial view /healthz", ["/healthz"], args.seconds)
        page = measure("customer order page", paths, args.seconds)
        print(
            f"order page / trivial view: {page['rps'] / base['rps']:.2f} of the rate "
            f"(target >= 0.50); p99 {page['p99']:.1f} ms (target < 50 ms)"
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        from django.db import connections

        connections.close_all() if "django" in sys.modules else None
        admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
