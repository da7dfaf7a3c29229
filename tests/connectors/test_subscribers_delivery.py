"""Sending events to subscribers over real HTTP (pytest-httpserver): a receiver that verifies
with the standardwebhooks library accepts them, with either secret while a rotation overlaps;
the webhook-id is the same on every attempt; 410 switches the subscription off and tells its
owner; 401 is retried; a subscription failing for days is switched off, and switching it on
again sends what waited."""

import datetime as dt
import io
import json

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from standardwebhooks import Webhook
from werkzeug import Response

from connectors.subscribers.delivery import webhook_id
from connectors.subscribers.models import Subscription
from connectors.subscribers.services import (
    SubscriptionSwitchedOff,
    subscription_create,
    subscription_secret_rotate,
    subscription_switch_on,
    subscription_test_send,
    subscription_update,
)
from core.models import Delivery, DeliveryAttempt
from core.outbox.services import delivery_send, delivery_sweep

Status = Delivery.Status
PATH = "/hooks/oms"


class Receiver:
    """What a subscriber runs: verify with its secret(s), keep what verified, answer."""

    def __init__(self, *secrets):
        self.secrets = list(secrets)
        self.verified: list[tuple[str, dict]] = []  # (webhook-id, payload)
        self.refused: list[str] = []
        self.headers: list[dict] = []

    def handle(self, request):
        self.headers.append(dict(request.headers))
        for secret in self.secrets:
            try:
                payload = Webhook(secret).verify(request.get_data(), dict(request.headers))
            except Exception:  # noqa: BLE001  any secret that verifies will do
                continue
            self.verified.append((request.headers["webhook-id"], payload))
            return Response("ok", status=200)
        self.refused.append(request.headers.get("webhook-id", ""))
        return Response("bad signature", status=401)


@pytest.fixture(autouse=True)
def managers(settings):
    settings.MANAGER_EMAILS = ["ops@oms.example"]
    settings.OMS = {**settings.OMS, "DELIVERY_TIMEOUT_SECONDS": 2.0}


@pytest.fixture
def subscribe(db, httpserver):
    def make(event_types=(), name="ERP", path=PATH) -> tuple[Subscription, str]:
        return subscription_create(
            name=name,
            url=httpserver.url_for(path),
            event_types=list(event_types),
            owner_email="erp-owner@example.com",
        )

    return make


def event_for(subscription) -> Delivery:
    """A test event owed to the subscription (a delivery, not yet sent)."""
    with transaction.atomic():
        return subscription_test_send(subscription_id=subscription.pk)


def sent(delivery: Delivery) -> Delivery:
    """One attempt, as the worker makes it."""
    return delivery_send(delivery_id=delivery.pk) or Delivery.objects.get(pk=delivery.pk)


def test_a_receiver_verifying_with_the_library_accepts_what_we_send(subscribe, httpserver):
    subscription, secret = subscribe()
    receiver = Receiver(secret)
    httpserver.expect_request(PATH, method="POST").respond_with_handler(receiver.handle)

    delivery = sent(event_for(subscription))

    assert delivery.status == Status.DELIVERED
    ((msg_id, payload),) = receiver.verified
    assert msg_id == webhook_id(delivery) == f"msg_{delivery.idempotency_key.hex}"
    assert payload == delivery.payload
    assert payload["type"] == "webhook.test" and payload["version"] == 1
    headers = receiver.headers[0]
    assert headers["Content-Type"] == "application/json"
    assert len(headers["Webhook-Signature"].split(" ")) == 1  # one secret, one signature
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.response_status == 200
    assert secret not in json.dumps(attempt.request_headers) + attempt.request_body
    subscription.refresh_from_db()
    assert subscription.last_delivered_at is not None and subscription.failing_since is None


def test_during_a_rotation_both_secrets_verify_and_afterwards_only_the_new_one(subscribe, httpserver, clock):
    subscription, old = subscribe()
    subscription, new = subscription_secret_rotate(subscription_id=subscription.pk)
    assert new != old and subscription.previous_secret == old
    with_old, with_new = Receiver(old), Receiver(new)
    httpserver.expect_ordered_request(PATH).respond_with_handler(with_old.handle)
    httpserver.expect_ordered_request(PATH).respond_with_handler(with_new.handle)
    httpserver.expect_ordered_request(PATH).respond_with_handler(with_old.handle)

    first = sent(event_for(subscription))  # to a receiver still on the old secret
    second = sent(event_for(subscription))  # to one that switched over
    assert first.status == second.status == Status.DELIVERED
    assert [len(h["Webhook-Signature"].split(" ")) for h in with_old.headers + with_new.headers] == [2, 2]

    clock.moment += dt.timedelta(hours=24, minutes=1)  # the overlap is over
    third = sent(event_for(subscription))
    assert len(with_old.headers[-1]["Webhook-Signature"].split(" ")) == 1
    assert with_old.refused == [webhook_id(third)]  # the old secret no longer signs
    assert third.status == Status.PENDING  # 401: retried, as for any receiver that refused us


def test_the_webhook_id_is_the_same_on_every_attempt_so_the_receiver_applies_it_once(
    subscribe, httpserver, clock
):
    subscription, secret = subscribe()
    receiver = Receiver(secret)
    applied: dict[str, dict] = {}

    def busy_then_ok(request):
        response = receiver.handle(request)
        msg_id = request.headers["webhook-id"]
        applied.setdefault(msg_id, json.loads(request.get_data()))  # dedupe by webhook-id
        return response if len(receiver.verified) > 1 else Response("busy", status=503)

    httpserver.expect_request(PATH).respond_with_handler(busy_then_ok)
    delivery = sent(event_for(subscription))
    assert delivery.status == Status.PENDING and "503" in delivery.last_error
    clock.moment = delivery.next_attempt_at + dt.timedelta(seconds=1)
    delivery_sweep()

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED and delivery.attempts == 2
    assert [msg_id for msg_id, _ in receiver.verified] == [webhook_id(delivery)] * 2
    assert list(applied) == [webhook_id(delivery)]


def test_410_gone_switches_the_subscription_off_keeps_what_waits_and_tells_the_owner(
    subscribe, httpserver, django_capture_on_commit_callbacks
):
    subscription, secret = subscribe()
    httpserver.expect_ordered_request(PATH).respond_with_data("no such hook", status=410)
    first = event_for(subscription)
    waiting = event_for(subscription)

    with django_capture_on_commit_callbacks(execute=True):
        first = sent(first)

    assert first.status == Status.PAUSED and "410" in first.last_error
    assert Delivery.objects.get(pk=waiting.pk).status == Status.PAUSED  # not sent, not lost
    subscription.refresh_from_db()
    assert not subscription.is_active and "410 Gone" in subscription.disabled_reason
    (message,) = mail.outbox  # one e-mail, in our words; not the outbox's "credentials refused"
    assert sorted(message.to) == ["erp-owner@example.com", "ops@oms.example"]
    assert message.subject == "Webhook subscription “ERP” switched off"
    assert "410 Gone" in message.body and "2 deliveries wait" in message.body
    assert len(httpserver.log) == 1

    receiver = Receiver(secret)
    httpserver.expect_request(PATH).respond_with_handler(receiver.handle)
    with django_capture_on_commit_callbacks(execute=True):
        assert subscription_switch_on(subscription_id=subscription.pk) == 2
    assert [msg_id for msg_id, _ in receiver.verified] == [webhook_id(first), webhook_id(waiting)]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}


def test_401_from_a_subscriber_is_retried_not_paused(subscribe, httpserver, clock):
    subscription, secret = subscribe()
    httpserver.expect_ordered_request(PATH).respond_with_data("signature mismatch", status=401)
    httpserver.expect_ordered_request(PATH).respond_with_handler(Receiver(secret).handle)

    delivery = sent(event_for(subscription))
    assert delivery.status == Status.PENDING and "refused the signature" in delivery.last_error
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.failing_since is not None
    assert mail.outbox == []

    clock.moment = delivery.next_attempt_at + dt.timedelta(seconds=1)
    delivery_sweep()
    assert Delivery.objects.get(pk=delivery.pk).status == Status.DELIVERED
    subscription.refresh_from_db()
    assert subscription.failing_since is None  # back to healthy


def fail_until_dead(delivery: Delivery, clock) -> Delivery:
    for _ in range(60):
        delivery = sent(delivery)
        if delivery.status != Status.PENDING:
            return delivery
        clock.moment = delivery.next_attempt_at + dt.timedelta(seconds=1)
    raise AssertionError("never gave up")


def test_a_subscription_failing_for_days_is_switched_off_its_owner_told_and_switching_on_sends_it_all(
    subscribe, httpserver, clock, django_capture_on_commit_callbacks
):
    subscription, secret = subscribe()
    httpserver.expect_request(PATH).respond_with_data("down for maintenance", status=503)
    early = fail_until_dead(event_for(subscription), clock)
    assert early.status == Status.DEAD  # gave up after OMS_DELIVERY_GIVE_UP_HOURS
    subscription.refresh_from_db()
    assert subscription.is_active  # a day of failures is not yet days

    clock.moment = subscription.failing_since + dt.timedelta(days=3, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        late = sent(event_for(subscription))

    assert late.status == Status.PAUSED
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_reason.startswith("No delivery got through for 3 days")
    assert "503" in subscription.disabled_reason
    (message,) = mail.outbox
    assert sorted(message.to) == ["erp-owner@example.com", "ops@oms.example"]
    assert "1 delivery waits" in message.body and "1 gave up earlier" in message.body

    httpserver.clear()
    receiver = Receiver(secret)
    httpserver.expect_request(PATH).respond_with_handler(receiver.handle)
    with django_capture_on_commit_callbacks(execute=True):
        assert subscription_switch_on(subscription_id=subscription.pk) == 2
    assert [msg_id for msg_id, _ in receiver.verified] == [webhook_id(early), webhook_id(late)]
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.failing_since is None


def test_the_daily_check_switches_off_a_failing_subscription_with_nothing_in_flight(
    subscribe, httpserver, clock, django_capture_on_commit_callbacks
):
    failing, _ = subscribe(name="Warehouse BI")
    healthy, secret = subscribe(name="Helpdesk", path="/ok")
    httpserver.expect_request(PATH).respond_with_data("down", status=502)
    httpserver.expect_request("/ok").respond_with_handler(Receiver(secret).handle)
    fail_until_dead(event_for(failing), clock)
    sent(event_for(healthy))
    failing.refresh_from_db()

    clock.moment = failing.failing_since + dt.timedelta(days=2, hours=23)
    call_command("subscriptions_check", stdout=io.StringIO())
    assert Subscription.objects.filter(is_active=True).count() == 2  # not yet three days

    clock.moment = failing.failing_since + dt.timedelta(days=3, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("subscriptions_check", stdout=(out := io.StringIO()))

    assert "Switched off “Warehouse BI”" in out.getvalue()
    assert list(Subscription.objects.filter(is_active=True).values_list("name", flat=True)) == ["Helpdesk"]
    assert [m.subject for m in mail.outbox] == ["Webhook subscription “Warehouse BI” switched off"]


def test_switched_off_by_staff_nothing_is_sent_nobody_is_mailed_and_it_waits(
    subscribe, httpserver, django_capture_on_commit_callbacks
):
    subscription, secret = subscribe(event_types=["order.created"])
    waiting = event_for(subscription)
    subscription_update(
        subscription_id=subscription.pk,
        name="ERP",
        url=subscription.url,
        event_types=["order.created"],
        owner_email="erp-owner@example.com",
        is_active=False,
    )

    assert sent(waiting).status == Status.PAUSED  # its turn came: paused, not sent
    assert httpserver.log == [] and mail.outbox == []
    with pytest.raises(SubscriptionSwitchedOff):
        subscription_test_send(subscription_id=subscription.pk)

    httpserver.expect_request(PATH).respond_with_handler(Receiver(secret).handle)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_update(
            subscription_id=subscription.pk,
            name="ERP",
            url=subscription.url,
            event_types=["order.created"],
            owner_email="erp-owner@example.com",
            is_active=True,
        )
    assert Delivery.objects.get(pk=waiting.pk).status == Status.DELIVERED
