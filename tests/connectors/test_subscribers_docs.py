"""The webhook documentation says what the code does: docs/webhooks.md's schemas are the payload
models', the API's OpenAPI document lists every event type under `webhooks`, and the receiver
example in the docs, run as written, accepts our deliveries over HTTP and refuses forgeries."""

import contextlib
import io
import re

import pytest
from django.db import transaction
from werkzeug import Response

from connectors.subscribers.docs import DOC_PATH, document_with_generated
from connectors.subscribers.payloads import EVENTS, event_schema, event_type_of
from connectors.subscribers.services import (
    subscription_create,
    subscription_secret_rotate,
    subscription_test_send,
)
from core.models import Delivery
from core.outbox.services import delivery_resend, delivery_send


def test_docs_webhooks_md_matches_the_payload_models():
    text = DOC_PATH.read_text(encoding="utf-8")
    assert document_with_generated(text) == text, "run: python manage.py webhooks_docs --write"
    for model in EVENTS:
        assert f"### `{event_type_of(model)}` (version 1)" in text


def test_the_openapi_document_describes_every_event_under_webhooks(client):
    document = client.get("/api/v1/openapi.json").json()

    assert document["openapi"].startswith("3.1")
    assert list(document["webhooks"]) == [event_type_of(model) for model in EVENTS]
    for model in EVENTS:
        post = document["webhooks"][event_type_of(model)]["post"]
        assert post["requestBody"]["content"]["application/json"]["schema"] == event_schema(model)
        assert [p["name"] for p in post["parameters"]] == [
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        ]
    assert "/api/v1/orders" in document["paths"]  # the API itself is still there


def receiver_example() -> str:
    text = DOC_PATH.read_text(encoding="utf-8")
    section = text[text.index("## Verifying a delivery") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_receiver_example_in_the_docs_is_about_ten_lines():
    code = [line for line in receiver_example().splitlines() if line.strip() and not line.startswith("from")]
    assert len(code) <= 14


@pytest.mark.django_db
def test_the_receiver_example_accepts_our_deliveries_once_and_refuses_forgeries(httpserver, monkeypatch):
    subscription, secret = subscription_create(
        name="Docs", url=httpserver.url_for("/docs-receiver"), event_types=[], owner_email="d@example.com"
    )
    monkeypatch.setenv("OMS_WEBHOOK_SECRET", secret)
    example: dict = {}
    exec(compile(receiver_example(), "docs/webhooks.md", "exec"), example)  # noqa: S102  the docs, as written
    printed = io.StringIO()

    def endpoint(request):
        with contextlib.redirect_stdout(printed):
            return Response(status=example["receive"](request.get_data(), dict(request.headers)))

    httpserver.expect_request("/docs-receiver").respond_with_handler(endpoint)
    with transaction.atomic():
        delivery = subscription_test_send(subscription_id=subscription.pk)
    assert delivery_send(delivery_id=delivery.pk).status == Delivery.Status.DELIVERED
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DEAD)
    delivery_resend(delivery_id=delivery.pk)  # staff's "Send again": the same message, repeated
    assert delivery_send(delivery_id=delivery.pk).status == Delivery.Status.DELIVERED
    assert printed.getvalue().count("webhook.test") == 1  # acted on once, the repeat dropped

    subscription_secret_rotate(subscription_id=subscription.pk)  # the receiver still has the old one
    with transaction.atomic():
        during_overlap = subscription_test_send(subscription_id=subscription.pk)
    assert delivery_send(delivery_id=during_overlap.pk).status == Delivery.Status.DELIVERED

    (request, _), *_ = httpserver.log
    forged = request.get_data().replace(b"Docs", b"Evil")
    assert example["receive"](forged, dict(request.headers)) == 400
