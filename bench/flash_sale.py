"""Flash sale: Shopify order webhooks through the scaled-out topology (docs/scaling.md).

Creates its own PostgreSQL database (oms_bench_flash), seeds 30 SKUs with plenty of stock and one
scarce SKU (BENCH-C, --scarce units), a Shopify channel with a webhook secret and an API channel
with a key, and pre-generates --deliveries signed `orders/create` deliveries built from Shopify's
real order (tests/fixtures/shared/shopify/shopify_python_api__order.json) with unique order,
line and delivery ids, our SKUs and totals that add up (every --scarce-every'th order also wants
the scarce SKU). wrk's LuaJIT can't compute an HMAC, so each body is signed here
(X-Shopify-Hmac-SHA256: base64 HMAC-SHA256 over the body with the channel's secret) and written
to one file per wrk thread; each thread replays its own slice, each delivery once
(bench/flash_sale.lua).

Then it starts `scripts/topology` (HAProxy, two gunicorn instances, two intake batch workers,
the task worker and the outbox sweeper, its own run directory and Redis key prefix) and measures
in one run, through HAProxy, with the same wrk threads, connections and duration:

  healthz     GET /healthz: the baseline;
  accept      the deliveries: answers per second, p50, p99, ratio to healthz (target >= 0.30,
              p99 < 50 ms); the webhook only verifies and stores, the workers capture later;
  processing  orders captured (and how many allocated) per second end to end, from the first
              delivery sent to the last order created, polling the database until nothing is
              left waiting (target >= 0.15 of healthz);
  api         POST /api/v1/orders, one order per request (bench/intake.py's wrk script).

Then it checks: nothing lost (every delivery answered 2xx has exactly one order or a recorded
failure), no duplicates, the scarce SKU not oversold, `check_inventory` consistent. Prints the
load average before and after; drops its database (--keep to keep it).

Faults, each its own run:
  --fault kill-app     kill -9 one gunicorn instance (master and workers) a third into the
                       deliveries: HAProxy moves on, nothing answered 2xx is lost;
  --fault kill-worker  kill -9 one intake worker while it holds a batch's transaction open: the
                       batch rolls back and the other worker captures it, once.

    .venv/bin/python bench/flash_sale.py [--deliveries 14000] [--seconds 20] [--connections 16]
        [--threads 2] [--app-workers 2] [--intake-workers 2] [--batch N] [--scarce 50]
        [--fault kill-app|kill-worker] [--keep] [--no-webhooks]

Needs wrk and haproxy (Debian: apt-get install wrk haproxy), PostgreSQL on 127.0.0.1 and Redis
(--redis, default redis://127.0.0.1:6379/11). The intake batch worker (`manage.py intake_work`)
must exist; --no-webhooks measures only /healthz and the API (a checkout without it).
"""

import argparse
import base64
import copy
import datetime as dt
import decimal
import hashlib
import hmac
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
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake import BASELINE_LUA, PG, admin_sql, manage, run_wrk  # noqa: E402
from bench.intake import LUA as API_LUA  # noqa: E402

DB = "oms_bench_flash"
SKUS = 30  # BENCH-00 .. BENCH-29, as bench/intake.py's API orders use them
SECRET = "flash-sale-webhook-secret"
FIXTURE = ROOT / "tests/fixtures/shared/shopify/shopify_python_api__order.json"
LUA_FILE = Path(__file__).with_suffix(".lua")
TOPOLOGY = ROOT / "scripts" / "topology"
# Outcomes of an inbound request still waiting for a worker (the intake worker's branch may
# call it either).
WAITING = ("received", "pending")
FAILED = ("failed", "invalid")

SEED = """
import json
from inventory.models import StockMovement, Warehouse, Product
from inventory.services import stock_receive
from intake.keys import channel_api_key_create
from orders.models import Channel
wh = Warehouse.objects.create(code="MAIN", name="Main", country="US", priority=1)
for sku, qty in [(f"BENCH-{i:02d}", 1000000) for i in range({skus})] + [("BENCH-C", {scarce})]:
    p = Product.objects.create(sku=sku, name=sku, price="20.00")
    stock_receive(product=p, warehouse=wh, quantity=qty, bin_location="A-1",
                  kind=StockMovement.Kind.RECEIPT, reference="bench")
shop = Channel.objects.create(code="flash-shop", name="Flash sale shop", kind=Channel.Kind.SHOPIFY,
                              webhook_secret="{secret}")
api = Channel.objects.create(code="flash-api", name="Flash sale API")
print(json.dumps({"key": channel_api_key_create(channel=api)[1], "shop": shop.pk, "api": api.pk}))
"""

# Every sent delivery (its id and the Shopify order id it carries, from a JSON file): its order(s)
# and recorded failures, the shop's stock, per status.
CHECK = """
import json, os
from django.db.models import Count, F
from intake.models import InboundRequest
from inventory.models import StockItem
from orders.models import Order
sent = json.load(open(os.environ["FLASH_SENT"]))
shop = int(os.environ["FLASH_SHOP"])
mine = Order.objects.filter(channel_id=shop)
orders = dict(mine.values_list("external_id").annotate(n=Count("pk")).order_by())
hooks = InboundRequest.objects.filter(source="shopify")
failed = set(hooks.filter(outcome__in={failed}).values_list("delivery_id", flat=True))
waiting = set(hooks.filter(outcome__in={waiting}).values_list("delivery_id", flat=True))
ok = missing = duplicates = failures = still_waiting = 0
for delivery_id, order_id in sent:
    n = orders.get(order_id, 0)
    if n > 1: duplicates += 1
    elif n == 1: ok += 1
    elif delivery_id in failed: failures += 1
    elif delivery_id in waiting: still_waiting += 1
    else: missing += 1
c = StockItem.objects.get(product__sku="BENCH-C")
print(json.dumps({
    "ok": ok, "failures": failures, "waiting": still_waiting, "missing": missing,
    "duplicates": duplicates,
    "orders_not_sent": len(set(orders) - {o for _, o in sent}),
    "duplicate_orders_any_channel": Order.objects.values("channel", "external_id")
        .annotate(n=Count("pk")).filter(n__gt=1).count(),
    "oversold_items": StockItem.objects.filter(reserved__gt=F("on_hand")).count(),
    "scarce_reserved": c.reserved, "scarce_on_hand": c.on_hand,
    "by_status": dict(mine.values_list("status").annotate(n=Count("pk")).order_by()),
    "inbound_by_outcome": dict(hooks.values_list("outcome").annotate(n=Count("pk")).order_by()),
}))
""".replace("{failed}", repr(FAILED)).replace("{waiting}", repr(WAITING))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def ms(us: float) -> str:
    return f"{us / 1000:.1f} ms"


# --- the deliveries --------------------------------------------------------------------------------
def money(value) -> str:
    return str(decimal.Decimal(value).quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP))


def shopify_order(base: dict, i: int, *, scarce_every: int) -> dict:
    """Shopify's fixture order with its own ids, customer, our SKUs, and totals that add up."""
    rng = random.Random(i)
    order = copy.deepcopy(base)
    order_id = 5_000_000_000_000 + i  # beyond 32 bits, as Shopify's are
    skus = rng.sample([f"BENCH-{n:02d}" for n in range(SKUS)], rng.choice([2, 3]))
    if scarce_every and i % scarce_every == 0:
        skus[-1] = "BENCH-C"
    templates = order["line_items"]
    lines = []
    for j, sku in enumerate(skus):
        line = copy.deepcopy(templates[j % len(templates)])
        line.update(
            id=order_id * 10 + j,
            sku=sku,
            quantity=1 if sku == "BENCH-C" else rng.choice([1, 2]),
            price="20.00",
            variant_id=order_id * 10 + j,
            admin_graphql_api_id=f"gid://shopify/LineItem/{order_id * 10 + j}",
        )
        lines.append(line)
    subtotal = sum(decimal.Decimal(line["price"]) * line["quantity"] for line in lines)
    tax = decimal.Decimal(money(subtotal * decimal.Decimal("0.06")))
    email = f"buyer{i}@example.com"
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    order.update(
        id=order_id,
        name=f"#F{i}",
        number=i,
        order_number=1000 + i,
        email=email,
        created_at=now,
        updated_at=now,
        line_items=lines,
        discount_codes=[],
        total_discounts="0.00",
        subtotal_price=money(subtotal),
        total_line_items_price=money(subtotal),
        tax_lines=[{"price": money(tax), "rate": 0.06, "title": "State Tax"}],
        total_tax=money(tax),
        total_price=money(subtotal + tax),
        total_price_usd=money(subtotal + tax),
        token=hashlib.md5(str(order_id).encode()).hexdigest(),  # noqa: S324 (an id, not a secret)
        checkout_id=order_id,
    )
    order["customer"] = {**order["customer"], "id": 900_000_000 + i, "email": email}
    return order


def deliveries_write(directory: Path, *, count: int, threads: int, scarce_every: int) -> list[list[tuple]]:
    """Write slice-<t>.txt per wrk thread (delivery id, signature, body: one line each) and return
    each slice's (delivery id, Shopify order id) in the order the thread sends them."""
    base = json.loads(FIXTURE.read_text())["order"]
    slices: list[list[tuple]] = [[] for _ in range(threads)]
    files = [open(directory / f"slice-{t}.txt", "w") for t in range(threads)]  # noqa: SIM115
    try:
        for i in range(count):
            order = shopify_order(base, i, scarce_every=scarce_every)
            body = json.dumps(order, separators=(",", ":"))  # ASCII, one line
            signature = base64.b64encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest())
            delivery_id = f"flash-{i:07d}-{hashlib.sha1(body.encode()).hexdigest()[:8]}"  # noqa: S324
            t = i % threads
            files[t].write(f"{delivery_id}\n{signature.decode()}\n{body}\n")
            slices[t].append((delivery_id, str(order["id"])))
    finally:
        for f in files:
            f.close()
    return slices


def run_wrk_deliveries(wrk: str, args, url: str, directory: Path) -> dict:
    script = directory / "flash_sale.lua"
    script.write_text(LUA_FILE.read_text().replace("@SLICES@", str(directory)))
    out = subprocess.run(
        [
            wrk,
            f"--threads={args.threads}",
            f"--connections={args.connections}",
            f"--duration={args.seconds}s",
            "--timeout=30s",
            f"--script={script}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    return json.loads(line[len("WRKJSON ") :])


# --- the topology and its faults ---------------------------------------------------------------------
def topology(env, command: str) -> None:
    subprocess.run([str(TOPOLOGY), command], cwd=ROOT, env=env, check=True)


def pid_of(env, name: str) -> int:
    return int((Path(env["RUN_DIR"]) / f"{name}.pid").read_text())


def kill_group(pid: int) -> None:
    os.killpg(pid, signal.SIGKILL)


def kill_app_later(env, seconds: float, report: list) -> threading.Thread:
    def kill():
        time.sleep(seconds)
        pid = pid_of(env, "app1")
        kill_group(pid)
        report.append(f"fault: kill -9 app1 (gunicorn master and workers, group {pid}) {seconds:.1f} s in")

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def kill_worker_mid_batch(
    env, dsn: str, after: float, report: list, stop: threading.Event
) -> threading.Thread:
    """Kill the intake worker seen inside a transaction that has locked or written rows
    (PostgreSQL gives a transaction its id then): a batch claimed and not yet committed. Workers
    take a channel's requests one at a time (its advisory lock), so whichever holds the batch is
    the one killed."""

    def kill():
        time.sleep(after)
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.is_set():
                row = conn.execute(
                    "SELECT application_name, state, left(query, 80) FROM pg_stat_activity "
                    "WHERE application_name LIKE 'oms-intake%%' AND backend_xid IS NOT NULL LIMIT 1"
                ).fetchone()
                if row:
                    name = row[0].removeprefix("oms-")
                    pid = pid_of(env, name)
                    kill_group(pid)
                    report.append(
                        f"fault: kill -9 {name} (pid {pid}) inside its transaction ({row[1]}: {row[2]!r})"
                    )
                    return
                time.sleep(0.005)
        report.append("fault: no intake worker was seen holding a batch: none killed")

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


# Deliveries waiting for a worker: stored, and no row with the same delivery id was processed. (A
# delivery an instance stored just before it was killed, which HAProxy then sent to another
# instance, has two rows; the second one's outcome stands for both.)
WAITING_SQL = """
SELECT count(DISTINCT w.delivery_id) FROM orders_inboundrequest w
WHERE w.source = 'shopify' AND w.outcome = ANY(%s) AND NOT EXISTS (
    SELECT 1 FROM orders_inboundrequest d
    WHERE d.source = 'shopify' AND d.delivery_id = w.delivery_id AND d.outcome <> ALL(%s)
)
"""


def drain(dsn: str, shop: int, timeout: float) -> dict:
    """Poll until no delivery waits for a worker (and the count stopped moving); the shop's
    orders, how many are allocated, and when the last one was created."""
    deadline = time.monotonic() + timeout
    last_report = 0.0
    previous = None
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            waiting = conn.execute(WAITING_SQL, [list(WAITING), list(WAITING)]).fetchone()[0]
            orders, allocated, last = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'allocated'), max(created_at) "
                "FROM orders_order WHERE channel_id = %s",
                [shop],
            ).fetchone()
            now = time.monotonic()
            if now - last_report > 5:
                print(f"  processing: {orders} orders captured, {waiting} deliveries waiting", flush=True)
                last_report = now
            if waiting == 0 and previous == orders:
                return {"orders": orders, "allocated": allocated, "last": last, "timed_out": False}
            if now > deadline:
                return {"orders": orders, "allocated": allocated, "last": last, "timed_out": True}
            previous = orders if waiting == 0 else None
            time.sleep(0.5)


# --- the run --------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--deliveries",
        type=int,
        default=14000,
        help="signed deliveries to replay (enough for wrk's whole window)",
    )
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--app-instances", type=int, default=2)
    parser.add_argument("--app-workers", type=int, default=2, help="sync workers per gunicorn instance")
    parser.add_argument("--intake-workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=None, help="intake_work --batch")
    parser.add_argument("--scarce", type=int, default=50, help="units of the scarce SKU")
    parser.add_argument("--scarce-every", type=int, default=4, help="every n-th order wants the scarce SKU")
    parser.add_argument(
        "--retry", type=float, default=0.05, help="API phase: share of posts that are retries"
    )
    parser.add_argument("--fault", choices=["kill-app", "kill-worker"], default=None)
    parser.add_argument("--port", type=int, default=8100, help="HAProxy's port (instances on the next ones)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11", help="the shared cache")
    parser.add_argument("--drain-timeout", type=float, default=600, help="seconds to wait for the workers")
    parser.add_argument("--keep", action="store_true", help="keep the database and the run directory")
    parser.add_argument("--no-webhooks", action="store_true", help="only /healthz and the API")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # in order with scripts/topology's own output

    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS).")
    if shutil.which("haproxy") is None:
        sys.exit("haproxy is not installed: `apt-get install haproxy` (Debian/Ubuntu).")
    if args.fault == "kill-worker" and args.intake_workers < 2:
        sys.exit(
            "--fault kill-worker needs --intake-workers 2 or more: another worker must take the batch over."
        )

    prefix = f"flash-{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="oms-flash-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "CACHE_URL": f"{args.redis}?key_prefix={prefix}",
        "SECRET_KEY": "bench-secret-key",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "CONN_MAX_AGE": "60",
        "EMAIL_URL": "consolemail://",
        "RUN_DIR": str(work / "run"),
        "LB_PORT": str(args.port),
        "STATS_PORT": str(args.port + 99),
        "APP_INSTANCES": str(args.app_instances),
        "APP_WORKERS": str(args.app_workers),
        "INTAKE_WORKERS": str(args.intake_workers if not args.no_webhooks else 0),
        "INTAKE_BATCH": str(args.batch or ""),
        "SITE_URL": f"http://127.0.0.1:{args.port}",
    }
    if (
        not args.no_webhooks
        and subprocess.run(
            [sys.executable, "manage.py", "help", "intake_work"], cwd=ROOT, env=env, capture_output=True
        ).returncode
    ):
        sys.exit(
            "This checkout has no `manage.py intake_work` (the intake batch worker): webhooks accepted "
            "for later would never be captured, so there is nothing to measure. Merge the intake worker "
            "first, or run with --no-webhooks to measure only /healthz and the API through the topology."
        )

    base = f"http://127.0.0.1:{args.port}"
    dsn = f"{PG}/{DB}"
    admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin_sql(f"CREATE DATABASE {DB}")
    report: list[str] = []
    started = False
    try:
        manage(env, "migrate", "--noinput", "-v0")
        seed = (
            SEED.replace("{scarce}", str(args.scarce))
            .replace("{skus}", str(SKUS))
            .replace("{secret}", SECRET)
        )
        ids = json.loads(manage(env, "shell", stdin=seed).splitlines()[-1])
        slices = []
        if not args.no_webhooks:
            t0 = time.monotonic()
            slices = deliveries_write(
                work, count=args.deliveries, threads=args.threads, scarce_every=args.scarce_every
            )
            print(f"{args.deliveries} signed deliveries written in {time.monotonic() - t0:.1f} s ({work})")
        print(f"load average before: {load()}")
        started = True
        topology(env, "start")
        print(
            f"topology: HAProxy :{args.port}, {args.app_instances} gunicorn instances x {args.app_workers} "
            f"sync workers, {0 if args.no_webhooks else args.intake_workers} intake workers"
            f"{f' (batch {args.batch})' if args.batch else ''}, 1 task worker, the outbox sweeper; "
            f"PostgreSQL {DB}, Redis {args.redis} (prefix {prefix}); wrk {args.threads} threads, "
            f"{args.connections} connections, {args.seconds} s per phase"
        )
        # Warm every worker up (imports, URL resolver, database connection) before measuring.
        run_wrk(wrk, argparse.Namespace(**{**vars(args), "seconds": 2}), f"{base}/healthz", BASELINE_LUA)
        b = run_wrk(wrk, args, f"{base}/healthz", BASELINE_LUA)
        baseline = b["requests"] / (b["duration_us"] / 1e6)
        print(
            f"healthz   GET /healthz through HAProxy: {baseline:.0f} req/s, p50 {ms(b['p50_us'])}, "
            f"p99 {ms(b['p99_us'])}, socket errors {b['errors']}, non-2xx {b['non2xx']}"
        )

        if not args.no_webhooks:
            stop = threading.Event()
            if args.fault == "kill-app":
                kill_app_later(env, args.seconds / 3, report)
            elif args.fault == "kill-worker":
                kill_worker_mid_batch(env, dsn, 1.0, report, stop)
            w = run_wrk_deliveries(wrk, args, f"{base}/webhooks/shopify/orders", work)
            window = (w["last_us"] - w["first_us"]) / 1e6
            accept = w["accepted"] / window if window > 0 else 0.0
            sent = sum(w["sent"])
            print(
                f"accept    POST /webhooks/shopify/orders: {w['accepted']} of {sent} sent answered 2xx in "
                f"{window:.1f} s = {accept:.0f}/s, p50 {ms(w['p50_us'])}, p99 {ms(w['p99_us'])}, "
                f"401 {w['rejected']}, other statuses {w['other']}, socket errors {w['errors']}"
                + (" (every delivery sent before the time was up)" if w["ran_out"] else "")
            )
            print(f"          accept / healthz: {accept / baseline:.2f} (target >= 0.30, p99 < 50 ms)")
            result = drain(dsn, ids["shop"], args.drain_timeout)
            stop.set()
            first = dt.datetime.fromtimestamp(w["first_us"] / 1e6, dt.UTC)
            span = (result["last"] - first).total_seconds() if result["last"] else 0.0
            rate = result["orders"] / span if span > 0 else 0.0
            print(
                f"process   {result['orders']} orders captured ({result['allocated']} allocated) from the "
                f"first delivery sent to the last order created: {span:.1f} s = {rate:.0f} orders/s"
                + (" (TIMED OUT: deliveries still waiting)" if result["timed_out"] else "")
            )
            print(f"          process / healthz: {rate / baseline:.2f} (target >= 0.15)")
            for line in report:
                print(line)
            if args.fault == "kill-app":
                topology(env, "start")  # app1 back for the API phase

        lua = API_LUA % {"skus": SKUS, "retry": args.retry, "key": ids["key"]}
        r = run_wrk(wrk, args, f"{base}/api/v1/orders", lua)
        seconds = r["duration_us"] / 1e6
        api_rate = r["created"] / seconds
        print(
            f"api       POST /api/v1/orders (synchronous, one 3-line order each): {api_rate:.0f} orders/s "
            f"({r['replayed']} retries answered 200), p50 {ms(r['p50_us'])}, p99 {ms(r['p99_us'])}, "
            f"other statuses {r['other']}, socket errors {r['errors']}; "
            f"api / healthz {api_rate / baseline:.2f}"
        )
        print(f"load average after: {load()}")

        if not args.no_webhooks:
            sent_pairs = [pair for t, pairs in enumerate(slices) for pair in pairs[: w["sent"][t]]]
            sent_file = work / "sent.json"
            sent_file.write_text(json.dumps(sent_pairs))
            check_env = {**env, "FLASH_SENT": str(sent_file), "FLASH_SHOP": str(ids["shop"])}
            state = json.loads(manage(check_env, "shell", stdin=CHECK).splitlines()[-1])
            unanswered = sent - w["accepted"]  # not 2xx: refused, failed or never answered
            lost = state["missing"] + state["waiting"]
            verdict = (
                "0" if lost == 0 else f"{max(0, lost - unanswered)} to {lost} (of which {unanswered} not 2xx)"
            )
            print(
                f"check     sent {sent}: {state['ok']} with exactly one order, {state['failures']} recorded "
                f"failures, {state['waiting']} still waiting, {state['missing']} with nothing; "
                f"lost: {verdict}; duplicates: {state['duplicates']} (any channel: "
                f"{state['duplicate_orders_any_channel']}); orders from deliveries never sent: "
                f"{state['orders_not_sent']}"
            )
            print(
                f"          oversold stock items {state['oversold_items']}; scarce SKU reserved "
                f"{state['scarce_reserved']} of {state['scarce_on_hand']}; orders by status "
                f"{state['by_status']}; deliveries by outcome {state['inbound_by_outcome']}"
            )
        try:
            print("          check_inventory:", manage(env, "check_inventory"))
        except subprocess.CalledProcessError as exc:
            print("          check_inventory FAILED:", exc.stderr.strip()[-2000:])
    finally:
        if started:
            topology(env, "stop")
        if not args.keep:
            admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept database {DB} and {work}")
        cache_clear(args.redis, prefix)
    return 0


def cache_clear(url: str, prefix: str) -> None:
    """Delete this run's keys from the shared Redis (everything under its key prefix)."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}:*", count=1000):
        client.delete(key)
    client.close()


if __name__ == "__main__":
    sys.exit(main())
