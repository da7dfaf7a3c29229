"""A worker killed mid-delivery, on PostgreSQL: a real worker process (`manage.py outbox_sweep`,
immediate task backend, against the test database) claims a delivery and POSTs it to a local
receiver that holds the request open; it is killed with SIGKILL; the delivery stays taken while
its lease runs, is taken over once the lease is out (delivery_sweep), and the receiver, which
dedupes by webhook-id, applies it once: the id is the same on both attempts."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from connectors.subscribers.delivery import webhook_id
from connectors.subscribers.services import subscription_create, subscription_test_send
from core.models import Delivery, DeliveryAttempt
from core.outbox import services as outbox

WAIT_SECONDS = 60


class HoldingReceiver:
    """A subscriber's endpoint: verifies every request, applies each webhook-id once, and holds
    the first request open (as a slow receiver would) until told to answer."""

    def __init__(self):
        self.secret = ""
        self.seen: list[str] = []
        self.applied: list[str] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                msg_id = self.headers["webhook-id"]
                with receiver.lock:
                    receiver.seen.append(msg_id)
                    first = len(receiver.seen) == 1
                    if msg_id not in receiver.applied:
                        receiver.applied.append(msg_id)
                if first:
                    receiver.first_arrived.set()
                    receiver.release.wait(WAIT_SECONDS)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the worker that asked is gone

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/oms-events"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def database_url_of_tests() -> str:
    """DATABASE_URL for another process to use the database this test runs on."""
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="") + (
        f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    )
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_is_taken_over_after_its_lease_and_applied_once(monkeypatch):
    with HoldingReceiver() as receiver:
        subscription, receiver.secret = subscription_create(
            name="ERP", url=receiver.url, event_types=[], owner_email="erp@example.com"
        )
        # Owe the event without this process sending it: the worker below is to do that.
        monkeypatch.setattr(outbox, "delivery_schedule", lambda **kwargs: None)
        with transaction.atomic():
            delivery = subscription_test_send(subscription_id=subscription.pk)
        monkeypatch.undo()

        worker = subprocess.Popen(
            [sys.executable, "manage.py", "outbox_sweep"],
            cwd=settings.BASE_DIR,
            env={
                **os.environ,
                "DATABASE_URL": database_url_of_tests(),
                "DJANGO_SETTINGS_MODULE": "config.settings_test",  # immediate task backend
                "OMS_DELIVERY_TIMEOUT_SECONDS": "300",  # it must still be waiting when killed
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            if not receiver.first_arrived.wait(WAIT_SECONDS):
                worker.kill()
                pytest.fail(f"the worker never sent it: {worker.communicate()[1].decode()[-2000:]}")
            claimed = Delivery.objects.get(pk=delivery.pk)
            assert claimed.status == Delivery.Status.SENDING and claimed.attempts == 1
            os.kill(worker.pid, signal.SIGKILL)  # mid-delivery: the request is still open
            assert worker.wait(WAIT_SECONDS) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

        assert outbox.delivery_sweep() == 0  # its lease still runs: nobody else may send it
        assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENDING
        assert len(receiver.seen) == 1

        real_now = timezone.now
        offset = claimed.lease_until + dt.timedelta(seconds=1) - real_now()
        monkeypatch.setattr(timezone, "now", lambda: real_now() + offset)  # the lease ran out
        queued = []
        monkeypatch.setattr(
            outbox, "delivery_schedule", lambda *, delivery_id, after=None: queued.append(delivery_id)
        )
        assert outbox.delivery_sweep() == 1  # handed back and queued again
        handed_back = Delivery.objects.get(pk=delivery.pk)
        assert handed_back.status == Delivery.Status.PENDING and handed_back.lease_until is None
        assert "The worker stopped during an attempt." in handed_back.last_error
        assert queued == [delivery.pk]
        outbox.delivery_send_task.enqueue(delivery.pk)  # the queued task, run here (immediate backend)

        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.DELIVERED and delivery.attempts == 2
        assert receiver.seen == [webhook_id(delivery)] * 2  # the same webhook-id on both attempts
        assert receiver.applied == [webhook_id(delivery)]  # so the receiver applied it once
        # The killed attempt recorded nothing; the one that took over recorded its exchange.
        (attempt,) = DeliveryAttempt.objects.filter(delivery=delivery)
        assert attempt.attempt == 2 and attempt.response_status == 200
        assert json.loads(attempt.request_body)["type"] == "webhook.test"
