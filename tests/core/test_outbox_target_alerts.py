"""A target kind whose on_revoked hook tells people itself (DeliveryTarget.alerts_managers=False)
gets no “credentials refused” e-mail from the outbox; every other kind still does."""

import pytest
from django.core import mail
from django.db import transaction

from core.models import Delivery
from core.outbox.registry import DeliveryTarget, delivery_handler_register, delivery_target_register
from core.outbox.services import delivery_enqueue, delivery_send

revoked: list[str] = []


def post(delivery, http):
    http.request("POST", delivery.payload["url"], json_body={})


@pytest.fixture(autouse=True)
def kinds(settings):
    settings.MANAGER_EMAILS = ["ops@example.com"]
    revoked.clear()
    delivery_handler_register(topic="test.alerts", handler=post)
    for prefix, alerts in (("loud", True), ("quiet", False)):
        delivery_target_register(
            prefix=prefix,
            target=DeliveryTarget(
                on_revoked=lambda target, reason: revoked.append(target), alerts_managers=alerts
            ),
        )


@pytest.mark.parametrize(("target", "mails"), [("loud:1", 1), ("quiet:1", 0)])
def test_refused_credentials_pause_both_kinds_and_only_the_alerting_kind_mails_managers(
    db, httpserver, django_capture_on_commit_callbacks, target, mails
):
    httpserver.expect_request("/hook").respond_with_data("Invalid token", status=401)
    with transaction.atomic():
        delivery = delivery_enqueue(
            target=target, topic="test.alerts", payload={"url": httpserver.url_for("/hook")}
        )

    with django_capture_on_commit_callbacks(execute=True):
        delivery = delivery_send(delivery_id=delivery.pk)

    assert delivery.status == Delivery.Status.PAUSED
    assert revoked == [target]
    assert len(mail.outbox) == mails
