"""Where one order capture's CPU goes: per-phase process CPU, in one process, on PostgreSQL.

Creates its own database (oms_bench_phases), seeds it like bench/intake.py, posts N 3-line orders
through the Django test client and prints, per order, the process CPU spent in each step of the
capture (each service function is wrapped with a process_time() timer; nested steps are included
in their callers). Then drops the database.

    .venv/bin/python bench/intake_phases.py [--orders 300]
"""

import argparse
import functools
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ (the script's own folder): `intake` is the app

from bench import intake as http_bench  # noqa: E402  the seed and the admin helpers of the HTTP benchmark

DB = "oms_bench_phases"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    args = parser.parse_args()

    os.environ.update(
        {
            "DATABASE_URL": f"{http_bench.PG}/{DB}",
            "SECRET_KEY": "bench-secret-key",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "localhost",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "60",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    http_bench.admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    http_bench.admin_sql(f"CREATE DATABASE {DB}")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        seed = http_bench.SEED.replace("{scarce}", "100000").replace("{skus}", str(http_bench.SKUS))
        seed = seed.replace(
            "print(channel_api_key_create(channel=channel)[1])",
            "KEY = channel_api_key_create(channel=channel)[1]",
        )
        scope = {}
        exec(seed, scope)
        measure(key=scope["KEY"], n=args.orders)
        connection.close()
    finally:
        http_bench.admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


class Poster:
    """Posts unique 3-line bench orders with the channel's key through the Django test client."""

    def __init__(self, key: str):
        from django.test import Client

        self.client = Client(HTTP_HOST="localhost")
        self.key = key
        self.run = uuid.uuid4().hex[:6]

    def __call__(self, i: int) -> None:
        skus = [f"BENCH-{(i + k * 7) % http_bench.SKUS:02d}" for k in range(3)]
        body = {
            "external_id": f"cpu-{self.run}-{i}",
            "customer": {"email": f"cpu-{self.run}-{i}@example.com", "name": "Bench Customer"},
            "shipping_address": {
                "name": "Bench Customer",
                "line1": "1 Load St",
                "city": "New York",
                "region": "NY",
                "postal_code": "10001",
                "country": "US",
            },
            "lines": [{"sku": s, "quantity": 1 + j % 2, "unit_price": "10.00"} for j, s in enumerate(skus)],
            "shipping_total": "5.00",
            "payment": {"method": "card", "status": "authorized"},
        }
        response = self.client.post(
            "/api/v1/orders",
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert response.status_code == 201, response.content

    def warm_up(self) -> None:
        """Imports, the key cache, the connection."""
        for i in range(30):
            self(i)
            self.client.get("/healthz")

    def healthz_cpu(self, n: int) -> float:
        start = time.process_time()
        for _ in range(n):
            self.client.get("/healthz")
        return (time.process_time() - start) / n


def _pg_backend_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend (None when the server runs elsewhere)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(*, key: str, n: int = 300) -> dict:
    """Seconds of CPU per request for /healthz and for one capture (Python; PostgreSQL's backend
    when it runs on this machine), and the SQL statements Django executes for one capture (BEGIN,
    COMMIT and savepoints not included). bench/intake.py prints these after its HTTP runs."""
    from django.db import connection

    post = Poster(key)
    post.warm_up()
    healthz = post.healthz_cpu(n * 3)
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        post(10_000)
    pg_before, start = _pg_backend_cpu(), time.process_time()
    for i in range(n):
        post(100 + i)
    py = (time.process_time() - start) / n
    pg_after = _pg_backend_cpu()
    pg = None if pg_before is None or pg_after is None else (pg_after - pg_before) / n
    return {"healthz": healthz, "py": py, "pg": pg, "statements": len(statements)}


def measure(*, key: str, n: int) -> None:
    """Print the process CPU of each step of a capture, per order."""
    import intake.api as api
    import intake.inbound as inbound
    import orders.advance as advance
    import orders.allocation as allocation
    import orders.services.capture as capture

    spent = {}

    def timed(module, name, label):
        original = getattr(module, name)

        @functools.wraps(original)
        def wrapper(*a, **kw):
            start = time.process_time()
            try:
                return original(*a, **kw)
            finally:
                spent[label] += time.process_time() - start

        setattr(module, name, wrapper)
        spent[label] = 0.0

    timed(api, "channel_api_key_authenticate", "API key check (cached)")
    timed(api, "order_input_from_api", "mapping the request to an OrderInput")
    timed(
        inbound,
        "order_capture",
        "capture service (all below, and products, order, lines, final update + events)",
    )
    timed(capture, "_address_create", "  address")
    timed(capture, "order_check_and_advance", "  verification + allocation")
    timed(advance, "order_run_verification", "    verification rules")
    timed(advance, "order_allocate", "    allocation")
    timed(allocation, "stock_lock_products", "      stock lock")
    timed(allocation, "stock_reserve_locked", "      reservations + stock update")
    timed(capture, "order_email_after_commit", "  e-mail task row")
    timed(api, "_store", "inbound request row")
    timed(api, "order_reply", "reply")

    post = Poster(key)
    post.warm_up()
    spent.update(dict.fromkeys(spent, 0.0))
    healthz = post.healthz_cpu(n)
    start = time.process_time()
    for i in range(n):
        post(1000 + i)
    total = (time.process_time() - start) / n
    print(f"{n} captures, process CPU per request (load average {os.getloadavg()[0]:.2f}):")
    print(f"{healthz * 1000:7.2f} ms  GET /healthz (the trivial view)")
    print(f"{total * 1000:7.2f} ms  POST /api/v1/orders, all of it")
    for label, seconds in spent.items():
        print(f"{seconds / n * 1000:7.2f} ms  {label}")


if __name__ == "__main__":
    main()
