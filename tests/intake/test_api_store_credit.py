"""A shop's backend sends an order paid with the customer's store credit code."""

import json
from decimal import Decimal

import pytest

from orders.models import Channel, Order
from orders.services import order_capture
from tests.conftest import make_order_input
from tests.returns.helpers import balance_of, credit_issue

from .conftest import order_body

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders"


def post(client, url, body, auth):
    return client.post(url, data=json.dumps(body), content_type="application/json", **auth)


@pytest.fixture
def issue(auth, widgets):
    """Issue a store credit to ada@example.com (the API bodies' customer), from an earlier order."""
    source = order_capture(
        channel=Channel.objects.get(code="web"),
        data=make_order_input(lines=[("GIZMO-3", 1, "4.50")], email="someone@example.com"),
    )

    def issue(amount):
        return credit_issue(order=source, amount=amount, email="ada@example.com")

    return issue


def credit_body(code, amount="69.00"):
    return order_body(
        payment={"method": "store_credit", "status": "pending", "reference": code, "amount": amount}
    )


def test_order_paid_with_store_credit_is_created_allocated_and_paid(client, auth, issue):
    credit = issue("100.00")
    response = post(client, URL, credit_body(credit.code), auth)

    assert response.status_code == 201, response.content
    reply = response.json()
    assert (reply["status"], reply["holds"]) == ("allocated", [])
    assert Order.objects.get(number=reply["number"]).payment_status == "paid"
    assert balance_of(credit) == Decimal("31.00")


def test_store_credit_short_of_the_amount_is_created_on_hold_saying_what_is_left(client, auth, issue):
    credit = issue("12.00")
    response = post(client, URL, credit_body(credit.code), auth)

    assert response.status_code == 201, response.content
    reply = response.json()
    assert reply["status"] == "on_hold"
    assert reply["holds"] == [
        {
            "reason": "payment",
            "detail": f"Store credit {credit.code} has only 12.00 USD left; the order needs 69.00 USD.",
        }
    ]
    assert balance_of(credit) == Decimal("12.00")


def test_cancelling_through_the_api_gives_the_credit_back(client, auth, issue):
    credit = issue("100.00")
    number = post(client, URL, credit_body(credit.code), auth).json()["number"]
    response = post(client, f"{URL}/{number}/cancel", {"reason": "Customer asked"}, auth)

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert balance_of(credit) == Decimal("100.00")
