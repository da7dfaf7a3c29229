"""Intake benchmark: gunicorn on PostgreSQL, N concurrent clients posting 3-line orders.
The scarce SKU is ordered by every third order, so its last units are raced for.

Measures, in the same run and on the same server settings, the request rate of the trivial
/healthz view (the baseline), then order intake (orders/s, p50/p99 latency). 5% of posts are
retries of an order already sent. One SKU has less stock than the run needs, so orders end
backordered and allocation races for the last units. At the end it checks zero duplicate orders
and zero oversold units (check_inventory), then drops its database.

    .venv/bin/python bench/intake.py [--clients 8] [--seconds 30] [--workers 4]
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
DB = "oms_bench_intake"
PG = "postgres://postgres@127.0.0.1:5432"

SEED = """
from inventory.models import StockMovement, Warehouse, Product
from inventory.services import stock_receive
from orders.intake.keys import channel_api_key_create
from orders.models import Channel
wh = Warehouse.objects.create(code="MAIN", name="Main", country="US", priority=1)
for sku, qty in [(f"BENCH-{i:02d}", 100000) for i in range(30)] + [("BENCH-C", {scarce})]:
    p = Product.objects.create(sku=sku, name=sku, price="10.00")
    stock_receive(product=p, warehouse=wh, quantity=qty, bin_location="A-1",
                  kind=StockMovement.Kind.RECEIPT, reference="bench")
channel = Channel.objects.create(code="bench", name="Bench shop")
print(channel_api_key_create(channel=channel)[1])
"""

CHECK = """
from django.db.models import Count
from inventory.models import StockItem
from orders.models import Order
dupes = Order.objects.values("channel", "external_id").annotate(n=Count("pk")).filter(n__gt=1).count()
over = sum(max(0, s.reserved - s.on_hand) for s in StockItem.objects.all())
c = StockItem.objects.get(product__sku="BENCH-C")
by = dict(Order.objects.values_list("status").annotate(n=Count("pk")))
print({"orders": Order.objects.count(), "duplicates": dupes, "oversold": over,
       "scarce_reserved": c.reserved, "scarce_on_hand": c.on_hand, "by_status": by})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def admin_sql(sql: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def manage(env, *args, stdin=None) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def order_body(n: int) -> bytes:
    """3 lines from a catalogue of 30 SKUs; every third order also wants the scarce SKU."""
    rng = random.Random(n)
    skus = rng.sample([f"BENCH-{i:02d}" for i in range(30)], 2) + [
        "BENCH-C" if n % 3 == 0 else f"BENCH-{rng.randrange(30):02d}"
    ]
    if len(set(skus)) < 3:
        skus[2] = "BENCH-C"
    return json.dumps(
        {
            "external_id": f"BENCH-{n}",
            "customer": {"email": f"c{n}@example.com", "name": "Bench Customer"},
            "shipping_address": {
                "name": "Bench Customer",
                "line1": "1 Load St",
                "city": "New York",
                "region": "NY",
                "postal_code": "10001",
                "country": "US",
            },
            "currency": "USD",
            "lines": [
                {"sku": sku, "quantity": q, "unit_price": "10.00"}
                for sku, q in zip(skus, (1, 2, 1), strict=True)
            ],
            "shipping_total": "5.00",
            "payment": {"method": "card", "status": "authorized"},
        }
    ).encode()


def run_clients(port, clients, seconds, make_request):
    """Each client keeps one connection and sends requests back to back until time is up."""
    latencies, statuses, lock = [], {}, threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(index):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, seen = [], {}
        i = 0
        while time.perf_counter() < deadline:
            method, path, body, headers = make_request(index, i)
            i += 1
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = "error"
            mine.append(time.perf_counter() - start)
            seen[status] = seen.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in seen.items():
                statuses[k] = statuses.get(k, 0) + v

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, statuses, time.perf_counter() - started


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--baseline-seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scarce", type=int, default=400, help="units of the scarce SKU")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "SECRET_KEY": "bench-secret-key",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
    }
    admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin_sql(f"CREATE DATABASE {DB}")
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v0")
        key = manage(env, "shell", stdin=SEED.replace("{scarce}", str(args.scarce))).splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)

        print(f"gunicorn {args.workers} sync workers, {args.clients} clients, PostgreSQL db {DB}")
        lat, statuses, took = run_clients(
            port, args.clients, args.baseline_seconds, lambda c, i: ("GET", "/healthz", None, {})
        )
        baseline = len(lat) / took
        print(
            f"baseline /healthz: {baseline:.0f} req/s, "
            f"p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms"
        )

        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        sent = {}

        def order_request(c, i):
            n = c * 1_000_000 + i
            if i > 10 and random.random() < 0.05:  # a retry of an order this client sent before
                n = c * 1_000_000 + random.randrange(i)
            sent[n] = True
            return "POST", "/api/v1/orders", order_body(n), headers

        lat, statuses, took = run_clients(port, args.clients, args.seconds, order_request)
        created = statuses.get(201, 0)
        rate = created / took
        print(
            f"intake: {created} orders created in {took:.1f} s = {rate:.1f} orders/s "
            f"({len(lat) / took:.1f} req/s incl. retries), p50 {pct(lat, 0.5):.0f} ms, "
            f"p99 {pct(lat, 0.99):.0f} ms, statuses {statuses}"
        )
        print(f"intake / baseline: {100 * rate / baseline:.1f}% (target >= 15%)")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    try:
        result = manage(env, "shell", stdin=CHECK)
        print("end state:", result)
        print("check_inventory:", manage(env, "check_inventory"))
        unique = len(sent)
        print(f"distinct external ids sent: {unique}")
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
