"""connectors.easypost.inbound: EasyPost's published tracker events become our tracking events with
every detail, in the carrier's order or not; events for a tracking number we don't know yet are
kept and claimed when a shipment ships with it."""

import datetime as dt
import json

import pytest
from django.core import mail

from fulfillment.models import Shipment, TrackingEvent
from orders.models import Order

from .easypost import FIXTURES, post, shipped, webhook_secret  # noqa: F401  webhook_secret: autouse

pytestmark = pytest.mark.django_db


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


def test_unknown_tracking_number_is_stored_flagged_then_claimed(
    warehouse, catalog, service_level, ready_shipment, client
):
    body = (FIXTURES / "easypost_examples__docs_responses_trackers_trackers-retrieve.json").read_text()
    event = json.dumps({"description": "tracker.created", "result": json.loads(body)}).encode()
    assert post(client, event).json() == {"status": "ok", "received": 2, "new": 2, "unmatched": 2}
    assert TrackingEvent.objects.filter(shipment__isnull=True, tracking_number="EZ1000000001").count() == 2
    shipment = shipped(ready_shipment, "EZ1000000001")
    assert shipment.tracking_events.count() == 2
