"""Intake benchmark: gunicorn on PostgreSQL, wrk posting 3-line orders.

wrk (a C load generator, so the client doesn't eat the CPU the server needs) drives one gunicorn
(`config.wsgi`, DEBUG off) with the same connections, threads and duration twice in one run:
first `GET /healthz` (the cheapest Django view: the baseline), then `POST /api/v1/orders` with a
unique 3-line order per request (counter-based external ids, random SKUs, the channel's key).
A share of the posts are retries of an order already sent (they must come back 200 with the same
order). Every third order also wants a scarce SKU, so allocation races for its last units.

At the end it checks, in the database: no (channel, external id) has two orders, no stock item
has more reserved than on hand, and `check_inventory` agrees; then it drops its database.

    .venv/bin/python bench/intake.py [--connections 16] [--threads 2] [--seconds 30]
                                     [--workers 4] [--worker-class sync] [--worker-threads 1]

Needs wrk (Debian/Ubuntu: `apt-get install wrk`; macOS: `brew install wrk`).
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
DB = "oms_bench_intake"
PG = "postgres://postgres@127.0.0.1:5432"
SKUS = 30

SEED = """
from inventory.models import StockMovement, Warehouse, Product
from inventory.services import stock_receive
from intake.keys import channel_api_key_create
from orders.models import Channel
wh = Warehouse.objects.create(code="MAIN", name="Main", country="US", priority=1)
for sku, qty in [(f"BENCH-{i:02d}", 1000000) for i in range({skus})] + [("BENCH-C", {scarce})]:
    p = Product.objects.create(sku=sku, name=sku, price="10.00")
    stock_receive(product=p, warehouse=wh, quantity=qty, bin_location="A-1",
                  kind=StockMovement.Kind.RECEIPT, reference="bench")
channel = Channel.objects.create(code="bench", name="Bench shop")
print(channel_api_key_create(channel=channel)[1])
"""

CHECK = """
import json
from django.db.models import Count, F
from inventory.models import StockItem
from orders.models import Order
rows = Order.objects.values("channel", "external_id")
c = StockItem.objects.get(product__sku="BENCH-C")
print(json.dumps({
    "orders": Order.objects.count(),
    "distinct_external_ids": rows.distinct().count(),
    "duplicates": rows.annotate(n=Count("pk")).filter(n__gt=1).count(),
    "oversold_items": StockItem.objects.filter(reserved__gt=F("on_hand")).count(),
    "scarce_reserved": c.reserved,
    "scarce_on_hand": c.on_hand,
    "by_status": dict(Order.objects.values_list("status").annotate(n=Count("pk")).order_by()),
}))
"""

# CPU per request, in one process against the same database (bench/intake_phases.py).
CPU = """
import json
from bench.intake_phases import cpu_per_request
print(json.dumps(cpu_per_request(key="{key}")))
"""

# wrk runs one Lua state per thread: each thread numbers its own orders (thread id + counter),
# counts reply statuses, and the summary is printed as one JSON line from done().
LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local n = 0
created, replayed, other = 0, 0, 0  -- globals: done() reads them with thread:get
local skus = %(skus)d
local retry = %(retry)f
function init(args)
  math.randomseed(1000 + tid)
end

local function sku(i) return string.format("BENCH-%%02d", i) end

function request()
  n = n + 1
  local id = n
  if n > 10 and math.random() < retry then id = math.random(n - 1) end
  local r = math.random
  local a = r(0, skus - 1)
  local b = (a + r(1, skus - 1)) %% skus
  local c
  if id %% 3 == 0 then c = "BENCH-C" else
    c = (a + r(1, skus - 1)) %% skus
    while c == b do c = (c + 1) %% skus end
    if c == a then c = "BENCH-C" else c = sku(c) end
  end
  local body = string.format(
    '{"external_id":"B%%d-%%d","customer":{"email":"c%%d-%%d@example.com","name":"Bench Customer"},'
    .. '"shipping_address":{"name":"Bench Customer","line1":"1 Load St","city":"New York",'
    .. '"region":"NY","postal_code":"10001","country":"US"},"currency":"USD",'
    .. '"lines":[{"sku":"%%s","quantity":1,"unit_price":"10.00"},'
    .. '{"sku":"%%s","quantity":2,"unit_price":"10.00"},{"sku":"%%s","quantity":1,"unit_price":"10.00"}],'
    .. '"shipping_total":"5.00","payment":{"method":"card","status":"authorized"}}',
    tid, id, tid, id, sku(a), sku(b), c)
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer %(key)s",
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 200 then replayed = replayed + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local c, rp, o = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); rp = rp + t:get("replayed"); o = o + t:get("other")
  end
  io.write(string.format(
    'WRKJSON {"created":%%d,"replayed":%%d,"other":%%d,"requests":%%d,"errors":%%d,'
    .. '"duration_us":%%d,"p50_us":%%d,"p99_us":%%d}\n',
    c, rp, o, summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""

BASELINE_LUA = r"""
function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests":%d,"errors":%d,"non2xx":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration, latency:percentile(50), latency:percentile(99)))
end
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


def run_wrk(wrk: str, args, url: str, script: str) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            [
                wrk,
                f"--threads={args.threads}",
                f"--connections={args.connections}",
                f"--duration={args.seconds}s",
                "--timeout=30s",
                f"--script={f.name}",
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    return json.loads(line[len("WRKJSON ") :])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--seconds", type=int, default=30, help="per URL")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--worker-threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--retry", type=float, default=0.05, help="share of posts that are retries")
    parser.add_argument("--scarce", type=int, default=400, help="units of the scarce SKU")
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS).")

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
        seed = SEED.replace("{scarce}", str(args.scarce)).replace("{skus}", str(SKUS))
        key = manage(env, "shell", stdin=seed).splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "config.wsgi",
                f"--bind=127.0.0.1:{port}",
                f"--workers={args.workers}",
                f"--worker-class={args.worker_class}",
                f"--threads={args.worker_threads}",
                "--backlog=2048",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        threads = f" x {args.worker_threads} threads" if args.worker_class == "gthread" else ""
        print(
            f"gunicorn {args.workers} {args.worker_class} workers{threads}; wrk {args.threads} threads, "
            f"{args.connections} connections, {args.seconds} s per URL; PostgreSQL db {DB}; "
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        # Warm every worker up (imports, URL resolver, DB connection) before measuring.
        run_wrk(wrk, argparse.Namespace(**{**vars(args), "seconds": 2}), f"{base}/healthz", BASELINE_LUA)

        b = run_wrk(wrk, args, f"{base}/healthz", BASELINE_LUA)
        baseline = b["requests"] / (b["duration_us"] / 1e6)
        print(
            f"baseline GET /healthz: {baseline:.0f} req/s, p50 {b['p50_us'] / 1000:.1f} ms, "
            f"p99 {b['p99_us'] / 1000:.1f} ms, errors {b['errors']}, non-2xx {b['non2xx']}"
        )
        lua = LUA % {"skus": SKUS, "retry": args.retry, "key": key}
        r = run_wrk(wrk, args, f"{base}/api/v1/orders", lua)
        seconds = r["duration_us"] / 1e6
        rate = r["created"] / seconds
        print(
            f"intake POST /api/v1/orders: {r['created']} orders created in {seconds:.1f} s = {rate:.1f} "
            f"orders/s ({r['requests'] / seconds:.1f} req/s incl. {r['replayed']} retries answered 200), "
            f"p50 {r['p50_us'] / 1000:.1f} ms, p99 {r['p99_us'] / 1000:.1f} ms, "
            f"other statuses {r['other']}, socket errors {r['errors']}"
        )
        print(f"intake / baseline: {100 * rate / baseline:.1f}% (target >= 15%)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    try:
        cpu = json.loads(manage(env, "shell", stdin=CPU.format(key=key)).splitlines()[-1])
        total = cpu["py"] + (cpu["pg"] or 0)
        print(
            f"CPU per request, in one process (Django test client, same database): /healthz "
            f"{cpu['healthz'] * 1000:.2f} ms; one 3-line capture {cpu['py'] * 1000:.2f} ms of Python"
            + (f" + {cpu['pg'] * 1000:.2f} ms of PostgreSQL" if cpu["pg"] is not None else "")
            + f" ({cpu['statements']} SQL statements): a capture costs {total / cpu['healthz']:.0f}x "
            "the trivial view in the application and database alone (gunicorn and the network add "
            "the same fixed cost to both, which is why the ratio over HTTP is less extreme)"
        )
        state = json.loads(manage(env, "shell", stdin=CHECK).splitlines()[-1])
        print(
            f"end state: {state['orders']} orders, {state['distinct_external_ids']} distinct external ids, "
            f"duplicates {state['duplicates']}, oversold stock items {state['oversold_items']}, "
            f"scarce SKU reserved {state['scarce_reserved']} of {state['scarce_on_hand']}, "
            f"by status {state['by_status']}"
        )
        print("check_inventory:", manage(env, "check_inventory"))
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
