"""A bad address is caught at capture: with a gateway that verifies (EasyPost, its recorded
answers replayed), an address the carrier can't deliver to holds the order with the carrier's
reasons and suggestion; customer service takes the suggestion (a step on the order page) or
edits the address and releases. Without EasyPost nothing is asked, as before."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from orders.inputs import AddressInput
from orders.models import Order, OrderHold
from orders.services import order_capture, order_release_hold
from tests.connectors.easypost_replay import interactions
from tests.factories import ProductFactory, stock_put

VERIFY = "/v2/addresses/create_and_verify"


def failure(**suggested) -> dict:
    """The recorded 422 ADDRESS.VERIFY.FAILURE (invalid-address cassette), which
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


@pytest.fixture
def stocked(db, warehouse):
    stock_put(ProductFactory(sku="MUG-1"), warehouse, 50)


def capture(channel, order_input, **address):
    data = order_input(lines=[("MUG-1", 1, "10.00")])
    if address:
        data.shipping_address = AddressInput(**{**data.shipping_address.__dict__, **address})
    return order_capture(channel=channel, data=data)


@pytest.mark.django_db
def test_without_easypost_no_carrier_is_asked(stocked, channel, order_input, settings):
    settings.EASYPOST_API_KEY = ""
    assert capture(channel, order_input).status == Order.Status.ALLOCATED


@pytest.mark.django_db
def test_an_address_the_carrier_delivers_to_passes(stocked, channel, order_input, easypost):
    easypost.cassette("easypost-python__test_address_create_and_verify.yaml")
    order = capture(channel, order_input)
    assert order.status == Order.Status.ALLOCATED
    (sent,) = easypost.requests("POST", VERIFY)
    assert sent.json["address"]["street1"] == "12 Analytical Way" and sent.json["address"]["zip"] == "10001"


@pytest.mark.django_db
def test_an_undeliverable_address_is_held_with_the_carrier_s_reasons(stocked, channel, order_input, easypost):
    easypost.respond("POST", VERIFY, failure(), status=422)
    order = capture(channel, order_input, line1="invalid")
    assert order.status == Order.Status.ON_HOLD
    hold = order.holds.get()
    assert hold.reason == OrderHold.Reason.ADDRESS and hold.suggestion is None
    assert (
        hold.detail == "EasyPost can't deliver to this address: Address not found; House number is missing."
    )


@pytest.mark.django_db
def test_a_carrier_that_can_t_be_asked_holds_nothing(stocked, channel, order_input, easypost):
    easypost.respond("POST", VERIFY, {"error": {"code": "X", "message": "down"}}, status=503)
    assert capture(channel, order_input).status == Order.Status.ALLOCATED


@pytest.mark.django_db
def test_customer_service_takes_the_suggestion_and_the_order_goes_on(
    stocked, channel, order_input, easypost, client
):
    easypost.respond("POST", VERIFY, failure(street1="12 ANALYTICAL WAY"), status=422)
    order = capture(channel, order_input, line1="Analytical Way")
    hold = order.holds.get()
    assert hold.suggestion["line1"] == "12 ANALYTICAL WAY"
    assert "Suggested: 12 ANALYTICAL WAY, 10001 New York, NY, US" in hold.detail
    easypost.cassette("easypost-python__test_address_create_and_verify.yaml")  # the suggestion verifies

    agent = get_user_model().objects.create_user("cs", password="pw-123-pw", is_staff=True)
    from django.contrib.auth.models import Group

    from core.roles import ensure_staff_groups

    ensure_staff_groups()
    agent.groups.add(Group.objects.get(name="Customer service"))
    client.force_login(agent)
    url = reverse("admin:orders_order_object_action", args=[order.pk, "accept_address"])
    page = client.get(url)
    assert page.status_code == 200 and b"Use the carrier" in page.content
    response = client.post(url, {"confirmed": "yes"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.shipping_address.line1 == "12 ANALYTICAL WAY"
    assert order.status == Order.Status.ALLOCATED
    assert "carrier's suggestion" in order.events.filter(kind="note").last().message


@pytest.mark.django_db
def test_or_edits_the_address_and_releases(stocked, channel, order_input, easypost):
    easypost.respond("POST", VERIFY, failure(), status=422)
    order = capture(channel, order_input, line1="invalid")
    order.shipping_address.line1 = "12 Analytical Way"
    order.shipping_address.save()
    easypost.cassette("easypost-python__test_address_create_and_verify.yaml")
    assert order_release_hold(order_id=order.pk).status == Order.Status.ALLOCATED
