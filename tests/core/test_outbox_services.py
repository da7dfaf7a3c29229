"""The delivery log over real HTTP to a local server: delivered once, retried with backoff and
Retry-After, paused on refused credentials, given up with the platform's message, in order per
key, coalesced per key, and nothing lost when the server is away or the worker dies."""

import datetime as dt
import json
import socket
import time

import pytest
from django.core import mail
from django.db import transaction
from werkzeug import Response

from core.models import Delivery, DeliveryAttempt
from core.outbox.registry import DeliveryTarget, delivery_handler_register, delivery_target_register
from core.outbox.services import (
    delivery_enqueue,
    delivery_resend,
    delivery_send,
    delivery_sweep,
    delivery_target_resume,
)

Status = Delivery.Status
TOKEN = "shpat_secret_token_123"
paused_targets: set[str] = set()
revoked: list[tuple[str, str]] = []


def post_payload(delivery, http):
    """A handler as connectors write them: build the request from our row, send, keep the id."""
    response = http.request(
        "POST",
        delivery.payload["url"],
        json_body={"value": delivery.payload["value"]},
        headers={"X-Shopify-Access-Token": TOKEN, "Idempotency-Key": str(delivery.idempotency_key)},
        secrets=(TOKEN,),
    )
    return {"remote_id": response.json().get("id")}


@pytest.fixture(autouse=True)
def registered():
    delivery_handler_register(topic="test.post", handler=post_payload)

    def on_revoked(target, reason):
        paused_targets.add(target)
        revoked.append((target, reason))

    delivery_target_register(
        prefix="test",
        target=DeliveryTarget(
            name=lambda target: f"Test shop {target}",
            is_paused=lambda target: target in paused_targets,
            on_revoked=on_revoked,
        ),
    )
    paused_targets.clear()
    revoked.clear()


def enqueue(httpserver, value, *, target="test:1", path="/hook", **keys) -> Delivery:
    with transaction.atomic():
        return delivery_enqueue(
            target=target,
            topic="test.post",
            payload={"url": httpserver.url_for(path), "value": value},
            reference=f"REF-{value}",
            **keys,
        )


def received(httpserver, path="/hook") -> list:
    return [json.loads(request.data)["value"] for request, _ in httpserver.log if request.path == path]


def later(clock, **delta):
    clock.moment += dt.timedelta(**delta)


@pytest.fixture
def settings_fast(settings):
    settings.OMS = {**settings.OMS, "DELIVERY_TIMEOUT_SECONDS": 0.5, "DELIVERY_BACKOFF_BASE_SECONDS": 10.0}
    settings.MANAGER_EMAILS = ["ops@example.com"]
    return settings


pytestmark = pytest.mark.usefixtures("settings_fast")


def test_a_delivery_is_sent_after_commit_and_recorded_with_credentials_redacted(
    db, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request("/hook", method="POST").respond_with_json({"id": "gid://1"})
    with django_capture_on_commit_callbacks(execute=True):
        delivery = enqueue(httpserver, 7)
    delivery.refresh_from_db()

    assert delivery.status == Status.DELIVERED
    assert delivery.result == {"remote_id": "gid://1"}
    assert received(httpserver) == [7]
    sent = httpserver.log[0][0]
    assert sent.headers["X-Shopify-Access-Token"] == TOKEN  # the real thing went over the wire
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.request_headers["x-shopify-access-token"] == "[redacted]"
    assert TOKEN not in json.dumps(attempt.request_headers) + attempt.request_body + attempt.url
    assert attempt.response_status == 200


def test_nothing_is_sent_for_a_change_that_rolled_back(db, httpserver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        delivery_enqueue(target="test:1", topic="test.post", payload={"url": httpserver.url_for("/hook")})
        raise RuntimeError("the change failed")
    assert Delivery.objects.count() == 0
    assert httpserver.log == []


def test_429_waits_at_least_retry_after_then_delivers_once(db, httpserver, clock):
    httpserver.expect_ordered_request("/hook").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "120"})
    )
    httpserver.expect_ordered_request("/hook").respond_with_json({"id": "gid://2"})
    delivery = enqueue(httpserver, 1)

    delivery = delivery_send(delivery_id=delivery.pk)
    assert delivery.status == Status.PENDING
    assert delivery.next_attempt_at >= clock.moment + dt.timedelta(seconds=119)
    assert "429" in delivery.last_error
    assert delivery_send(delivery_id=delivery.pk) is None  # not due yet: nothing sent

    later(clock, seconds=121)
    assert delivery_sweep() == 1
    assert Delivery.objects.get(pk=delivery.pk).status == Status.DELIVERED
    assert received(httpserver) == [1, 1]  # the refused one and the one that counted
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2


def test_500_backs_off_exponentially_with_jitter(db, httpserver, clock):
    httpserver.expect_request("/hook").respond_with_data("boom", status=500)
    delivery = enqueue(httpserver, 1)
    waits = []
    for _ in range(4):
        before = clock.moment
        delivery = delivery_send(delivery_id=delivery.pk)
        waits.append((delivery.next_attempt_at - before).total_seconds())
        clock.moment = delivery.next_attempt_at
    # base 10 s doubling: each wait is between half and all of 10, 20, 40, 80 seconds
    for wait, ceiling in zip(waits, [10, 20, 40, 80], strict=True):
        assert ceiling / 2 <= wait <= ceiling + 0.01


def test_a_timeout_is_retried(db, httpserver, clock):
    def slow(request):
        time.sleep(1.0)
        return Response("late", status=200)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    delivery = delivery_send(delivery_id=enqueue(httpserver, 1, path="/slow").pk)
    assert delivery.status == Status.PENDING
    assert "did not answer in time" in delivery.last_error
    time.sleep(0.6)  # let the server finish the abandoned request inside this test


def test_connection_refused_loses_nothing_and_delivers_once_the_server_is_back(db, httpserver, clock):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    delivery = enqueue(httpserver, 5)
    delivery.payload["url"] = f"http://127.0.0.1:{closed_port}/hook"
    delivery.save(update_fields=["payload"])
    delivery = delivery_send(delivery_id=delivery.pk)
    assert delivery.status == Status.PENDING
    assert "Could not reach" in delivery.last_error

    httpserver.expect_request("/hook").respond_with_json({"id": "x"})
    delivery.payload["url"] = httpserver.url_for("/hook")  # the server is back (where it was)
    Delivery.objects.filter(pk=delivery.pk).update(payload=delivery.payload)
    later(clock, hours=2)
    delivery_sweep()
    assert Delivery.objects.get(pk=delivery.pk).status == Status.DELIVERED
    assert received(httpserver) == [5]


def test_401_pauses_the_whole_connection_alerts_and_resumes_when_reconnected(
    db, httpserver, clock, django_capture_on_commit_callbacks
):
    httpserver.expect_ordered_request("/hook").respond_with_data(
        "Invalid API key or access token", status=401
    )
    first = enqueue(httpserver, 1)
    second = enqueue(httpserver, 2, path="/other")
    other_shop = enqueue(httpserver, 3, target="test:2", path="/third")

    with django_capture_on_commit_callbacks(execute=True):
        first = delivery_send(delivery_id=first.pk)
    assert first.status == Status.PAUSED
    assert Delivery.objects.get(pk=second.pk).status == Status.PAUSED  # stopped at once, not retried
    assert Delivery.objects.get(pk=other_shop.pk).status == Status.PENDING  # another connection goes on
    assert revoked == [("test:1", first.last_error)]
    assert "Test shop test:1" in mail.outbox[0].subject
    # while paused, new deliveries for the connection wait paused too
    assert enqueue(httpserver, 4, path="/fourth").status == Status.PAUSED

    paused_targets.discard("test:1")
    httpserver.expect_request("/hook").respond_with_json({"id": "ok"})
    httpserver.expect_request("/other").respond_with_json({"id": "ok"})
    httpserver.expect_request("/fourth").respond_with_json({"id": "ok"})
    assert delivery_target_resume(target="test:1") == 3
    for pk in Delivery.objects.filter(target="test:1").values_list("pk", flat=True):
        delivery_send(delivery_id=pk)
    assert set(Delivery.objects.filter(target="test:1").values_list("status", flat=True)) == {
        Status.DELIVERED
    }


def test_a_refusal_of_the_request_itself_is_dead_at_once_with_the_platforms_message(db, httpserver):
    httpserver.expect_request("/hook").respond_with_json(
        {"errors": {"tracking_number": ["is invalid"]}}, status=422
    )
    delivery = delivery_send(delivery_id=enqueue(httpserver, 1).pk)
    assert delivery.status == Status.DEAD
    assert "is invalid" in delivery.last_error
    assert len(httpserver.log) == 1


def test_a_delivery_that_keeps_failing_is_given_up_after_the_bounded_time(db, httpserver, clock, settings):
    settings.OMS = {**settings.OMS, "DELIVERY_GIVE_UP_HOURS": 1.0}
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    delivery = enqueue(httpserver, 1)
    for _ in range(30):
        delivery = delivery_send(delivery_id=delivery.pk) or delivery
        if delivery.status == Status.DEAD:
            break
        clock.moment = delivery.next_attempt_at
    assert delivery.status == Status.DEAD
    assert clock.moment - delivery.created_at <= dt.timedelta(hours=1)
    assert "503" in delivery.last_error

    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_json({"id": "ok"})
    delivery_resend(delivery_id=delivery.pk)
    assert delivery_send(delivery_id=delivery.pk).status == Status.DELIVERED


def test_deliveries_with_one_ordering_key_go_out_in_order(
    db, httpserver, clock, django_capture_on_commit_callbacks
):
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_json({"id": "a"})
    httpserver.expect_ordered_request("/hook").respond_with_json({"id": "b"})
    first = enqueue(httpserver, 1, ordering_key="order:SO-1")
    second = enqueue(httpserver, 2, ordering_key="order:SO-1")

    delivery_send(delivery_id=first.pk)  # fails, waits for its retry
    assert delivery_send(delivery_id=second.pk) is None  # may not overtake it
    later(clock, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_sweep()  # the first goes out, then starts the second
    assert received(httpserver) == [1, 1, 2]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}


def test_changes_to_one_key_are_coalesced_latest_wins(db, httpserver):
    httpserver.expect_request("/hook").respond_with_json({"id": "x"})
    for level in (10, 9, 8, 7):
        enqueue(httpserver, level, coalesce_key="stock:test:1:SKU-1")
    assert Delivery.objects.count() == 1
    delivery_sweep()
    assert received(httpserver) == [7]


def test_a_worker_that_died_mid_attempt_is_taken_over_after_its_lease(db, httpserver, clock):
    httpserver.expect_request("/hook").respond_with_json({"id": "x"})
    delivery = enqueue(httpserver, 1)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Status.SENDING, attempts=1, lease_until=clock.moment + dt.timedelta(seconds=120)
    )  # as a worker leaves it when killed between claiming and finishing
    assert delivery_sweep() == 0  # its lease still runs: nobody else may send it
    later(clock, seconds=121)
    delivery_sweep()
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert "worker stopped" in delivery.last_error or delivery.last_error == ""
    assert received(httpserver) == [1]
