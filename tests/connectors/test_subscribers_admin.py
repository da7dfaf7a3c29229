"""Subscriptions in the admin: the secret shown once on creation and on rotation (never stored in
a message or shown again), event types as checkboxes, a test event that really goes out, a
switched-off subscription shown as such and switched on again with what waited."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from standardwebhooks import Webhook

from connectors.subscribers.models import Subscription
from connectors.subscribers.services import subscription_create, subscription_switch_off
from core.models import Delivery
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:connectors_subscription_changelist")
SECRET_RE = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="boss", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def subscription(httpserver):
    subscription, secret = subscription_create(
        name="Helpdesk",
        url=httpserver.url_for("/helpdesk"),
        event_types=["order.created"],
        owner_email="hd@example.com",
    )
    subscription.plain_secret = secret
    return subscription


def test_adding_one_shows_its_secret_once_and_never_again(staff_client):
    response = staff_client.post(
        reverse("admin:connectors_subscription_add"),
        {
            "name": "ERP",
            "url": "https://erp.example.com/oms-events",
            "owner_email": "erp-team@example.com",
            "is_active": "on",
            "event_types": ["order.created", "order.shipped", "stock.low"],
        },
    )

    assert response.status_code == 200  # the secret page itself, not a redirect to a message
    assert "no-store" in response["Cache-Control"]
    subscription = Subscription.objects.get()
    assert subscription.event_types == ["order.created", "order.shipped", "stock.low"]
    assert SECRET_RE.findall(response.content.decode()) == [subscription.secret]
    assert list(get_messages(response.wsgi_request)) == []  # nothing stored for a later page

    page = staff_client.get(reverse("admin:connectors_subscription_change", args=[subscription.pk]))
    html = page.content.decode()
    assert subscription.secret not in html
    assert f"whsec_…{subscription.secret[-4:]}" in html
    assert 'type="checkbox" name="event_types" value="order.shipped"' in html


def test_rotating_shows_the_new_secret_once_and_the_old_one_keeps_signing_for_a_while(
    staff_client, subscription
):
    response = staff_client.post(
        CHANGELIST, {"action": "rotate_secret", "_selected_action": [subscription.pk]}
    )

    subscription.refresh_from_db()
    html = response.content.decode()
    assert SECRET_RE.findall(html) == [subscription.secret]
    assert subscription.previous_secret == subscription.plain_secret
    assert subscription.plain_secret not in html
    assert "Old secret signs until" in html


def test_a_test_event_goes_out_signed_and_the_message_links_its_delivery(
    staff_client, subscription, httpserver, django_capture_on_commit_callbacks
):
    received = []
    httpserver.expect_request("/helpdesk").respond_with_handler(
        lambda request: (
            received.append(
                Webhook(subscription.plain_secret).verify(request.get_data(), dict(request.headers))
            )
            or "ok"
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            CHANGELIST, {"action": "send_test_event", "_selected_action": [subscription.pk]}, follow=True
        )

    delivery = Delivery.objects.get()
    assert [r["type"] for r in received] == ["webhook.test"]
    (message,) = [str(m) for m in response.context["messages"]]
    assert "queued" in message
    assert reverse("admin:core_delivery_change", args=[delivery.pk]) in message


def test_a_switched_off_subscription_says_why_and_switching_it_on_sends_what_waited(
    staff_client, subscription, httpserver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        subscription_switch_off(subscription_id=subscription.pk, reason="The receiver answered 410 Gone.")
    page = staff_client.get(CHANGELIST).content.decode()
    assert "Switched off: The receiver answered 410 Gone." in page

    Delivery.objects.create(
        target=subscription.target,
        topic="subscribers.event",
        payload={
            "type": "webhook.test",
            "version": 1,
            "id": "evt_" + "0" * 32,
            "occurred_at": "x",
            "data": {},
        },
        status=Delivery.Status.PAUSED,
    )
    httpserver.expect_request("/helpdesk").respond_with_data("ok")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            CHANGELIST, {"action": "switch_on", "_selected_action": [subscription.pk]}, follow=True
        )

    assert "is on again; 1 waiting deliveries queued" in response.content.decode()
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.disabled_reason == ""


def test_unticking_active_in_the_form_switches_it_off_without_mailing_anyone(staff_client, subscription):
    from django.core import mail

    response = staff_client.post(
        reverse("admin:connectors_subscription_change", args=[subscription.pk]),
        {
            "name": "Helpdesk",
            "url": subscription.url,
            "owner_email": "hd@example.com",
            "event_types": ["order.created", "return.requested"],
        },
    )

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert not subscription.is_active and subscription.disabled_reason == "Switched off by boss."
    assert subscription.event_types == ["order.created", "return.requested"]
    assert mail.outbox == []
