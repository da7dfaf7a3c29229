"""The EasyPost tracking webhook: its signature, every published fixture, odd bodies and
unknown tracking numbers."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core import mail

from connectors.easypost.signature import easypost_signature, easypost_signature_valid
from fulfillment.models import Shipment, TrackingEvent
from fulfillment.services import shipment_pack, shipment_ship
from orders.models import Order

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "shared" / "carriers"
SIGNED = FIXTURES / "easypost_examples__fixtures_event-body_2022_batch-created_signed.json"
VECTOR = "hmac-sha256-hex=e93977c8ccb20363d51a62b3fe1fc402b7829be1152da9e88cf9e8d07115a46b"
SECRET = "sécret"
URL = "/webhooks/carriers/easypost"


def post(client, body: bytes, secret=SECRET, signature=None):
    signature = signature if signature is not None else easypost_signature(body=body, secret=secret)
    return client.post(URL, body, content_type="application/json", headers={"X-Hmac-Signature": signature})


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.EASYPOST_WEBHOOK_SECRET = SECRET


def shipped(ready_shipment, tracking_number, lines=(("MUG-1", 1),)):
    shipment = ready_shipment(list(lines))
    shipment_pack(shipment_id=shipment.pk)
    return shipment_ship(shipment_id=shipment.pk, tracking_number=tracking_number)


def test_signature_matches_the_published_test_vector():
    body = SIGNED.read_bytes()
    assert len(body) == 539
    assert easypost_signature(body=body, secret=SECRET) == VECTOR
    assert easypost_signature(body=body, secret="se\u0301cret") == VECTOR  # decomposed form, same key
    assert easypost_signature_valid(
        body=body, header=VECTOR.upper().replace("HMAC-SHA256-HEX", "hmac-sha256-hex"), secret=SECRET
    )
    assert not easypost_signature_valid(body=body + b" ", header=VECTOR, secret=SECRET)
    assert not easypost_signature_valid(body=body, header=VECTOR, secret="")


@pytest.mark.django_db
def test_webhook_accepts_the_signed_vector_and_ignores_a_batch_event(client):
    response = post(client, SIGNED.read_bytes(), signature=VECTOR)
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert TrackingEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("signature", "body"),
    [("", b"{}"), ("hmac-sha256-hex=00", b"{}"), (VECTOR, b'{"tampered": true}')],
)
def test_webhook_refuses_unsigned_or_mis_signed(client, signature, body):
    assert post(client, body, signature=signature).status_code == 401


@pytest.mark.django_db
def test_webhook_refuses_when_no_secret_is_configured(client, settings):
    settings.EASYPOST_WEBHOOK_SECRET = ""
    assert post(client, b"{}", secret="").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"description": "tracker.updated", "result": []}',
                                  b'{"description": "tracker.updated", "result": {"object": "Tracker", '
                                  b'"tracking_code": 5, "tracking_details": "x"}}', b"\xff\xfe"])  # fmt: skip
def test_webhook_never_fails_on_odd_bodies(client, body):
    assert post(client, body).status_code in (200, 400)


@pytest.mark.django_db
def test_fedex_fixture_moves_shipment_in_transit_and_keeps_every_detail(
    warehouse, catalog, service_level, ready_shipment, client
):
    body = (FIXTURES / "easypost_examples__fixtures_event-body.json").read_bytes()
    shipment = shipped(ready_shipment, "1")
    response = post(client, body)
    assert response.json() == {"status": "ok", "received": 7, "new": 7, "unmatched": 0}
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.IN_TRANSIT
    assert shipment.estimated_delivery == dt.date(2024, 8, 5)  # the carrier's own estimate
    assert shipment.tracking_events.count() == 7
    first = shipment.tracking_events.first()
    assert (first.status, first.location, first.carrier_code) == ("pre_transit", "32837, US", "FedEx")
    assert shipment.order.events.filter(kind="in_transit", visible_to_customer=True).count() == 1

    again = post(client, body)  # EasyPost retries: nothing new, nothing moves
    assert again.json()["new"] == 0
    assert TrackingEvent.objects.count() == 7


@pytest.mark.django_db
def test_ups_fixture_delivered_scan_stamped_before_others_still_delivers(
    warehouse, catalog, service_level, ready_shipment, client, django_capture_on_commit_callbacks
):
    body = (FIXTURES / "easypost_examples__guides_tracking-guide_json_tracking-webhook.json").read_bytes()
    shipment = shipped(ready_shipment, "EZ4000000004")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body).json()["new"] == 6
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED
    assert shipment.order.status == Order.Status.DELIVERED
    subjects = [m.subject for m in mail.outbox]
    assert any("out for delivery" in s for s in subjects) and any("has been delivered" in s for s in subjects)


@pytest.mark.django_db
def test_unknown_tracking_number_is_stored_flagged_then_claimed(
    warehouse, catalog, service_level, ready_shipment, client
):
    body = (FIXTURES / "easypost_examples__docs_responses_trackers_trackers-retrieve.json").read_text()
    event = json.dumps({"description": "tracker.created", "result": json.loads(body)}).encode()
    assert post(client, event).json() == {"status": "ok", "received": 2, "new": 2, "unmatched": 2}
    assert TrackingEvent.objects.filter(shipment__isnull=True, tracking_number="EZ1000000001").count() == 2
    shipment = shipped(ready_shipment, "EZ1000000001")
    assert shipment.tracking_events.count() == 2
