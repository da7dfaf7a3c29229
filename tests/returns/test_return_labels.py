"""Prepaid return labels: bought through EasyPost (its recorded `is_return` shipment, replayed)
when an approved return's postage is on the shop, shown and downloadable on the customer's
return page, e-mailed with the label attached, and followed by its tracking: on its way back,
delivered to us, then received at the desk."""

import json

import pytest
from django.core import mail
from django.urls import reverse

from core.models import Delivery
from fulfillment.models import LabelRecord
from fulfillment.tracking import shipment_record_tracking_event
from orders.links import order_tracking_token
from returns.models import ReturnLabel, ReturnRequest
from returns.services import return_request_approve, return_request_create, return_request_receive
from tests.connectors.easypost_replay import PDF, recorded
from tests.factories import ProductFactory, stock_put

from .helpers import delivered_order

RETURN_SHIPMENT = "shp_18efc5c59c4b4bc598eb47070948cec8"  # the docs' returns-create answer


@pytest.fixture
def order(db, channel, warehouse, usps, order_input):
    stock_put(ProductFactory(sku="WIDGET-1", weight_grams=500), warehouse, 10)
    return delivered_order(channel, order_input)


def returned(order, reason):
    line = order.lines.get()
    return return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason=reason)


def bought_return() -> dict:
    """EasyPost's docs answer for a return shipment (`is_return: true`, three rates, no label)
    as it reads once its GroundAdvantage rate is bought: the label fields of the docs' purchase
    answer for the same rate (those docs record the two calls apart, with their own ids)."""
    body = recorded("easypost_examples__docs_responses_returns_returns-create.json")
    buy = recorded("easypost_examples__docs_responses_shipments_shipments-buy.json")
    body["selected_rate"] = next(r for r in body["rates"] if r["service"] == "GroundAdvantage")
    for key in ("tracking_code", "postage_label", "tracker"):
        body[key] = buy[key]
    body["postage_label"]["label_pdf_url"] = body["postage_label"]["label_url"].replace(".png", ".pdf")
    body["fees"] = [
        {"object": "Fee", "type": "PostageFee", "amount": "8.20000", "charged": True, "refunded": False}
    ]
    return body


@pytest.fixture
def return_rates(easypost, usps):
    """The recorded return shipment is rated on the docs' USPS account: ours is set up on it."""
    carrier = usps["GroundAdvantage"].carrier
    carrier.gateway_account_id = "ca_9685a1198a75477885a3cdca37559bac"
    carrier.save()
    easypost.respond("POST", "/v2/shipments", "easypost_examples__docs_responses_returns_returns-create.json")
    easypost.respond("POST", f"/v2/shipments/{RETURN_SHIPMENT}/buy", bought_return())
    return easypost


@pytest.mark.django_db
def test_a_free_return_gets_a_prepaid_label_by_e_mail_and_on_its_page(
    order, return_rates, client, django_capture_on_commit_callbacks
):
    rr = returned(order, "damaged")  # a free reason: the shop pays the way back
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        return_request_approve(return_id=rr.pk)
    label = ReturnLabel.objects.get(return_request=rr)
    assert (label.status, label.reference, label.tracking_number) == (
        LabelRecord.Status.BOUGHT, RETURN_SHIPMENT, "9434600208303109842228",
    )  # fmt: skip
    assert (label.postage, label.label_format, bytes(label.document)) == (label.postage, "pdf", PDF)
    (create,) = return_rates.requests("POST", "/v2/shipments")
    sent = create.json["shipment"]
    assert sent["is_return"] is True and sent["from_address"]["street1"] == "12 Analytical Way"
    assert sent["to_address"]["street1"] == "388 Townsend St"  # back to the warehouse
    assert sent["options"]["label_format"] == "PDF"
    assert Delivery.objects.get(topic="returns.return_label").status == Delivery.Status.DELIVERED

    subjects = {m.subject: m for m in mail.outbox}
    assert any("approved" in s for s in subjects)
    label_mail = subjects[f"Your prepaid return label for {rr.number}"]
    assert (
        label_mail.attachments[0][0] == f"return-label-{rr.number}.pdf"
        and label_mail.attachments[0][1] == PDF
    )
    assert "9434600208303109842228" in label_mail.body

    token = order_tracking_token(order_number=order.number)
    page = client.get(reverse("portal:return_done", args=[token, rr.number]))
    assert b"Your prepaid return label" in page.content and b"9434600208303109842228" in page.content
    download = client.get(reverse("portal:return_label", args=[token, rr.number]))
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Type"] == "application/pdf"


@pytest.mark.django_db
def test_a_paid_reason_gets_no_label_unless_the_channel_pays(
    order, easypost, channel, django_capture_on_commit_callbacks
):
    rr = returned(order, "changed_mind")
    with django_capture_on_commit_callbacks(execute=True):
        return_request_approve(return_id=rr.pk)
    assert not ReturnLabel.objects.exists() and not easypost.requests()
    channel.pays_return_shipping = True
    channel.save()
    other = ReturnRequest.objects.get(pk=rr.pk)
    from returns.labels import return_label_due

    assert return_label_due(other)


@pytest.mark.django_db
def test_its_tracking_moves_the_return_then_the_desk_receives_it(
    order, return_rates, django_capture_on_commit_callbacks
):
    rr = returned(order, "wrong_item")
    with django_capture_on_commit_callbacks(execute=True):
        return_request_approve(return_id=rr.pk)
    tracking = "9434600208303109842228"
    at = __import__("django.utils.timezone", fromlist=["now"]).now()
    shipment_record_tracking_event(
        tracking_number=tracking, carrier_status="in_transit", occurred_at=at, source="easypost"
    )
    rr.refresh_from_db()
    assert rr.status == ReturnRequest.Status.IN_TRANSIT
    shipment_record_tracking_event(
        tracking_number=tracking, carrier_status="delivered", occurred_at=at, source="easypost"
    )
    rr.refresh_from_db()
    assert rr.status == ReturnRequest.Status.DELIVERED
    messages = list(
        order.events.filter(kind="return", visible_to_customer=True).values_list("message", flat=True)
    )
    assert any("on its way back" in m for m in messages) and any(
        "delivered to our warehouse" in m for m in messages
    )
    return_request_receive(return_id=rr.pk)
    rr.refresh_from_db()
    assert rr.status == ReturnRequest.Status.RECEIVED


@pytest.mark.django_db
def test_a_refused_return_label_leaves_staff_a_note_and_a_button(
    order, easypost, usps, django_capture_on_commit_callbacks
):
    error = json.loads(
        '{"error": {"code": "PARAMETER.REQUIRED", "message": "Missing required parameter.", '
        '"errors": [{"field": "shipment", "message": "cannot be blank"}]}}'
    )  # the shape of EasyPost's recorded 422 (test_error cassette)
    easypost.respond("POST", "/v2/shipments", error, status=422)
    rr = returned(order, "damaged")
    with django_capture_on_commit_callbacks(execute=True):
        return_request_approve(return_id=rr.pk)
    assert Delivery.objects.get(topic="returns.return_label").status == Delivery.Status.DEAD
    assert "Return label for" in order.events.filter(kind="note").last().message
    from returns.admin import _may_buy_label

    assert _may_buy_label(ReturnRequest.objects.get(pk=rr.pk))
