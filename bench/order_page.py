"""Benchmark: the customer order page under load on gunicorn + PostgreSQL, beside a trivial
Django view (/healthz) measured in the same run with the same server and the same load.

Creates its own database (oms_bench_portal), fills it with ORDERS orders (3 lines, 2 shipments
with carrier events, a customer timeline, a return and a message thread each), and drives each
URL with wrk (a C load generator: 32 connections on 2 threads; a Lua script picks a random
order's signed link for every request). Three runs on identical gunicorn settings:

- `/healthz` (no database, no cache): the baseline;
- the order page with the shared cache (Redis at BENCH_CACHE_URL, pages warmed first): what
  customers get, since a page is re-rendered only after a change to its order;
- the order page with the shared cache while orders change: the bench changes random orders
  through the service (a visible note, --changes per second) during the run, with a task worker
  (`manage.py db_worker`) re-rendering each changed page after its commit (portal.signals);
- the first view after a change, one order at a time: change it, wait until its page is in the
  cache (time to warm), then ask for it once; and the same with no worker running, which is
  what a customer got before pages were warmed (the first view renders from the database);
- the order page with caching off (CACHE_URL=dummycache://): every request renders from
  PostgreSQL, the cost of a page nobody warmed; compared with `/healthz` measured again right
  before it on the same server, as the machine's load drifts over the minutes of a run.

Prints req/s, p50 and p99 for each. Drops the database and flushes its Redis database at the end.

    .venv/bin/python bench/order_page.py [--seconds 15] [--orders 400] [--workers 4] [--changes 10]

Needs wrk (Debian/Ubuntu: `sudo apt-get install wrk`) and a Redis server (`apt-get install
redis-server`), by default at redis://127.0.0.1:6379/14 (set BENCH_CACHE_URL to change it).
"""

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "oms_bench_portal"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PORT = int(os.environ.get("BENCH_PORT", "8766"))
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14")
CONNECTIONS, THREADS = 32, 2
ENV = {
    **os.environ,
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "SECRET_KEY": "bench-secret-key",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    "CACHE_URL": CACHE_URL,
}

# One random order page per request; the summary as one JSON line for the script to read.
WRK_LUA = """
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {Host = "127.0.0.1"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True)


def seed(count: int) -> list[tuple[int, str, str]]:
    """Bulk-insert orders with everything the page shows; return (id, number, page path) each."""
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
    return [(o.pk, o.number, order_tracking_url(order_number=o.number, absolute=False)) for o in orders]


def redis_flush() -> None:
    import redis

    redis.Redis.from_url(CACHE_URL).flushdb()


def wrk(name: str, paths_file: str, seconds: int) -> dict:
    """Drive the URLs in paths_file with wrk; return and print req/s, p50, p99."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_LUA)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"--threads={THREADS}",
                f"--connections={CONNECTIONS}",
                f"--duration={seconds}s",
                "--timeout=10s",
                f"--script={script.name}",
                f"http://127.0.0.1:{PORT}",
                "--",
                paths_file,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    found = [line[4:] for line in out.stdout.splitlines() if line.startswith("WRK ")]
    if not found:
        raise RuntimeError(f"wrk gave no summary:\n{out.stdout}\n{out.stderr}")
    summary = json.loads(found[0])
    row = {
        "name": name,
        "requests": summary["requests"],
        "errors": summary["errors"] + summary["non2xx"],
        "rps": summary["requests"] / (summary["duration_us"] / 1e6),
        "p50": summary["p50_us"] / 1000,
        "p99": summary["p99_us"] / 1000,
    }
    print(
        f"{name:<34} {row['rps']:8.1f} req/s  p50 {row['p50']:6.1f} ms  p99 {row['p99']:6.1f} ms  "
        f"({row['requests']} requests, {row['errors']} errors or non-2xx)",
        flush=True,
    )
    return row


def timed_get(path: str) -> float:
    """One request; its time in ms."""
    started = time.perf_counter()
    assert get(path) == 200, path
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def change(order_id: int, i: int) -> None:
    """A change the customer sees, through the service: a note on the order's timeline."""
    from orders.services import order_note_add

    order_note_add(order_id=order_id, message=f"Bench change {i}", visible=True)


class Changes(threading.Thread):
    """Changes random orders, `rate` per second, until stopped."""

    def __init__(self, orders, rate: float):
        super().__init__(daemon=True)
        self.orders, self.rate, self.count = orders, rate, 0
        self.halt = threading.Event()

    def run(self):
        from django.db import connections

        try:
            while not self.halt.wait(1 / self.rate):
                change(random.choice(self.orders)[0], self.count)
                self.count += 1
        finally:
            connections.close_all()


def first_views(orders, *, warmed: bool) -> dict:
    """Change each order, then ask for its page once. With a worker, wait first until the page
    is in the cache again (time to warm); without, the request renders it from the database."""
    from portal.pages import order_page_is_cached

    to_warm, views, cached = [], [], 0
    for i, (order_id, number, path) in enumerate(orders):
        change(order_id, i)
        started = time.perf_counter()
        if warmed:
            while not order_page_is_cached(number=number) and time.perf_counter() - started < 10:
                time.sleep(0.005)
            to_warm.append((time.perf_counter() - started) * 1000)
        cached += order_page_is_cached(number=number)
        views.append(timed_get(path))
    label = "first view after a change, " + ("worker warming" if warmed else "no worker")
    warm = f"; in the cache {percentile(to_warm, 50):.0f} ms after the commit (p50)" if warmed else ""
    print(
        f"{label:<42} p50 {percentile(views, 50):6.1f} ms  p99 {percentile(views, 99):6.1f} ms  "
        f"({cached} of {len(orders)} pages in the cache when asked{warm})",
        flush=True,
    )
    return {"views": views, "cached": cached, "to_warm": to_warm}


def cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time (user + system) a child process has used so far."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def warm_tasks_done() -> tuple[int, int]:
    """(warm tasks run, pages they stored)."""
    from django_tasks_db.models import DBTaskResult

    done = DBTaskResult.objects.filter(task_path="portal.tasks.warm_order_pages", status="SUCCESSFUL")
    return done.count(), sum(r or 0 for r in done.values_list("return_value", flat=True))


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload", "-v0"],
        cwd=ROOT,
        env=ENV,
        start_new_session=True,
    )


def get(path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_up(timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if get("/healthz") == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not come up")


def start_gunicorn(workers: int, cache_url: str) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**ENV, "CACHE_URL": cache_url},
        start_new_session=True,
    )
    wait_up()
    return server


def stop(server: subprocess.Popen | None) -> None:
    if server is not None and server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--changes", type=float, default=10, help="order changes per second while measuring")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit(
            "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu), or build github.com/wg/wrk."
        )

    with tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


def run(args, tmp: Path) -> None:
    admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin_sql(f"CREATE DATABASE {DB_NAME}")
    redis_flush()
    server = worker = None
    paths_file, healthz_file = str(tmp / "paths.txt"), str(tmp / "healthz.txt")
    try:
        manage("migrate", "--noinput", "-v0")
        manage("collectstatic", "--noinput", "-v0")
        orders = seed(args.orders)
        paths = [path for _, _, path in orders]
        Path(paths_file).write_text("\n".join(paths) + "\n")
        Path(healthz_file).write_text("/healthz\n")
        print(
            f"{len(paths)} orders seeded; gunicorn with {args.workers} sync workers; wrk {CONNECTIONS} "
            f"connections on {THREADS} threads; {args.seconds}s per run; {os.cpu_count()} CPUs; "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        server = start_gunicorn(args.workers, CACHE_URL)
        wrk("warm-up /healthz", healthz_file, 3)
        base = wrk("trivial view /healthz", healthz_file, args.seconds)
        assert all(get(p) == 200 for p in paths), "an order page did not render"  # fills the cache
        warm = wrk("order page, shared cache (Redis)", paths_file, args.seconds)
        worker = start_worker()
        changes = Changes(orders, args.changes)
        changes.start()
        changing = wrk(f"same, {args.changes:g} changes/s + worker", paths_file, args.seconds)
        changes.halt.set()
        changes.join()
        tasks, stored = warm_tasks_done()
        print(
            f"({changes.count} orders changed during the run; the worker ran {tasks} warm tasks storing "
            f"{stored} pages, using {cpu_seconds(worker):.1f} s of CPU)",
            flush=True,
        )
        sample = orders[: min(50, len(orders))]
        first_views(sample, warmed=True)
        stop(worker)
        worker = None
        first_views(orders[len(sample) : 2 * len(sample)], warmed=False)
        stop(server)
        server = start_gunicorn(args.workers, "dummycache://")
        wrk("warm-up (no cache)", paths_file, 3)
        # The baseline again, right before: the machine's load drifts over a run of minutes.
        base_cold = wrk("trivial view /healthz, again", healthz_file, args.seconds)
        cold = wrk("order page, no cache (every render)", paths_file, args.seconds)
        print(f"load average after the runs {os.getloadavg()[0]:.1f}")
        for label, row in [("cached", warm), ("cached, orders changing", changing)]:
            print(
                f"order page {label} / trivial view: {row['rps'] / base['rps']:.2f} of the rate "
                f"(target >= 0.50); p99 {row['p99']:.1f} ms (target < 50 ms)"
            )
        print(
            f"order page uncached / trivial view just before: {cold['rps'] / base_cold['rps']:.2f} of the "
            f"rate (target >= 0.10; {cold['rps'] / base['rps']:.2f} of the first)"
        )
    finally:
        stop(worker)
        stop(server)
        from django.db import connections

        connections.close_all() if "django" in sys.modules else None
        admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        redis_flush()


if __name__ == "__main__":
    main()
