"""The channel JSON API, as a shop's backend uses it."""

import datetime as dt
import io
import json
import re
from decimal import Decimal
from functools import partial

import pytest
from django.core import mail
from django.test import Client

from intake.keys import channel_api_key_create, channel_api_key_revoke, channel_api_key_rotate
from intake.models import InboundRequest
from intake.work import intake_work
from inventory.models import StockItem
from orders.links import order_number_from_token
from orders.models import Channel, Order
from orders.services import order_capture
from tests.conftest import make_order_input
from tests.factories import ChannelFactory
from tests.races import run_together
from tests.returns.helpers import balance_of, credit_issue

from .conftest import order_body

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders"


def post(client, body, auth, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **auth, **headers)


def test_clean_order_is_created_allocated_and_confirmed(
    client, auth, widgets, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, order_body(), auth)

    assert response.status_code == 201, response.content
    reply = response.json()
    order = Order.objects.get(number=reply["number"])
    assert reply["status"] == "allocated" == order.status
    assert order.total == Decimal("69.00")
    assert order.shipping_speed == "express"
    token = reply["tracking_url"].rsplit("/o/", 1)[1].strip("/")
    assert order_number_from_token(token) == order.number
    assert StockItem.objects.get(product__sku="WIDGET-1").reserved == 2
    (email,) = mail.outbox
    assert order.number in email.subject
    # The e-mail's own signed link (signed when it was rendered, so maybe a second later).
    (link,) = re.findall(r"https?://\S+/track/o/(\S+?)/", email.body)
    assert order_number_from_token(link) == order.number
    inbound = InboundRequest.objects.get()
    assert (inbound.outcome, inbound.order, inbound.response_status) == ("captured", order, 201)
    assert json.loads(inbound.body)["external_id"] == "WEB-1001"
    assert "authorization" not in inbound.headers


def test_unknown_sku_is_captured_on_hold_with_the_reason(client, auth, widgets):
    body = order_body(lines=[{"sku": "NOPE-9", "quantity": 1, "unit_price": "3.00"}])
    response = post(client, body, auth)

    assert response.status_code == 201
    reply = response.json()
    assert reply["status"] == "on_hold"
    assert [h["reason"] for h in reply["holds"]] == ["unknown_sku"]
    assert "NOPE-9" in reply["holds"][0]["detail"]
    assert InboundRequest.objects.get().outcome == "held"


def test_replay_of_the_same_external_id_returns_the_same_order(client, auth, widgets):
    first = post(client, order_body(), auth)
    second = post(client, order_body(), auth)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["number"] == second.json()["number"]
    assert Order.objects.count() == 1
    assert StockItem.objects.get(product__sku="WIDGET-1").reserved == 2
    assert list(InboundRequest.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "captured",
        "duplicate",
    ]


def test_idempotency_key_replays_the_first_reply_and_refuses_a_different_body(client, auth, widgets):
    first = post(client, order_body(), auth, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(client, order_body(), auth, HTTP_IDEMPOTENCY_KEY="k-1")
    other = post(client, order_body(external_id="WEB-2"), auth, HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert other.status_code == 409
    assert "different request body" in other.json()["detail"]
    assert Order.objects.count() == 1


def test_a_reused_external_id_with_a_different_body_is_a_409_naming_the_order(client, auth, widgets):
    number = post(client, order_body(), auth).json()["number"]
    other = order_body(lines=[{"sku": "GIZMO-3", "quantity": 5, "unit_price": "4.50"}])

    response = post(client, other, auth)

    assert response.status_code == 409, response.content
    reply = response.json()
    assert (
        reply["detail"]
        == f"external_id WEB-1001 was already used for order {number} with different contents."
    )
    assert number in reply["errors"]["external_id"]
    assert Order.objects.count() == 1
    assert list(Order.objects.get().lines.values_list("sku", flat=True)) == ["WIDGET-1", "GADGET-2"]
    assert StockItem.objects.get(product__sku="GIZMO-3").reserved == 0
    refused = InboundRequest.objects.order_by("pk").last()
    assert (refused.outcome, refused.response_status, refused.order) == ("invalid", 409, None)
    assert number in refused.error


def test_the_same_body_written_differently_is_the_same_order(client, auth, widgets):
    number = post(client, order_body(), auth).json()["number"]
    same = order_body(currency="usd", payment=None)
    same["payment"] = {"amount": 69, "reference": "ch_1", "status": "authorized", "method": " card "}
    same["lines"][0]["unit_price"] = "25"
    same["billing_address"] = None  # a default, written out
    same["not_ours"] = {"ignored": True}
    raw = json.dumps(dict(reversed(list(same.items()))), indent=3)

    response = post(client, raw, auth)

    assert response.status_code == 200, response.content
    assert response.json()["number"] == number
    assert InboundRequest.objects.order_by("pk").last().outcome == "duplicate"


def test_a_new_idempotency_key_does_not_let_a_reused_external_id_through(client, auth, widgets):
    post(client, order_body(), auth, HTTP_IDEMPOTENCY_KEY="k-1")

    other = post(client, order_body(shipping_speed="overnight"), auth, HTTP_IDEMPOTENCY_KEY="k-2")
    retry = post(client, json.dumps(order_body(), indent=1), auth, HTTP_IDEMPOTENCY_KEY="k-1")

    assert other.status_code == 409 and "external_id" in other.json()["errors"]
    assert retry.status_code == 201  # the first reply, replayed: the same body, written differently
    assert Order.objects.get().shipping_speed == "express"


def test_an_order_captured_before_fingerprints_is_compared_by_its_stored_body(client, auth, widgets):
    number = post(client, order_body(), auth).json()["number"]
    InboundRequest.objects.update(content_hash="")  # as rows written before the column was

    assert post(client, order_body(tax_total="9.00"), auth).status_code == 409
    assert post(client, order_body(), auth).json()["number"] == number


def test_an_external_id_the_api_did_not_create_is_answered_with_its_order(client, auth, widgets):
    from tests.factories import OrderFactory

    existing = OrderFactory(channel=Channel.objects.get(code="web"), external_id="WEB-1001")

    response = post(client, order_body(), auth)

    assert response.status_code == 200 and response.json()["number"] == existing.number


def test_old_idempotency_keys_are_purged_and_a_late_retry_still_makes_no_second_order(client, auth, widgets):
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from intake.models import IdempotencyRecord

    first = post(client, order_body(), auth, HTTP_IDEMPOTENCY_KEY="k-old")
    post(client, order_body(external_id="WEB-NEW"), auth, HTTP_IDEMPOTENCY_KEY="k-new")
    IdempotencyRecord.objects.filter(key="k-old").update(created_at=timezone.now() - dt.timedelta(days=8))

    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "Deleted 1 Idempotency-Key records older than 7 days." in out.getvalue()

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k-new"]
    late = post(client, order_body(), auth, HTTP_IDEMPOTENCY_KEY="k-old")
    assert late.status_code == 200 and late.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 2


@pytest.mark.parametrize(
    "change, field",
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "WIDGET-1", "quantity": 0, "unit_price": "1.00"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "WIDGET-1", "quantity": 1, "unit_price": "-1"}]}, "lines.0.unit_price"),
        ({"lines": [{"sku": "WIDGET-1", "quantity": 1, "unit_price": "1.005"}]}, "lines.0.unit_price"),
        ({"lines": [{"sku": "WIDGET-1", "quantity": 1, "unit_price": "NaN"}]}, "lines.0.unit_price"),
        ({"lines": [{"sku": "WIDGET-1", "quantity": "many", "unit_price": "1"}]}, "lines.0.quantity"),
        ({"customer": {"email": "not-an-email"}}, "customer.email"),
        ({"shipping_speed": "teleport"}, "shipping_speed"),
        ({"currency": "US"}, "currency"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"external_id": "nul\u0000byte"}, "external_id"),
        ({"customer": {"email": "a@example.com", "name": "\ud800"}}, "customer.name"),
        ({"shipping_total": 1e308}, "shipping_total"),
        ({"payment": {"status": "maybe"}}, "payment.status"),
        ({"placed_at": "0001-01-01T00:01:00Z"}, "placed_at"),  # found by schemathesis: was a 500
        ({"placed_at": "2999-01-01T00:00:00+00:00"}, "placed_at"),
    ],
)
def test_bad_fields_get_a_422_naming_the_field(client, auth, widgets, change, field):
    response = post(client, order_body(**change), auth)

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert Order.objects.count() == 0
    inbound = InboundRequest.objects.get()
    assert (inbound.outcome, inbound.response_status) == ("invalid", 422)
    assert field in inbound.error


def test_a_time_without_a_zone_is_taken_as_utc(client, auth, widgets):
    response = post(client, order_body(placed_at="2026-03-01T10:00:00"), auth)

    assert response.status_code == 201, response.content
    placed = Order.objects.get().placed_at
    assert placed == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


def test_order_too_big_to_store_is_a_422_not_a_500(client, auth, widgets):
    line = {"sku": "WIDGET-1", "quantity": 100_000, "unit_price": "99999999.99"}
    response = post(client, order_body(lines=[line]), auth)

    assert response.status_code == 422
    assert "lines" in response.json()["errors"]


@pytest.mark.parametrize(
    "raw", [b"{", b"[]", b'"text"', b"null", b"\xff\xfe", b'{"external_id": 1' + b"0" * 5000 + b"}", b""]
)
def test_malformed_bodies_are_refused_and_stored(client, auth, raw):
    response = post(client, raw, auth)

    assert response.status_code in (400, 422)
    assert "detail" in response.json()
    assert InboundRequest.objects.get().outcome == "invalid"


def test_bad_or_missing_key_is_401_and_stored(client, db):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer oms_deadbeef_nope"}):
        response = post(client, order_body(), headers)
        assert response.status_code == 401
    assert list(InboundRequest.objects.values_list("outcome", flat=True)) == ["rejected", "rejected"]


def test_revoked_and_rotated_keys_stop_working(client, widgets):
    channel = ChannelFactory(code="shop2", name="Shop 2")
    old, old_plain = channel_api_key_create(channel=channel)
    new, new_plain = channel_api_key_rotate(channel=channel)

    assert post(client, order_body(), {"HTTP_AUTHORIZATION": f"Bearer {old_plain}"}).status_code == 401
    assert post(client, order_body(), {"HTTP_AUTHORIZATION": f"Bearer {new_plain}"}).status_code == 201
    channel_api_key_revoke(key_id=new.pk)
    assert post(client, order_body("X2"), {"HTTP_AUTHORIZATION": f"Bearer {new_plain}"}).status_code == 401
    secret = new_plain.split("_", 2)[2]
    assert len(secret) > 30 and secret not in new.secret_hash and new.prefix in new_plain


def test_a_key_in_use_stops_working_the_moment_its_channel_is_deactivated(client, auth, widgets):
    # The first request caches the key (OMS["API_KEY_CACHE_SECONDS"]); saving the channel forgets it.
    assert post(client, order_body("A1"), auth).status_code == 201
    assert post(client, order_body("A2"), auth).status_code == 201
    channel = Order.objects.get(external_id="A1").channel
    channel.is_active = False
    channel.save()
    assert post(client, order_body("A3"), auth).status_code == 401
    assert not Order.objects.filter(external_id="A3").exists()


def test_a_key_only_sees_its_own_channels_orders(client, auth, widgets):
    number = post(client, order_body(), auth).json()["number"]
    other = ChannelFactory(code="pos", name="Shop POS", kind=Channel.Kind.STORE)
    _, other_plain = channel_api_key_create(channel=other)
    other_auth = {"HTTP_AUTHORIZATION": f"Bearer {other_plain}"}

    assert client.get(f"{URL}/{number}", **auth).json()["number"] == number
    assert client.get(f"{URL}/{number}", **other_auth).status_code == 404
    assert (
        client.post(f"{URL}/{number}/cancel", content_type="application/json", **other_auth).status_code
        == 404
    )
    assert Order.objects.get(number=number).status == "allocated"


def test_cancel_releases_stock_and_is_repeatable(client, auth, widgets):
    number = post(client, order_body(), auth).json()["number"]

    response = client.post(
        f"{URL}/{number}/cancel", data={"reason": "changed mind"}, content_type="application/json", **auth
    )
    again = client.post(f"{URL}/{number}/cancel", content_type="application/json", **auth)

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert again.status_code == 200
    assert StockItem.objects.get(product__sku="WIDGET-1").reserved == 0
    assert Order.objects.get(number=number).cancel_reason == "changed mind"


@pytest.mark.parametrize(
    "raw", [b"[null, null]", b"null", b"[]", b'"cancel"', b"1", b"true", b'[{"reason": "x"}]']
)
def test_cancel_with_a_body_that_is_not_an_object_is_422_and_cancels_nothing(client, auth, widgets, raw):
    number = post(client, order_body(), auth).json()["number"]

    response = client.post(f"{URL}/{number}/cancel", data=raw, content_type="application/json", **auth)

    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {"body": "Must be a JSON object, or no body at all."}
    assert Order.objects.get(number=number).status == "allocated"
    assert StockItem.objects.get(product__sku="WIDGET-1").reserved == 2
    inbound = InboundRequest.objects.get(topic=f"{URL}/{number}/cancel")
    assert (inbound.outcome, inbound.response_status) == ("invalid", 422)


@pytest.mark.parametrize("raw", [b"", b"{}", b'{"reason": "changed mind", "not_ours": [1]}'])
def test_cancel_takes_no_body_or_an_object(client, auth, widgets, raw):
    number = post(client, order_body(), auth).json()["number"]

    response = client.post(f"{URL}/{number}/cancel", data=raw, content_type="application/json", **auth)

    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_placed_at_in_the_future_is_taken_as_the_time_the_order_arrived(client, auth, widgets, clock):
    response = post(client, order_body(placed_at="2031-06-01T10:00:00Z"), auth)

    assert response.status_code == 201, response.content
    order = Order.objects.get()
    assert abs(order.placed_at - clock.moment) < dt.timedelta(seconds=1)
    note = order.events.get(kind="note").message
    assert "2031-06-01T10:00:00+00:00" in note and "in the future" in note


def test_cancel_after_fulfilment_started_is_409(client, auth, widgets, service_level):
    from fulfillment.services import order_start_fulfillment

    number = post(client, order_body(), auth).json()["number"]
    order_start_fulfillment(order_id=Order.objects.get(number=number).pk)

    response = client.post(f"{URL}/{number}/cancel", content_type="application/json", **auth)

    assert response.status_code == 409
    assert Order.objects.get(number=number).status == "processing"


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/orders", "/api/v1/orders/{number}", "/api/v1/orders/{number}/cancel"} <= set(paths)


def test_capture_query_count_does_not_grow_with_the_orders_already_there(client, auth, widgets, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The key read by the first request stays cached for the whole test: with the 30 s default,
    # a slow machine could see it expire just before one measurement and count one more query.
    settings.OMS = {**settings.OMS, "API_KEY_CACHE_SECONDS": 3600}

    def capture_queries(n: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = post(
                client, order_body(external_id=f"WEB-Q{n}", customer={"email": f"q{n}@example.com"}), auth
            )
        assert response.status_code == 201 and response.json()["status"] == "allocated"
        return len(ctx.captured_queries)

    post(
        client, order_body(external_id="WEB-F0", customer={"email": "f0@example.com"}), auth
    )  # key's last use
    first = capture_queries(1)
    for i in range(1, 14):
        post(client, order_body(external_id=f"WEB-F{i}", customer={"email": f"f{i}@example.com"}), auth)
    assert capture_queries(15) == first
    # One inbound row per request, written with its outcome.
    assert InboundRequest.objects.count() == 16
    assert not InboundRequest.objects.exclude(outcome="captured").exists()


def test_a_failure_while_capturing_still_stores_the_request(client, auth, widgets, monkeypatch):
    from intake import api

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api, "intake_capture", broken)
    client.raise_request_exception = False
    response = post(client, order_body(), auth)

    assert response.status_code == 500
    assert Order.objects.count() == 0
    inbound = InboundRequest.objects.get()
    assert (inbound.outcome, inbound.response_status) == ("failed", 500)
    assert "disk on fire" in inbound.error and json.loads(inbound.body)["external_id"] == "WEB-1001"


# --- paid with the customer's store credit -----------------------------------------------------
def post_to(client, url, body, auth):
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
    response = post_to(client, URL, credit_body(credit.code), auth)

    assert response.status_code == 201, response.content
    reply = response.json()
    assert (reply["status"], reply["holds"]) == ("allocated", [])
    assert Order.objects.get(number=reply["number"]).payment_status == "paid"
    assert balance_of(credit) == Decimal("31.00")


def test_store_credit_short_of_the_amount_is_created_on_hold_saying_what_is_left(client, auth, issue):
    credit = issue("12.00")
    response = post_to(client, URL, credit_body(credit.code), auth)

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
    number = post_to(client, URL, credit_body(credit.code), auth).json()["number"]
    response = post_to(client, f"{URL}/{number}/cancel", {"reason": "Customer asked"}, auth)

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert balance_of(credit) == Decimal("100.00")


# --- the same order at the same moment makes one order (PostgreSQL row locks) ---------------------
def post_together(auth, bodies_and_headers):
    """POST every (body, headers) to the API at the same instant; returns (status, reply) each."""

    def post(body, headers):
        response = Client().post(
            "/api/v1/orders", json.dumps(body), content_type="application/json", **auth, **headers
        )
        return response.status_code, response.json()

    return run_together(
        [partial(post, body, headers) for body, headers in bodies_and_headers], raise_errors=True
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_external_id_from_ten_threads_makes_one_order(auth, widgets):
    replies = post_together(auth, [(order_body(), {})] * 10)

    assert sorted(status for status, _ in replies) == [200] * 9 + [201]
    assert len({reply["number"] for _, reply in replies}) == 1
    assert Order.objects.count() == 1
    assert StockItem.objects.get(product__sku="WIDGET-1").reserved == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_idempotency_key_from_ten_threads_makes_one_order(auth, widgets):
    replies = post_together(auth, [(order_body(), {"HTTP_IDEMPOTENCY_KEY": "retry-7"})] * 10)

    assert {status for status, _ in replies} == {201}  # every retry gets the first reply
    assert len({reply["number"] for _, reply in replies}) == 1
    assert Order.objects.count() == 1
    # Every request is written down once: the winner as captured, the others (replayed, or
    # rolled back after losing the race for the key) as duplicates.
    outcomes = sorted(InboundRequest.objects.values_list("outcome", flat=True))
    assert outcomes == ["captured"] + ["duplicate"] * 9


def test_a_time_zone_far_from_utc_is_stored_as_utc(client, auth, widgets):
    # Found by schemathesis on PostgreSQL, which refuses offsets beyond ±15:59: was a 500.
    response = post(client, order_body(placed_at="2024-11-06T20:07:00-20:19"), auth)

    assert response.status_code == 201, response.content
    assert Order.objects.get().placed_at == dt.datetime(2024, 11, 7, 16, 26, tzinfo=dt.UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_bodies_racing_for_one_external_id_make_one_order_and_409_for_the_other(auth, widgets):
    first, second = order_body(), order_body(shipping_speed="overnight")
    replies = post_together(auth, [(first, {}), (second, {})] * 5)

    assert Order.objects.count() == 1
    winners = sorted(status for status, reply in replies if status != 409)
    assert winners == [200] * 4 + [201]  # the winning body: created once, then the same order
    assert [status for status, _ in replies].count(409) == 5  # the other body: refused, naming it
    number = Order.objects.get().number
    assert all(number in reply["detail"] for status, reply in replies if status == 409)


# --- Prefer: respond-async ------------------------------------------------------------------------
ASYNC = {"HTTP_PREFER": "respond-async"}


def test_an_async_create_is_answered_202_and_its_url_gives_the_order_once_captured(client, auth, widgets):
    response = post(client, order_body(), auth, **ASYNC)

    assert response.status_code == 202, response.content
    reply = response.json()
    assert reply["outcome"] == "received" and reply["order"] is None
    assert response["Location"] == reply["url"] == f"/api/v1/inbound/{reply['id']}"
    assert response["Preference-Applied"] == "respond-async"
    assert not Order.objects.exists()
    waiting = client.get(response["Location"], **auth)
    assert waiting.status_code == 200 and waiting.json()["outcome"] == "received"

    intake_work()

    done = client.get(response["Location"], **auth).json()
    order = Order.objects.get()
    assert (done["outcome"], done["reply_status"]) == ("captured", 201)
    assert done["order"] == client.get(f"/api/v1/orders/{order.number}", **auth).json()
    assert order.status == "allocated"


def test_a_prefer_header_without_respond_async_keeps_the_create_synchronous(client, auth, widgets):
    response = post(client, order_body(), auth, HTTP_PREFER="return=minimal, wait=10")

    assert response.status_code == 201 and response.json()["status"] == "allocated"


def test_an_async_body_the_schema_refuses_is_still_a_422_at_once(client, auth, widgets):
    response = post(client, order_body(lines=[]), auth, **ASYNC)

    assert response.status_code == 422 and "lines" in response.json()["errors"]
    assert InboundRequest.objects.get().outcome == "invalid"


def test_an_async_retry_with_the_same_idempotency_key_gets_the_same_202_and_one_order(client, auth, widgets):
    first = post(client, order_body(), auth, HTTP_IDEMPOTENCY_KEY="k-9", **ASYNC)
    again = post(client, order_body(), auth, HTTP_IDEMPOTENCY_KEY="k-9", **ASYNC)
    other = post(client, order_body(external_id="WEB-2"), auth, HTTP_IDEMPOTENCY_KEY="k-9", **ASYNC)

    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 409)
    assert again["Location"] == first["Location"] and again.json() == first.json()
    assert intake_work() == 1
    assert Order.objects.count() == 1
    assert list(InboundRequest.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "captured",
        "duplicate",
        "invalid",
    ]


def test_what_the_worker_refuses_is_said_at_the_url(client, auth, widgets):
    number = post(client, order_body(), auth).json()["number"]
    conflict = post(client, order_body(shipping_speed="overnight"), auth, **ASYNC)
    huge = [{"sku": "WIDGET-1", "quantity": 100_000, "unit_price": "999999.00"}]
    too_big = post(client, order_body(external_id="WEB-BIG", lines=huge), auth, **ASYNC)
    replay = post(client, order_body(), auth, **ASYNC)

    intake_work()

    conflict, too_big, replay = (
        client.get(r["Location"], **auth).json() for r in (conflict, too_big, replay)
    )
    assert (conflict["outcome"], conflict["reply_status"], conflict["order"]) == ("invalid", 409, None)
    assert number in conflict["detail"]
    assert (too_big["outcome"], too_big["reply_status"]) == ("invalid", 422)
    assert "lines" in too_big["detail"]
    assert (replay["outcome"], replay["reply_status"], replay["order"]["number"]) == (
        "duplicate",
        200,
        number,
    )
    assert Order.objects.count() == 1


@pytest.mark.parametrize("inbound_id", ["999999", "abc", "1" * 30, "-1"])
def test_the_url_of_another_channels_order_or_of_nothing_is_a_404(client, auth, widgets, inbound_id):
    mine = post(client, order_body(), auth, **ASYNC)
    other_channel = ChannelFactory(code="other")
    _, key = channel_api_key_create(channel=other_channel)

    assert client.get(mine["Location"], HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404
    assert client.get(f"/api/v1/inbound/{inbound_id}", **auth).status_code == 404
    assert client.get(mine["Location"]).status_code == 401
