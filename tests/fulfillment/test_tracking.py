"""Carrier tracking on our side (fulfillment/tracking.py): the generic status mapping,
duplicates and out-of-order events. The EasyPost webhook that feeds it: tests/connectors."""

import datetime as dt

import pytest
from django.core import mail

from fulfillment.models import Shipment
from fulfillment.services import shipment_pack, shipment_ship
from fulfillment.tracking import shipment_record_tracking_event, tracking_status_normalize
from orders.models import Order


def shipped(ready_shipment, tracking_number, lines=(("MUG-1", 1),)):
    shipment = ready_shipment(list(lines))
    shipment_pack(shipment_id=shipment.pk)
    return shipment_ship(shipment_id=shipment.pk, tracking_number=tracking_number)


@pytest.mark.parametrize(
    ("said", "ours"),
    [("in_transit", "in_transit"), ("Out For Delivery", "out_for_delivery"), ("DELIVERED", "delivered"),
     ("failure", "exception"), ("attempted_delivery", "exception"), ("return_to_sender", "exception"),
     ("label_printed", "pre_transit"), ("ready_for_pickup", "out_for_delivery"), ("confirmed", "pre_transit"),
     ("something new", "unknown"), ("", "unknown")],
)  # fmt: skip
def test_generic_carrier_status_mapping(said, ours):
    assert tracking_status_normalize(said) == ours


def _event(number, status, when, **kw):
    return shipment_record_tracking_event(
        tracking_number=number, carrier_status=status, occurred_at=dt.datetime.fromisoformat(when), **kw
    )


@pytest.mark.django_db
def test_out_of_order_and_duplicate_events_never_move_backwards(
    warehouse, catalog, service_level, ready_shipment, django_capture_on_commit_callbacks
):
    shipment = shipped(ready_shipment, "TRK1")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert _event("TRK1", "out_for_delivery", "2024-08-05T08:00:00+00:00").moved_to == "out_for_delivery"
        stale = _event("TRK1", "in_transit", "2024-08-04T08:00:00+00:00")  # arrives late, is older
        assert stale.created and stale.moved_to == ""
        problem = _event(
            "TRK1",
            "failure",
            "2024-08-05T17:00:00+00:00",
            description="Recipient not home",
            location="Boston",
        )
        assert problem.moved_to == "exception"
        assert not _event("TRK1", "failure", "2024-08-05T17:00:00+00:00").created  # duplicate
        assert _event("TRK1", "delivered", "2024-08-06T10:00:00+00:00").moved_to == "delivered"
        assert _event("TRK1", "in_transit", "2024-08-07T10:00:00+00:00").moved_to == ""  # never backwards
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.DELIVERED
    assert shipment.order.status == Order.Status.DELIVERED
    kinds = [m.subject for m in mail.outbox]
    assert len(kinds) == 3  # out for delivery, the problem, delivered: one each, duplicates silent
    problem_mail = next(m for m in mail.outbox if "problem" in m.subject)
    assert "Recipient not home" in problem_mail.body and "Boston" in problem_mail.body
