"""The EasyPost gateway against EasyPost's own recorded answers (official client, unchanged,
pointed at a local server with EASYPOST_API_BASE): rates, purchase, label formats, void, return
labels, address checks and error replies, in our terms."""

import json
from decimal import Decimal

import pytest

from connectors.easypost.gateway import EasyPostGateway
from fulfillment.gateway import (
    CarrierRefused,
    CarrierUnavailable,
    LabelFormat,
    Parcel,
    PostalAddress,
    ShipmentRequest,
    carrier_gateway_for,
)
from tests.factories import CarrierFactory

from .easypost_replay import PDF, PNG, ZPL, interactions, recorded

CASSETTE_SHIPMENT = "shp_16578f588f9546ec914afd2474e24ff5"
SHOP = PostalAddress(name="Jack Sparrow", line1="388 Townsend St", line2="Apt 20", city="San Francisco",
                     region="CA", postal_code="94107", country="US")  # fmt: skip
CUSTOMER = PostalAddress(name="Elizabeth Swan", line1="179 N Harbor Dr", city="Redondo Beach", region="CA",
                         postal_code="90277", country="US", email="liz@example.com")  # fmt: skip


def request(**overrides) -> ShipmentRequest:
    data = {
        "reference": "SO-TEST-1",
        "ship_from": SHOP,
        "ship_to": CUSTOMER,
        "parcel": Parcel(weight_grams=437, length_mm=254, width_mm=203, height_mm=102),
        "currency": "USD",
        "label_format": LabelFormat.PNG,
        **overrides,
    }
    return ShipmentRequest(**data)


def sent(replay, method, path) -> dict:
    (req,) = replay.requests(method, path)
    return json.loads(req.get_data() or b"{}")


def test_not_configured_without_a_key_falls_back_to_manual(settings, db):
    settings.EASYPOST_API_KEY = ""
    carrier = CarrierFactory(gateway="easypost")
    assert not EasyPostGateway().is_configured()
    assert carrier_gateway_for(carrier).code == "manual"


def test_rates_in_our_terms_whatever_order_easypost_lists_them(easypost):
    easypost.cassette("easypost-python__test_shipment_lowest_rate.yaml")
    quote = EasyPostGateway().rates(
        request=request(carrier_accounts=("ca_b25657e9896e4d63ac8151ac346ac41e",))
    )
    assert quote.reference == "shp_e9dc4b01c43d4047989d0844ccc0e90d"
    assert [r.service for r in quote.rates] == ["Priority", "GroundAdvantage", "Express"]  # as listed
    cheapest = min(quote.rates, key=lambda r: r.price.amount)
    assert (cheapest.service, cheapest.price.amount, cheapest.price.currency) == (
        "GroundAdvantage",
        Decimal("6.07"),
        "USD",
    )
    assert cheapest.delivery_days == 3 and cheapest.carrier_account == "ca_b25657e9896e4d63ac8151ac346ac41e"
    body = sent(easypost, "POST", "/v2/shipments")["shipment"]
    # Our units become EasyPost's, rounded up: 437 g = 15.5 oz, 254 mm = 10 in.
    assert body["parcel"] == {"weight": 15.5, "length": 10.0, "width": 8.0, "height": 4.1}
    assert body["options"] == {"label_format": "PNG", "label_size": "4x6", "currency": "USD"}
    assert body["to_address"]["street1"] == "179 N Harbor Dr" and body["to_address"]["zip"] == "90277"
    assert body["carrier_accounts"] == ["ca_b25657e9896e4d63ac8151ac346ac41e"]
    assert "is_return" not in body


def test_buy_returns_the_label_its_file_and_the_fees_to_the_cent(easypost):
    easypost.cassette("easypost-python__test_shipment_buy.yaml")
    gateway = EasyPostGateway()
    quote = gateway.rates(request=request())
    ground = next(r for r in quote.rates if r.service == "GroundAdvantage")
    label = gateway.buy(quote_reference=quote.reference, rate=ground, label_format=LabelFormat.PNG)
    assert label.reference == CASSETTE_SHIPMENT
    assert label.tracking_number == "9400100208303109505657"
    assert (label.carrier, label.service) == ("USPS", "GroundAdvantage")
    assert label.postage.amount == Decimal("6.07000") and label.postage.rounded == Decimal("6.07")
    assert label.format == LabelFormat.PNG and label.document == PNG
    assert sent(easypost, "POST", f"/v2/shipments/{CASSETTE_SHIPMENT}/buy") == {
        "rate": {"id": "rate_4d1f36fa716c4b1292cacbdf19227c2d"}
    }


def test_insurance_fee_with_five_decimals_is_summed_then_rounded_once(easypost):
    easypost.respond(
        "POST", "/v2/shipments/shp_x/buy", "easypost_examples__docs_responses_shipments_shipments-buy.json"
    )
    label = EasyPostGateway().buy(
        quote_reference="shp_x",
        rate=_rate("rate_5d76435160da498fb8976b64f9f69b06"),
        label_format=LabelFormat.PNG,
    )
    # PostageFee 8.20000 + InsuranceFee 1.24995 = 9.44995, paid 9.45 (not 8.20, the rate alone).
    assert label.postage.amount == Decimal("9.44995") and label.postage.rounded == Decimal("9.45")
    assert label.tracker_reference == "trk_bebe7357cc7e4ebc9248bdd7191084af"


def _rate(rate_id):
    from fulfillment.gateway import Money, Rate

    return Rate(
        rate_id=rate_id, carrier="USPS", service="GroundAdvantage", price=Money(Decimal("8.20"), "USD")
    )


@pytest.mark.parametrize(
    ("fmt", "document", "suffix"), [(LabelFormat.ZPL, ZPL, ".zpl"), (LabelFormat.PDF, PDF, ".pdf")]
)
def test_label_in_the_station_format_is_converted_when_the_purchase_gave_png(easypost, fmt, document, suffix):
    easypost.cassette("easypost-python__test_shipment_buy.yaml")
    label_answer = recorded("easypost_examples__docs_responses_shipments_shipments-label.json")
    if fmt == LabelFormat.PDF:  # the docs record ZPL; the PDF answer fills label_pdf_url the same way
        label_answer["postage_label"]["label_pdf_url"] = label_answer["postage_label"][
            "label_zpl_url"
        ].replace(".zpl", ".pdf")
    easypost.respond("GET", f"/v2/shipments/{CASSETTE_SHIPMENT}/label", label_answer)
    gateway = EasyPostGateway()
    quote = gateway.rates(request=request(label_format=fmt))
    label = gateway.buy(quote_reference=quote.reference, rate=quote.rates[2], label_format=fmt)
    (convert,) = easypost.requests("GET", f"/v2/shipments/{CASSETTE_SHIPMENT}/label")
    assert convert.args["file_format"] == fmt.upper()
    assert label.format == fmt and label.url.endswith(suffix) and label.document == document
    assert label.tracking_number == "9400100208303109505657"  # the purchase's, not the docs'


def test_void_asks_for_the_refund_and_reports_its_status(easypost):
    easypost.cassette("easypost-python__test_shipment_refund.yaml", only=slice(1, 2))
    result = EasyPostGateway().void(label_reference="shp_700d2963c43b4847883c955eeb846b13")
    assert result.refund_status == "submitted" and result.accepted


def test_return_label_rates_ask_for_a_return_shipment(easypost):
    easypost.respond("POST", "/v2/shipments", "easypost_examples__docs_responses_returns_returns-create.json")
    quote = EasyPostGateway().rates(request=request(ship_from=CUSTOMER, ship_to=SHOP, is_return=True))
    body = sent(easypost, "POST", "/v2/shipments")["shipment"]
    assert body["is_return"] is True
    assert body["from_address"]["name"] == "Elizabeth Swan"  # the parcel travels from the customer
    assert sorted(r.price.amount for r in quote.rates) == [
        Decimal("8.20"),
        Decimal("11.01"),
        Decimal("51.20"),
    ]


def test_address_verified_with_the_carrier_s_standard_form(easypost):
    easypost.cassette("easypost-python__test_address_create_and_verify.yaml")
    check = EasyPostGateway().verify_address(address=SHOP)
    assert check.deliverable is True
    assert check.suggestion.line1 == "388 TOWNSEND ST APT 20" and check.suggestion.postal_code == "94107-1670"
    assert "postal_code" in check.corrected_fields


def _verify_failure(**suggested) -> dict:
    """The recorded 422 of `GET /addresses/{id}/verify` (the invalid-address cassette), which
    create_and_verify answers the same way; `suggested` fills a field error's suggestion."""
    body = json.loads(
        interactions("easypost-python__test_address_verify_invalid_address.yaml")[1]["response"]["body"][
            "string"
        ]
    )
    for error in body["error"]["errors"]:
        if error["field"] in suggested:
            error["suggestion"] = suggested[error["field"]]
    return body


def test_address_the_carrier_can_t_deliver_to_has_its_reasons(easypost):
    easypost.respond("POST", "/v2/addresses/create_and_verify", _verify_failure(), status=422)
    check = EasyPostGateway().verify_address(address=PostalAddress(line1="invalid", country="US"))
    assert check.deliverable is False and check.suggestion is None
    assert check.messages == ("Address not found", "House number is missing")


def test_undeliverable_address_with_the_carrier_s_suggestion(easypost):
    easypost.respond(
        "POST", "/v2/addresses/create_and_verify", _verify_failure(street1="179 N Harbor Dr"), status=422
    )
    check = EasyPostGateway().verify_address(
        address=CUSTOMER.__class__(**{**CUSTOMER.__dict__, "line1": "N Harbor Dr"})
    )
    assert check.deliverable is False
    assert check.suggestion.line1 == "179 N Harbor Dr" and check.suggestion.city == "Redondo Beach"


def test_an_error_reply_is_refused_with_easypost_s_words(easypost):
    easypost.cassette("easypost-python__test_error.yaml")
    with pytest.raises(CarrierRefused) as refused:
        EasyPostGateway().rates(request=request())
    assert "Missing required parameter" in str(refused.value) and "shipment cannot be blank" in str(
        refused.value
    )
    assert refused.value.code == "PARAMETER.REQUIRED"


def test_a_time_out_is_unavailable_not_refused(easypost):
    easypost.cassette("easypost-python__test_shipment_create.yaml", delay={0: 3})
    with pytest.raises(CarrierUnavailable):
        EasyPostGateway().rates(request=request())


def test_a_server_error_is_unavailable(easypost):
    easypost.respond("POST", "/v2/shipments", {"error": {"code": "INTERNAL", "message": "boom"}}, status=503)
    with pytest.raises(CarrierUnavailable):
        EasyPostGateway().rates(request=request())
