"""The EasyPost tracking webhook (connectors/easypost/views.py): the signed test vector accepted and
a batch event ignored, unsigned or mis-signed bodies refused, never a 500 on odd bodies."""

import pytest

from fulfillment.models import TrackingEvent

from .easypost import SIGNED, VECTOR, post, webhook_secret  # noqa: F401  webhook_secret: autouse

pytestmark = pytest.mark.django_db


def test_webhook_accepts_the_signed_vector_and_ignores_a_batch_event(client):
    response = post(client, SIGNED.read_bytes(), signature=VECTOR)
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert TrackingEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("signature", "body"),
    [("", b"{}"), ("hmac-sha256-hex=00", b"{}"), (VECTOR, b'{"tampered": true}')],
)
def test_webhook_refuses_unsigned_or_mis_signed(client, signature, body):
    assert post(client, body, signature=signature).status_code == 401


def test_webhook_refuses_when_no_secret_is_configured(client, settings):
    settings.EASYPOST_WEBHOOK_SECRET = ""
    assert post(client, b"{}", secret="").status_code == 401


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"description": "tracker.updated", "result": []}',
                                  b'{"description": "tracker.updated", "result": {"object": "Tracker", '
                                  b'"tracking_code": 5, "tracking_details": "x"}}', b"\xff\xfe"])  # fmt: skip
def test_webhook_never_fails_on_odd_bodies(client, body):
    assert post(client, body).status_code in (200, 400)
