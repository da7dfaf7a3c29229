"""portal.views, the customer pages: lookup, enumeration, rate limits, expired links, the order page
(what it shows, query count), return requests and messages."""

import datetime as dt
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from fulfillment.models import Shipment, ShipmentLine, TrackingEvent
from orders.links import order_tracking_token
from orders.models import Order, OrderEvent
from orders.services import order_note_add
from returns.models import ReturnRequest
from support.models import Message, Thread
from tests.factories import OrderFactory, OrderLineFactory, ServiceLevelFactory, WarehouseFactory
from tests.returns.helpers import delivered_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def order(channel, stocked_product, service_level, order_input):
    return delivered_order(channel, order_input, email="ada@example.com")


def page_url(order):
    return reverse("portal:order", args=[order_tracking_token(order_number=order.number)])


def lookup(client, number, email, ip="10.0.0.1"):
    return client.post(reverse("portal:lookup"), {"number": number, "email": email}, REMOTE_ADDR=ip)


def test_lookup_leads_to_the_order_page(client, order):
    response = lookup(client, order.number.lower(), " ADA@example.com ")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert order.number in text and "Your order has been delivered." in text
    assert "1Z" in text  # the tracking number, linked to the carrier
    assert 'rel="noopener noreferrer"' in text


def test_wrong_number_and_wrong_email_look_identical(client, order):
    wrong_email = lookup(client, order.number, "eve@example.com", ip="10.0.0.2")
    wrong_number = lookup(client, "SO-NOPE1234", "ada@example.com", ip="10.0.0.3")
    assert wrong_email.status_code == wrong_number.status_code == 200

    def body(response, number, email):
        # The CSRF token differs per request and the form echoes what was typed; nothing else may.
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return text.replace(number, "<number>").replace(email, "<email>")

    assert body(wrong_email, order.number, "eve@example.com") == body(
        wrong_number, "SO-NOPE1234", "ada@example.com"
    )
    assert "couldn&#x27;t find an order" in wrong_email.content.decode()
    assert "Delivered" not in wrong_email.content.decode()


def test_lookups_are_limited_per_order_number(client, order, settings):
    settings.OMS = {**settings.OMS, "LOOKUP_LIMIT_PER_ORDER": 3, "LOOKUP_LIMIT_PER_IP": 100}
    for i in range(3):
        assert lookup(client, order.number, f"guess{i}@example.com", ip=f"10.1.0.{i}").status_code == 200
    # Even the right e-mail, from a fresh address, is refused once the number is used up.
    blocked = lookup(client, order.number, "ada@example.com", ip="10.1.0.99")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.content.decode()
    assert blocked["Retry-After"] == str(settings.OMS["LOOKUP_LIMIT_WINDOW_SECONDS"])


def test_lookups_are_limited_per_client_ip(client, order, settings):
    settings.OMS = {**settings.OMS, "LOOKUP_LIMIT_PER_IP": 4, "LOOKUP_LIMIT_PER_ORDER": 100}
    codes = [lookup(client, f"SO-GUESS{i:04d}", "ada@example.com").status_code for i in range(4)]
    assert codes == [200, 200, 200, 200]
    assert lookup(client, order.number, "ada@example.com").status_code == 429
    assert lookup(client, order.number, "ada@example.com", ip="10.9.9.9").status_code == 302


def test_successful_lookups_do_not_use_up_the_order_limit(client, order, settings):
    settings.OMS = {**settings.OMS, "LOOKUP_LIMIT_PER_ORDER": 2, "LOOKUP_LIMIT_PER_IP": 100}
    assert [lookup(client, order.number, "ada@example.com").status_code for _ in range(5)] == [302] * 5


def test_forms_require_csrf(order):
    client = Client(enforce_csrf_checks=True)
    assert lookup(client, order.number, "ada@example.com").status_code == 403
    url = reverse("portal:message_post", args=[order_tracking_token(order_number=order.number)])
    assert client.post(url, {"topic": "other", "body": "hi"}).status_code == 403
    assert not Message.objects.exists()


def test_forged_and_expired_links_show_no_order_data(client, order, settings):
    token = order_tracking_token(order_number=order.number)
    forged = client.get(reverse("portal:order", args=[token[:-2] + "xx"]))
    assert forged.status_code == 404 and order.number not in forged.content.decode()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.OMS["TRACKING_LINK_MAX_AGE_DAYS"] + 1)
    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        expired = client.get(reverse("portal:order", args=[token]))
    assert expired.status_code == 404
    assert "expired" in expired.content.decode() and order.number not in expired.content.decode()
    for name in ("portal:return_new", "portal:message_post"):
        assert client.post(reverse(name, args=["bogus"]), {"body": "x"}).status_code == 404


def test_pages_send_security_headers_and_a_strict_csp(client, order):
    for response in (client.get(reverse("portal:lookup")), client.get(page_url(order))):
        csp = response["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]


def _grow(order, n):
    """n more lines, events and carrier events on an order."""
    shipment = order.shipments.get()
    for i in range(n):
        OrderLineFactory(order=order, unit_price=Decimal("1.00"), quantity=1)
        order_note_add(order_id=order.pk, message=f"note {i}", visible=True)
        TrackingEvent.objects.create(
            shipment=shipment,
            tracking_number=shipment.tracking_number,
            status="in_transit",
            carrier_status=f"S{i}",
            occurred_at=shipment.shipped_at + dt.timedelta(minutes=i + 1),
        )


def test_order_page_query_count_does_not_grow(client, order, django_assert_num_queries):
    url = page_url(order)
    thread = Thread.objects.create(order=order)
    Message.objects.create(thread=thread, author="customer", body="first")
    ReturnRequest.objects.create(order=order, reason="damaged").lines.create(
        order_line=order.lines.get(), quantity=1
    )
    client.get(url)  # warm up (content types, etc.)
    cache.clear()  # the rendering from the database, not the cached page
    with django_assert_num_queries(4):
        small = client.get(url)
    _grow(order, 15)
    for i in range(5):
        rr = ReturnRequest.objects.create(order=order, reason="damaged")
        rr.lines.create(order_line=order.lines.order_by("pk").last(), quantity=1)
        Message.objects.create(thread=thread, author="customer", body=f"message {i}")
    cache.clear()
    with django_assert_num_queries(4):
        big = client.get(url)
    assert big.content.decode().count("note ") == 15 > small.content.decode().count("note ")
    assert rr.number in big.content.decode() and "message 4" in big.content.decode()


def test_customer_requests_a_return_from_the_order_page(client, order, django_capture_on_commit_callbacks):
    token = order_tracking_token(order_number=order.number)
    page = client.get(reverse("portal:order", args=[token])).content.decode()
    assert reverse("portal:return_new", args=[token]) in page
    line = order.lines.get()
    form = client.get(reverse("portal:return_new", args=[token]))
    assert form.status_code == 200 and f"qty_{line.pk}" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:return_new", args=[token]),
            {f"qty_{line.pk}": "1", "reason": "does_not_fit", "comment": "Too small", "resolution": "refund"},
        )
    rr = ReturnRequest.objects.get()
    assert response.status_code == 302 and rr.number in response["Location"]
    done = client.get(response["Location"]).content.decode()
    assert rr.number in done and "write <strong>" in done
    assert rr.number in mail.outbox[-1].subject
    assert rr.comment == "Too small" and rr.lines.get().quantity == 1


def test_return_form_refuses_nothing_chosen_and_too_many(client, order):
    token = order_tracking_token(order_number=order.number)
    line = order.lines.get()
    url = reverse("portal:return_new", args=[token])
    empty = client.post(url, {f"qty_{line.pk}": "0", "reason": "damaged", "resolution": "refund"})
    assert empty.status_code == 400 and "at least one item" in empty.content.decode()
    too_many = client.post(url, {f"qty_{line.pk}": "9", "reason": "damaged", "resolution": "refund"})
    assert too_many.status_code == 400
    assert not ReturnRequest.objects.exists()


def test_undelivered_order_offers_no_return(client, channel):
    order = OrderFactory(channel=channel, status="allocated")
    OrderLineFactory(order=order)
    token = order_tracking_token(order_number=order.number)
    order_page = client.get(reverse("portal:order", args=[token])).content.decode()
    assert reverse("portal:return_new", args=[token]) not in order_page
    page = client.get(reverse("portal:return_new", args=[token])).content.decode()
    assert "nothing in this order that can be returned" in page and "Not delivered yet." in page


def test_return_confirmation_only_for_this_orders_returns(client, order, channel):
    other = OrderFactory(channel=channel, status="delivered")
    rr = ReturnRequest.objects.create(order=other, reason="damaged")
    token = order_tracking_token(order_number=order.number)
    assert client.get(reverse("portal:return_done", args=[token, rr.number])).status_code == 404


def _request_return(client, order):
    token = order_tracking_token(order_number=order.number)
    line = order.lines.get()
    response = client.post(
        reverse("portal:return_new", args=[token]),
        {f"qty_{line.pk}": "1", "reason": "changed_mind", "resolution": "refund"},
    )
    assert response.status_code == 302
    return token, ReturnRequest.objects.get()


def test_customer_cancels_a_return_they_no_longer_want(client, order, django_capture_on_commit_callbacks):
    token, rr = _request_return(client, order)
    # The same token throughout: a fresh one signed a second later would differ.
    order_page = client.get(reverse("portal:order", args=[token])).content.decode()
    return_url = reverse("portal:return_done", args=[token, rr.number])
    assert f'href="{return_url}"' in order_page  # each return links to its own page

    page = client.get(return_url).content.decode()
    assert "Cancel return" in page
    with django_capture_on_commit_callbacks(execute=True):  # commit: the cached order page expires
        response = client.post(reverse("portal:return_cancel", args=[token, rr.number]))

    assert response.status_code == 302 and response["Location"] == return_url
    rr.refresh_from_db()
    assert rr.status == ReturnRequest.Status.CANCELLED
    after = client.get(return_url).content.decode()
    assert "is cancelled" in after and "Cancel return" not in after and "What happens next" not in after
    order_page = client.get(reverse("portal:order", args=[token])).content.decode()  # replaced
    assert "pill-cancelled" in order_page and f"Return {rr.number} cancelled." in order_page


def test_a_return_whose_parcel_arrived_cannot_be_cancelled(client, order):
    from returns.services import return_request_approve, return_request_receive

    token, rr = _request_return(client, order)
    return_request_approve(return_id=rr.pk)
    return_request_receive(return_id=rr.pk)
    page = client.get(reverse("portal:return_done", args=[token, rr.number])).content.decode()
    assert "Cancel return" not in page

    response = client.post(reverse("portal:return_cancel", args=[token, rr.number]))

    assert response.status_code == 409 and "already received the parcel" in response.content.decode()
    rr.refresh_from_db()
    assert rr.status == ReturnRequest.Status.RECEIVED


def test_only_the_orders_own_link_cancels_its_return(client, order, channel):
    _, rr = _request_return(client, order)
    other = OrderFactory(channel=channel, status="delivered")
    other_token = order_tracking_token(order_number=other.number)

    assert client.post(reverse("portal:return_cancel", args=[other_token, rr.number])).status_code == 404
    assert client.get(reverse("portal:return_cancel", args=[other_token, rr.number])).status_code == 405
    rr.refresh_from_db()
    assert rr.status == ReturnRequest.Status.REQUESTED


def test_customer_service_inbox_is_told_of_a_new_customer_message(
    client, order, settings, django_capture_on_commit_callbacks
):
    settings.OMS = {**settings.OMS, "SUPPORT_INBOX": "help@shop.example"}
    token = order_tracking_token(order_number=order.number)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("portal:message_post", args=[token]), {"topic": "damaged", "body": "Box <crushed> & wet"}
        )

    (note,) = mail.outbox
    thread = Thread.objects.get(order=order)
    assert note.to == ["help@shop.example"] and note.reply_to == [order.email]
    assert order.number in note.subject and "Damaged" in note.subject
    assert "Box <crushed> & wet" in note.body  # plain text, not HTML-escaped
    assert reverse("admin:support_thread_change", args=[thread.pk]) in note.body


def test_no_inbox_configured_sends_nothing_to_staff(client, order, django_capture_on_commit_callbacks):
    token = order_tracking_token(order_number=order.number)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:message_post", args=[token]), {"topic": "damaged", "body": "Hello"})
    assert mail.outbox == []


def test_message_thread_customer_writes_staff_answers(
    client, admin_client, order, django_capture_on_commit_callbacks
):
    token = order_tracking_token(order_number=order.number)
    response = client.post(
        reverse("portal:message_post", args=[token]), {"topic": "damaged", "body": "The box was crushed."}
    )
    assert response.status_code == 302
    thread = Thread.objects.get(order=order)
    assert thread.status == Thread.Status.AWAITING_STAFF
    queue = admin_client.get(reverse("admin:support_thread_changelist") + "?queue=waiting")
    assert order.number in queue.content.decode()

    change_url = reverse("admin:support_thread_change", args=[thread.pk])
    page = admin_client.get(change_url)
    assert "The box was crushed." in page.content.decode()
    data = {
        "messages-TOTAL_FORMS": "1",
        "messages-INITIAL_FORMS": "0",
        "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
        "messages-0-body": "Sorry! A replacement is on its way.",
        "messages-0-id": "",
        "messages-0-thread": str(thread.pk),
    }
    with django_capture_on_commit_callbacks(execute=True):
        saved = admin_client.post(change_url, data)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    thread.refresh_from_db()
    assert thread.status == Thread.Status.ANSWERED
    assert mail.outbox[-1].to == [order.email]
    assert "A replacement is on its way." in mail.outbox[-1].body
    assert list(thread.messages.values_list("author", flat=True)) == ["customer", "staff"]
    page = client.get(reverse("portal:order", args=[token])).content.decode()
    assert "Sorry! A replacement is on its way." in page and "Customer service" in page
    assert not OrderEvent.objects.filter(order=order, kind="note", visible_to_customer=True).exists()


def test_empty_message_is_refused_with_a_clear_error(client, order):
    token = order_tracking_token(order_number=order.number)
    response = client.post(reverse("portal:message_post", args=[token]), {"topic": "other", "body": "   "})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Message.objects.exists()


def test_customer_posts_are_limited_per_order(client, order, settings):
    settings.OMS = {**settings.OMS, "CUSTOMER_POSTS_PER_ORDER": 2}
    url = reverse("portal:message_post", args=[order_tracking_token(order_number=order.number)])
    replies = [client.post(url, {"topic": "other", "body": f"hello {i}"}) for i in range(3)]
    assert [r.status_code for r in replies] == [302, 302, 429]
    assert int(replies[-1]["Retry-After"]) == settings.OMS["LOOKUP_LIMIT_WINDOW_SECONDS"] * 4
    assert Message.objects.count() == 2


# --- lookup and order page for orders made from rows, in any state ---------------------------
NOT_FOUND = b"couldn&#x27;t find an order with that number and e-mail"


def lookup_and_follow(client, number, email):
    return client.post(reverse("portal:lookup"), {"number": number, "email": email}, follow=True)


def test_right_number_and_email_open_the_order(client):
    order = OrderFactory(status=Order.Status.ALLOCATED, email="Ada@Example.com")
    OrderLineFactory(order=order, name="Blue widget", quantity=2)
    response = lookup_and_follow(client, order.number.lower(), "ada@example.com")
    assert response.status_code == 200
    assert order.number.encode() in response.content
    assert b"Blue widget" in response.content
    assert b"waiting to be picked" in response.content


@pytest.mark.parametrize("which", ["number", "email"])
def test_wrong_number_and_wrong_email_look_the_same(client, which):
    order = OrderFactory(email="ada@example.com", status=Order.Status.SHIPPED)
    OrderLineFactory(order=order, name="Blue widget")
    number = "SO-NOPE1234" if which == "number" else order.number
    email = "eve@example.com" if which == "email" else "ada@example.com"
    response = lookup_and_follow(client, number, email)
    assert response.status_code == 200
    assert NOT_FOUND in response.content
    assert b"Blue widget" not in response.content
    assert b"on its way" not in response.content


def test_forged_or_missing_token_shows_nothing(client):
    order = OrderFactory()
    response = client.get(reverse("portal:order", args=[order.number]))
    assert response.status_code == 404
    token = order_tracking_token(order_number=order.number)
    response = client.get(reverse("portal:order", args=[token[:-2] + "xx"]))
    assert response.status_code == 404


def _order_with(lines, events):
    order = OrderFactory(status=Order.Status.SHIPPED)
    warehouse = WarehouseFactory(code="MAIN")
    shipment = Shipment.objects.create(
        number=f"{order.number}-1",
        order=order,
        warehouse=warehouse,
        service_level=ServiceLevelFactory(),
        tracking_number="1ZTRACK",
    )
    for i in range(lines):
        line = OrderLineFactory(order=order, name=f"Item {i}")
        ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=1)
    import datetime as dt

    from django.utils import timezone

    for i in range(events):
        OrderEvent.objects.create(order=order, kind="note", message=f"public {i}", visible_to_customer=True)
        OrderEvent.objects.create(order=order, kind="note", message=f"internal {i}")
        TrackingEvent.objects.create(
            shipment=shipment,
            tracking_number="1ZTRACK",
            status="in_transit",
            carrier_status=f"S{i}",
            description=f"Scan {i}",
            occurred_at=timezone.now() - dt.timedelta(hours=i),
        )
    return order


def test_order_page_shows_shipment_tracking_and_only_public_events(client):
    order = _order_with(lines=2, events=2)
    response = client.get(reverse("portal:order", args=[order_tracking_token(order_number=order.number)]))
    body = response.content.decode()
    assert "1ZTRACK" in body
    assert "https://www.ups.com/track?tracknum=1ZTRACK" in body
    assert "public 1" in body and "Scan 1" in body
    assert "internal" not in body


def test_order_page_query_count_does_not_grow_with_lines_and_events(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 12):
        order = _order_with(lines=size, events=size)
        url = reverse("portal:order", args=[order_tracking_token(order_number=order.number)])
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count("Item ") >= size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
