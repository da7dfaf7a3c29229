"""Benchmark: signed event webhooks through the delivery log, against posting them directly.

Creates its own PostgreSQL database (oms_bench_deliveries), starts a local receiver (a threaded
http.server on 127.0.0.1 that reads the body and answers 204), and measures, in the same run:

  direct   one process POSTs N signed events to the receiver, one after another, over one
           keep-alive connection: what sending costs with no log at all;
  enqueue  N changes each write their delivery in a transaction of their own (as a change does:
           delivery_enqueue through subscribers_event_emit, then commit);
  log      one worker sends the N deliveries through the log (delivery_sweep with the immediate
           task backend: claim under a lease, sign, POST, record the exchange, finish), one after
           another, as one db_worker does.

Prints deliveries per second for each, the log's rate as a share of direct, and the load average
before and after (the machine is shared: absolute figures are noisy, the ratio is the signal).
Drops the database at the end.

    .venv/bin/python bench/deliveries.py [--deliveries 2000] [--host 127.0.0.1]
"""

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "oms_bench_deliveries"


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for a client that reuses its connection
    count = 0
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        with Receiver.lock:
            Receiver.count += 1
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    admin_url = f"postgresql://postgres@{args.host}:5432/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{DB}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"  # immediate tasks, locmem cache
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run(args.deliveries, f"http://127.0.0.1:{server.server_address[1]}/events")
    finally:
        server.shutdown()
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB}")


def run(n: int, url: str):
    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import httpx
    from django.core.management import call_command
    from django.db import transaction

    from connectors.subscribers.events import webhook_test_payload
    from connectors.subscribers.services import subscribers_event_emit, subscription_create
    from connectors.subscribers.signing import payload_body, signed_headers
    from core.models import Delivery
    from core.outbox import services as outbox

    call_command("migrate", verbosity=0)
    subscription, secret = subscription_create(
        name="Bench", url=url, event_types=[], owner_email="b@example.com"
    )
    payloads = [
        webhook_test_payload(subscription_name=f"bench {i}").model_dump(mode="json") for i in range(n)
    ]
    print(f"{n} events of {len(payload_body(payloads[0]))} bytes to {url}; load average before: {load()}")

    # direct: sign and POST each one, one process, one connection
    with httpx.Client(timeout=10) as client:
        started = time.perf_counter()
        for i, payload in enumerate(payloads):
            body = payload_body(payload)
            headers = signed_headers(
                secrets=[secret], msg_id=f"msg_{i:032x}", timestamp=int(time.time()), body=body
            )
            client.post(url, content=body.encode(), headers={"Content-Type": "application/json", **headers})
        direct = time.perf_counter() - started
    assert Receiver.count == n, Receiver.count

    # enqueue: one transaction per change, as the domain writes them (not sent yet)
    schedule = outbox.delivery_schedule
    outbox.delivery_schedule = lambda **kwargs: None
    from connectors.subscribers import payloads as p

    events = [p.WebhookTest.model_validate(payload) for payload in payloads]
    started = time.perf_counter()
    for i, event in enumerate(events):
        with transaction.atomic():
            subscribers_event_emit(
                event=event, subscription_ids=[subscription.pk], reference=f"B{i}", ordering=f"order:B{i}"
            )
    enqueue = time.perf_counter() - started
    outbox.delivery_schedule = schedule

    # log: one worker sends what is due, one delivery after another
    started = time.perf_counter()
    while outbox.delivery_sweep(limit=500):
        pass
    log = time.perf_counter() - started
    delivered = Delivery.objects.filter(status=Delivery.Status.DELIVERED).count()
    assert delivered == n and Receiver.count == 2 * n, (delivered, Receiver.count)

    print(
        f"direct   {n / direct:8.1f} deliveries/s  ({direct:.2f} s: sign + POST, one keep-alive connection)"
    )
    print(
        f"enqueue  {n / enqueue:8.1f} changes/s     ({enqueue:.2f} s: a delivery row per change, own commit)"
    )
    print(f"log      {n / log:8.1f} deliveries/s  ({log:.2f} s: claim, sign, POST, record, finish)")
    print(
        f"ratio    log / direct = {direct / log:.2f}; load average after: {load()} ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
