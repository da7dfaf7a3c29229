"""Labels at the packing station through the carrier gateway: the right rate is bought once,
with EasyPost's recorded answers replayed by a local server; void, repack, override, policy,
refusals, a retried purchase, a pick list's labels at once, and the manual gateway as before."""

import io
import json
from decimal import Decimal

import pytest
from pypdf import PdfReader

from core.models import Delivery
from fulfillment.batch import pick_list_labels_buy, pick_list_labels_document
from fulfillment.labels import LabelNotBought, shipment_label_buy, shipment_label_void
from fulfillment.models import Box, LabelRecord, PackingStation, PickList, Shipment, ShippingLabel
from fulfillment.packing import shipment_repack
from fulfillment.services import shipment_pack, shipment_ship
from orders.models import Channel
from tests.connectors.easypost_replay import PDF, ZPL, interactions

BUY = "easypost-python__test_shipment_buy.yaml"
SHP = "shp_16578f588f9546ec914afd2474e24ff5"
LS = LabelRecord.Status


@pytest.fixture
def packed(catalog, usps, ready_shipment):
    def make(lines=(("MUG-1", 1),), **overrides):
        shipment = ready_shipment(list(lines), **overrides)
        shipment_pack(shipment_id=shipment.pk)
        shipment.refresh_from_db()
        return shipment

    return make


@pytest.fixture
def station(db):
    box = Box.objects.create(
        code="BOX-M", name="Medium", length_mm=254, width_mm=203, height_mm=102, weight_grams=137
    )
    return PackingStation.objects.create(name="Desk 1", label_format="png", default_box=box)


def buy_requests(easypost):
    return easypost.requests("POST", rf"/v2/shipments/{SHP}/buy")


@pytest.mark.django_db
def test_the_rules_choice_is_bought_and_stored_on_the_shipment(easypost, packed, station, usps):
    easypost.cassette(BUY)
    shipment = packed()
    assert shipment.service_level == usps["GroundAdvantage"]
    outcome = shipment_label_buy(shipment_id=shipment.pk, station=station)
    label = outcome.label
    assert (label.status, label.reference, label.tracking_number) == (
        LS.BOUGHT,
        SHP,
        "9400100208303109505657",
    )
    assert (label.carrier_name, label.service_name, label.postage, label.currency) == (
        "USPS", "GroundAdvantage", Decimal("6.07"), "USD",
    )  # fmt: skip
    assert bytes(label.document)[:4] == b"\x89PNG"
    shipment.refresh_from_db()
    assert shipment.tracking_number == "9400100208303109505657"
    assert (shipment.postage_cost, shipment.postage_currency) == (Decimal("6.07"), "USD")
    assert shipment.box.code == "BOX-M" and shipment.weight_grams == 300 + 137  # mug + box
    note = shipment.order.events.filter(kind="note").last().message
    assert "Label bought" in note and "rate of the chosen service" in note
    # Only our USPS account is rated; the parcel in EasyPost's units.
    (create,) = easypost.requests("POST", "/v2/shipments")
    assert create.json["shipment"]["carrier_accounts"] == ["ca_b25657e9896e4d63ac8151ac346ac41e"]
    assert create.json["shipment"]["parcel"]["weight"] == 15.5
    # Buying again is a no-op, and shipping uses the label's number.
    assert shipment_label_buy(shipment_id=shipment.pk, station=station).label.pk == label.pk
    assert len(buy_requests(easypost)) == 1
    shipped = shipment_ship(shipment_id=shipment.pk)
    assert shipped.tracking_number == "9400100208303109505657"


@pytest.mark.django_db
def test_a_purchase_retried_after_a_time_out_buys_once(easypost, packed, station):
    easypost.cassette(BUY, delay={1: 3})  # the purchase answers after the client gave up (2 s)
    shipment = packed()
    with pytest.raises(LabelNotBought, match="Nothing is bought twice"):
        shipment_label_buy(shipment_id=shipment.pk, station=station)
    label = ShippingLabel.objects.get(shipment=shipment)
    assert (label.status, label.reference) == (LS.BUYING, SHP)  # the id was kept before buying
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED and shipment.tracking_number == ""
    # EasyPost did buy it: retrieving the shipment shows the label (its recorded purchase answer).
    bought = interactions(BUY)[1]["response"]["body"]["string"]
    easypost.respond("GET", f"/v2/shipments/{SHP}", json.loads(bought))
    outcome = shipment_label_buy(shipment_id=shipment.pk, station=station)
    assert outcome.label.tracking_number == "9400100208303109505657"
    assert len(buy_requests(easypost)) == 1  # never a second purchase
    assert ShippingLabel.objects.filter(shipment=shipment).count() == 1


@pytest.mark.django_db
def test_a_retry_finding_nothing_bought_buys_the_same_rate(easypost, packed, station):
    easypost.cassette(BUY, only=slice(0, 1))
    easypost.respond(
        "POST", f"/v2/shipments/{SHP}/buy", {"error": {"code": "X", "message": "busy"}}, status=503
    )
    shipment = packed()
    with pytest.raises(LabelNotBought):
        shipment_label_buy(shipment_id=shipment.pk, station=station)
    created = interactions(BUY)[0]["response"]["body"]["string"]
    easypost.respond("GET", f"/v2/shipments/{SHP}", json.loads(created))  # not bought
    easypost.cassette(BUY, only=slice(1, 2))
    label = shipment_label_buy(shipment_id=shipment.pk, station=station).label
    assert label.status == LS.BOUGHT
    assert [r.json for r in buy_requests(easypost)][-1] == {
        "rate": {"id": "rate_4d1f36fa716c4b1292cacbdf19227c2d"}
    }


@pytest.mark.django_db
def test_no_rate_for_the_chosen_service_leaves_it_packed_then_staff_override(easypost, packed, station, usps):
    easypost.cassette(BUY, only=slice(0, 1))
    level = usps["GroundAdvantage"]
    level.gateway_service = "ParcelSelect"  # a service EasyPost doesn't offer for this parcel
    level.save()
    shipment = packed()
    with pytest.raises(LabelNotBought, match="No rate for USPS Ground Advantage") as refused:
        shipment_label_buy(shipment_id=shipment.pk, station=station)
    assert "USPS Priority" in str(refused.value)  # what was offered, for staff to choose from
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.PACKED
    label = ShippingLabel.objects.get(shipment=shipment)
    assert label.status == LS.QUOTED and not buy_requests(easypost)
    with pytest.raises(LabelNotBought, match="Say why"):
        shipment_label_buy(
            shipment_id=shipment.pk, station=station, rate_id="rate_5b67424f63314af1b997aa72d45e41be"
        )
    easypost.respond("POST", f"/v2/shipments/{SHP}/buy", bought_as("Priority"))
    outcome = shipment_label_buy(
        shipment_id=shipment.pk,
        station=station,
        rate_id="rate_5b67424f63314af1b997aa72d45e41be",  # Priority
        reason="customer asked for Priority on the phone",
    )
    assert outcome.label.pk == label.pk and outcome.label.override_reason.startswith("customer asked")
    assert (outcome.label.service_name, outcome.label.postage) == ("Priority", Decimal("7.42"))
    shipment.refresh_from_db()
    assert shipment.service_level == usps["Priority"]
    note = shipment.order.events.filter(kind="note").last().message
    assert "customer asked for Priority on the phone" in note and "Carrier service changed" in note


@pytest.mark.django_db
@pytest.mark.parametrize(("speed", "bought"), [("standard", "GroundAdvantage"), ("overnight", "Express")])
def test_cheapest_rate_that_meets_the_promised_date(easypost, packed, station, channel, clock, speed, bought):
    channel.label_rate = Channel.LabelRate.CHEAPEST_ON_TIME
    channel.save()
    easypost.cassette(BUY, only=slice(0, 1))
    easypost.respond("POST", f"/v2/shipments/{SHP}/buy", bought_as(bought))
    shipment = packed(shipping_speed=speed)
    shipment_label_buy(shipment_id=shipment.pk, station=station)
    rate_ids = {
        "GroundAdvantage": "rate_4d1f36fa716c4b1292cacbdf19227c2d",
        "Express": "rate_c4f7e5ff2f4c4c1394fc750a3260755f",
    }
    assert buy_requests(easypost)[0].json == {"rate": {"id": rate_ids[bought]}}


def bought_as(service: str) -> dict:
    """The recorded purchase answer, as if the `service` rate of the same shipment had been
    bought (its selected rate and postage fee), for tests that buy another rate than recorded."""
    body = json.loads(interactions(BUY)[1]["response"]["body"]["string"])
    rate = next(r for r in body["rates"] if r["service"] == service)
    body["selected_rate"] = rate
    for fee in body["fees"]:
        if fee["type"] == "PostageFee":
            fee["amount"] = f"{Decimal(rate['rate']):.5f}"
    return body


@pytest.mark.django_db
def test_a_refused_purchase_is_said_and_nothing_is_stored(easypost, packed, station):
    easypost.cassette(BUY, only=slice(0, 1))
    error = {"error": {"code": "SHIPMENT.POSTAGE.FAILURE", "message": "Insufficient funds.", "errors": []}}
    easypost.respond("POST", f"/v2/shipments/{SHP}/buy", error, status=422)
    shipment = packed()
    with pytest.raises(LabelNotBought, match="Insufficient funds"):
        shipment_label_buy(shipment_id=shipment.pk, station=station)
    label = ShippingLabel.objects.get(shipment=shipment)
    assert label.status == LS.FAILED and "Insufficient funds" in label.message
    shipment.refresh_from_db()
    assert shipment.tracking_number == "" and shipment.postage_cost is None


@pytest.mark.django_db
def test_an_invalid_address_is_a_clear_message(easypost, packed, station):
    easypost.respond("POST", "/v2/shipments", _address_error(), status=422)
    shipment = packed()
    with pytest.raises(LabelNotBought, match="No rates: EasyPost: Unable to verify address"):
        shipment_label_buy(shipment_id=shipment.pk, station=station)
    assert not ShippingLabel.objects.filter(shipment=shipment).exists()


def _address_error():
    import json

    cassette = interactions("easypost-python__test_address_verify_invalid_address.yaml")
    return json.loads(cassette[1]["response"]["body"]["string"])


@pytest.mark.django_db
def test_void_asks_easypost_for_the_refund_after_commit(
    easypost, packed, station, django_capture_on_commit_callbacks
):
    easypost.cassette(BUY)
    shipment = packed()
    label = shipment_label_buy(shipment_id=shipment.pk, station=station).label
    refund = json.loads(
        interactions("easypost-python__test_shipment_refund.yaml")[1]["response"]["body"]["string"]
    )
    easypost.respond("POST", f"/v2/shipments/{SHP}/refund", refund)
    with pytest.raises(LabelNotBought, match="Say why"):
        shipment_label_void(shipment_id=shipment.pk, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        shipment_label_void(shipment_id=shipment.pk, reason="label smudged")
    label.refresh_from_db()
    assert (label.status, label.refund_status) == (LS.VOIDED, "submitted")
    assert Delivery.objects.get(topic="fulfillment.label_void").status == Delivery.Status.DELIVERED
    shipment.refresh_from_db()
    assert shipment.tracking_number == "" and shipment.postage_cost is None
    assert "postage refund" in shipment.order.events.filter(kind="note").last().message


@pytest.mark.django_db
def test_repacking_voids_the_label_and_opens_the_box(
    easypost, packed, station, django_capture_on_commit_callbacks
):
    easypost.cassette(BUY)
    easypost.cassette("easypost-python__test_shipment_refund.yaml", only=slice(1, 2))
    shipment = packed()
    label = shipment_label_buy(shipment_id=shipment.pk, station=station).label
    # The refund cassette is for its own shipment id; serve its answer at ours.
    easypost.respond("POST", f"/v2/shipments/{SHP}/refund", _refund_body())
    with django_capture_on_commit_callbacks(execute=True):
        shipment_repack(shipment_id=shipment.pk, reason="wrong box")
    shipment.refresh_from_db()
    label.refresh_from_db()
    assert shipment.status == Shipment.Status.PICKING and set(
        shipment.lines.values_list("quantity_packed", flat=True)
    ) == {0}
    assert label.status == LS.VOIDED


def _refund_body():
    import json

    return json.loads(
        interactions("easypost-python__test_shipment_refund.yaml")[1]["response"]["body"]["string"]
    )


@pytest.mark.django_db
def test_a_refused_void_is_kept_for_staff(easypost, packed, station, django_capture_on_commit_callbacks):
    easypost.cassette(BUY)
    shipment = packed()
    label = shipment_label_buy(shipment_id=shipment.pk, station=station).label
    error = {"error": {"code": "SHIPMENT.REFUND.UNAVAILABLE", "message": "Too late to refund.", "errors": []}}
    easypost.respond("POST", f"/v2/shipments/{SHP}/refund", error, status=422)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_label_void(shipment_id=shipment.pk, reason="cancelled")
    label.refresh_from_db()
    assert label.status == LS.VOID_REFUSED and "Too late" in label.message
    assert Delivery.objects.get(topic="fulfillment.label_void").status == Delivery.Status.DEAD


@pytest.mark.django_db
@pytest.mark.parametrize(("fmt", "check"), [("zpl", "zpl"), ("pdf", "pdf")])
def test_a_pick_list_s_labels_are_bought_and_printed_as_one_document(
    easypost, packed, usps, warehouse, fmt, check
):
    station = PackingStation.objects.create(name="Thermal", label_format=fmt)
    shipments = [packed(), packed(lines=(("TEA-1", 2),))]
    pick_list = PickList.objects.create(number="PL-1", warehouse=warehouse)
    Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(pick_list=pick_list)
    label_answer = json.loads(
        (__import__("tests.connectors.easypost_replay", fromlist=["FIXTURES"]).FIXTURES
         / "easypost_examples__docs_responses_shipments_shipments-label.json").read_text()
    )  # fmt: skip
    if fmt == "pdf":
        pl = label_answer["postage_label"]
        pl["label_pdf_url"] = pl["label_zpl_url"].replace(".zpl", ".pdf")
    for _ in shipments:
        easypost.cassette(BUY)
        easypost.respond("GET", f"/v2/shipments/{SHP}/label", label_answer)
    result = pick_list_labels_buy(pick_list_id=pick_list.pk, station=station)
    assert len(result.bought) == 2 and not result.failed
    again = pick_list_labels_buy(pick_list_id=pick_list.pk, station=station)  # nothing bought twice
    assert len(buy_requests(easypost)) == 2 and len(again.bought) == 2
    document = pick_list_labels_document(pick_list=pick_list, label_format=fmt)
    if check == "zpl":
        assert document == ZPL + ZPL
    else:
        assert len(PdfReader(io.BytesIO(document)).pages) == 2 and PDF[:5] == document[:5]


@pytest.mark.django_db
def test_the_manual_gateway_buys_nothing(packed, station, usps, settings):
    settings.EASYPOST_API_KEY = ""  # EasyPost not configured: its carriers fall back to manual
    shipment = packed()
    with pytest.raises(LabelNotBought, match="type the tracking number"):
        shipment_label_buy(shipment_id=shipment.pk, station=station)
    assert shipment_ship(shipment_id=shipment.pk).tracking_number.startswith("LC")


@pytest.mark.django_db
def test_easypost_s_tracker_for_the_bought_label_feeds_the_existing_webhook(
    easypost, packed, station, client, settings
):
    """EasyPost creates a tracker with every label it sells; its events reach
    /webhooks/carriers/easypost and land on the shipment by the label's tracking number."""
    from connectors.easypost.signature import easypost_signature
    from tests.connectors.easypost import FIXTURES as EVENTS

    settings.EASYPOST_WEBHOOK_SECRET = "s3cret"
    easypost.cassette(BUY)
    shipment = packed()
    shipment_label_buy(shipment_id=shipment.pk, station=station)
    tracker = json.loads(
        (EVENTS / "easypost_examples__docs_responses_trackers_trackers-retrieve.json").read_text()
    )
    tracker["tracking_code"] = "9400100208303109505657"  # the recorded tracker, for our label's number
    body = json.dumps({"description": "tracker.updated", "result": tracker}).encode()
    response = client.post(
        "/webhooks/carriers/easypost",
        body,
        content_type="application/json",
        headers={"X-Hmac-Signature": easypost_signature(body=body, secret="s3cret")},
    )
    assert response.json()["unmatched"] == 0
    assert shipment.tracking_events.count() == response.json()["new"] > 0
