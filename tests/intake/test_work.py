"""The intake worker (intake/work.py): requests stored as received are processed in batches, in
arrival order, each batch's new orders captured in one call and its outcomes written in one
UPDATE; two workers never take the same request; a worker that dies loses nothing. Driven here
by the API's asynchronous creates (tests/connectors/test_webhooks.py: platform deliveries)."""

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from intake import work
from intake.inbound import inbound_request_reprocess
from intake.keys import channel_api_key_create
from intake.models import InboundRequest
from intake.selectors import inbound_get_backlog
from intake.work import inbound_requests_claim, intake_work
from orders.models import Order
from tests.connectors.test_subscribers_worker_killed import database_url_of_tests
from tests.factories import ChannelFactory
from tests.races import start_in_thread

from .conftest import order_body

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders"
WAIT_SECONDS = 60


def send_async(client, auth, body) -> InboundRequest:
    """POST a create with Prefer: respond-async; returns the request it stored, still pending."""
    response = client.post(
        URL, json.dumps(body), content_type="application/json", HTTP_PREFER="respond-async", **auth
    )
    assert response.status_code == 202, response.content
    return InboundRequest.objects.get(pk=response.json()["id"])


def burst(client, auth, external_ids) -> list[InboundRequest]:
    """One order per external id, each from its own customer (the same customer ordering the
    same items twice is held as a suspected duplicate)."""
    return [
        send_async(client, auth, order_body(external_id=e, customer={"email": f"{e.lower()}@example.com"}))
        for e in external_ids
    ]


def outcomes(inbounds) -> list[str]:
    return [InboundRequest.objects.get(pk=i.pk).outcome for i in inbounds]


@pytest.fixture
def capture_calls(monkeypatch):
    """The size of each orders_capture call the worker makes."""
    sizes = []
    real = work.orders_capture

    def counting(requests):
        sizes.append(len(requests))
        return real(requests)

    monkeypatch.setattr(work, "orders_capture", counting)
    return sizes


def test_a_batch_is_captured_in_one_call_and_its_outcomes_written_in_one_update(
    client, auth, widgets, capture_calls
):
    sent = burst(client, auth, ["WEB-1", "WEB-2", "WEB-3"])
    assert not Order.objects.exists()

    with CaptureQueriesContext(connection) as ctx:
        assert intake_work() == 3

    assert capture_calls == [3]
    assert outcomes(sent) == ["captured"] * 3
    assert list(Order.objects.order_by("pk").values_list("external_id", flat=True)) == [
        "WEB-1",
        "WEB-2",
        "WEB-3",
    ]
    outcome_writes = [
        q for q in ctx.captured_queries if q["sql"].startswith('UPDATE "orders_inboundrequest"')
    ]
    assert len(outcome_writes) == 1


def test_the_same_order_twice_in_a_burst_is_captured_once_in_arrival_order(
    client, auth, widgets, capture_calls
):
    sent = burst(client, auth, ["WEB-1", "WEB-2", "WEB-1"])

    intake_work()

    assert capture_calls == [2, 1]  # a run ends before the order it already has
    assert outcomes(sent) == ["captured", "captured", "duplicate"]
    assert Order.objects.count() == 2


def test_a_request_that_breaks_its_batch_is_failed_alone_and_the_others_captured(
    client, auth, widgets, monkeypatch
):
    sent = burst(client, auth, ["WEB-1", "WEB-POISON", "WEB-3"])
    real = work.orders_capture

    def poisoned(requests):
        if any(r.data.external_id == "WEB-POISON" for r in requests):
            raise RuntimeError("a bug no savepoint catches")
        return real(requests)

    monkeypatch.setattr(work, "orders_capture", poisoned)

    assert intake_work() == 3

    assert outcomes(sent) == ["captured", "failed", "captured"]
    assert "RuntimeError: a bug no savepoint catches" in InboundRequest.objects.get(pk=sent[1].pk).error
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["WEB-1", "WEB-3"]
    assert intake_work() == 0  # nothing left pending: the queue goes on


def test_a_pending_request_is_not_reprocessed_beside_the_worker(client, auth, widgets):
    (sent,) = burst(client, auth, ["WEB-1"])

    with pytest.raises(Exception, match="waiting for the intake worker"):
        inbound_request_reprocess(inbound_id=sent.pk)

    assert not Order.objects.exists()


def test_the_command_processes_what_is_pending(client, auth, widgets):
    burst(client, auth, ["WEB-1", "WEB-2"])
    out = io.StringIO()

    call_command("intake_work", "--batch", "1", stdout=out)

    assert "2 inbound requests processed" in out.getvalue()
    assert Order.objects.count() == 2


# --- PostgreSQL: several workers, and a worker that dies ----------------------------------------
def _second_channel_auth():
    channel = ChannelFactory(code="pos", name="Shop two")
    _, plain = channel_api_key_create(channel=channel)
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_never_take_the_same_request(client, auth, widgets):
    first = burst(client, auth, ["WEB-1", "WEB-2", "WEB-3", "WEB-4"])
    second = burst(client, _second_channel_auth(), ["POS-1", "POS-2"])
    holding, done = threading.Event(), threading.Event()
    results = {}

    def worker_a():
        with transaction.atomic():
            claimed = inbound_requests_claim(batch=2)
            holding.set()
            done.wait(WAIT_SECONDS)  # keeps its locks until the other worker has claimed
            return [i.pk for i in claimed]

    def worker_b():
        holding.wait(WAIT_SECONDS)
        try:
            with transaction.atomic():
                return [i.pk for i in inbound_requests_claim(batch=100)]
        finally:
            done.set()

    threads = [start_in_thread(worker_a, results, "a"), start_in_thread(worker_b, results, "b")]
    for thread in threads:
        thread.join(WAIT_SECONDS)

    # A took the oldest two; B, asking for everything, got none of A's channel (whose later
    # requests must wait for A's batch, to keep that channel's order) and all of the other.
    assert results["a"] == [first[0].pk, first[1].pk]
    assert results["b"] == [i.pk for i in second]
    assert intake_work() == 6  # nothing was processed by the claims alone
    assert Order.objects.count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_its_requests_pending_and_another_takes_them_once(
    client, auth, widgets
):
    sent = burst(client, auth, ["WEB-0", "WEB-1", "WEB-2"])
    # Hold the lock capture takes per customer (the duplicate check), so the worker stops in the
    # middle of its batch: the first order captured, the second waiting, nothing committed.
    held, release = threading.Event(), threading.Event()

    def hold_the_second_customers_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["order-dup:WEB-1@EXAMPLE.COM"])
            held.set()
            release.wait(WAIT_SECONDS)

    holder = start_in_thread(hold_the_second_customers_lock, {}, "holder")
    assert held.wait(WAIT_SECONDS)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "intake_work", "--batch", "10"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": database_url_of_tests(),
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        backend = _wait_for_a_session_waiting_on_an_advisory_lock(worker)
        assert outcomes(sent) == ["received"] * 3  # the batch is under way, uncommitted
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(WAIT_SECONDS) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        release.set()
        holder.join(WAIT_SECONDS)
    _wait_until_session_gone(backend)  # its connection lost, its transaction rolls back

    assert outcomes(sent) == ["received"] * 3 and not Order.objects.exists()
    assert intake_work() == 3
    assert outcomes(sent) == ["captured"] * 3
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["WEB-0", "WEB-1", "WEB-2"]


def _wait_for_a_session_waiting_on_an_advisory_lock(worker) -> int:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            row = cursor.fetchone()
        if row:
            return row[0]
        if worker.poll() is not None:
            pytest.fail(f"the worker ended before it waited: {worker.communicate()[1].decode()[-2000:]}")
        time.sleep(0.05)
    pytest.fail("the worker never reached the second order")


def _wait_until_session_gone(pid: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() is None:
                return
        time.sleep(0.05)
    pytest.fail("the killed worker's session is still there")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_looping_worker_captures_what_arrives_and_stops_on_sigterm(client, auth, widgets):
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "intake_work", "--loop", "--idle-sleep", "0.1"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": database_url_of_tests(),
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        sent = burst(client, auth, ["WEB-1", "WEB-2"])  # while it waits for work
        deadline = time.monotonic() + WAIT_SECONDS
        while outcomes(sent) != ["captured"] * 2 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=WAIT_SECONDS)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert worker.returncode == 0, err.decode()[-2000:]
    assert outcomes(sent) == ["captured"] * 2
    assert "2 inbound requests processed" in out.decode()


@pytest.mark.postgres
def test_the_backlog_and_the_claim_read_only_the_pending_index(client, auth, widgets):
    burst(client, auth, ["WEB-1"])
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        inbound_get_backlog()
        inbound_requests_claim(batch=10)
    queries = [q["sql"] for q in ctx.captured_queries if "orders_inboundrequest" in q["sql"]]
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in queries:
            cursor.execute("EXPLAIN " + sql)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    assert len(plans) == 3  # the backlog; the claim's channels, then its rows
    # Read through an index of the outcome (the partial pending index, or on a table this small
    # the planner's coin toss, the outcome index), never by scanning the whole log.
    for plan in plans:
        assert "inbound_pending_idx" in plan or "inbound_outcome_idx" in plan, plan
        assert "Seq Scan on orders_inboundrequest" not in plan, plan
