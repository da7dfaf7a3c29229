"""portal.pages: the order page from the shared cache: a warm page costs no query, the link is still
checked on every request, nothing per-visitor is shared, and every change a customer would
notice is on the very next request."""

import datetime as dt
import re
import time

import pytest
from django.core.cache import cache
from django.template.defaultfilters import date
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core.cache_versions import cache_versions_replace
from fulfillment.models import Shipment
from fulfillment.services import order_start_fulfillment, shipment_pack, shipment_ship, shipment_start_picking
from fulfillment.tracking import shipment_record_tracking_event
from orders.cache import ORDER_CACHE_NAMESPACE
from orders.links import order_tracking_token
from orders.services import order_capture, order_note_add
from portal import pages
from returns.services import return_request_approve, return_request_create
from support.services import support_message_post, support_reply
from tests.returns.helpers import delivered_order

from .helpers import full_order

# Pages are cached under today's date (portal/pages.py): on the pinned clock a page cached by one
# request can't belong to yesterday by the next, so "warm page: no query" holds at midnight too.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def order(channel, stocked_product, service_level, order_input):
    return delivered_order(channel, order_input, email="ada@example.com")


@pytest.fixture
def processing_order(channel, stocked_product, service_level, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    shipments = order_start_fulfillment(order_id=order.pk)
    return order, shipments[0]


def url_for(order):
    return reverse("portal:order", args=[order_tracking_token(order_number=order.number)])


def page(client, order) -> str:
    response = client.get(url_for(order))
    assert response.status_code == 200
    return response.content.decode()


def test_warm_page_is_served_without_database_queries(client, order, django_assert_num_queries):
    url = url_for(order)
    cold = client.get(url).content.decode()
    with django_assert_num_queries(0):
        warm = client.get(url)
    assert warm.status_code == 200
    body = warm.content.decode()
    assert order.number in body and "Your order has been delivered." in body
    # Nothing per-visitor on the page: two renderings are identical, and no CSRF cookie is set.
    assert body == cold
    assert "csrftoken" not in warm.cookies and "csrfmiddlewaretoken" not in body


def test_cached_page_still_checks_the_link(client, order, settings):
    page(client, order)  # now cached
    token = order_tracking_token(order_number=order.number)
    forged = client.get(reverse("portal:order", args=[token[:-2] + "xx"]))
    assert forged.status_code == 404 and order.number not in forged.content.decode()
    settings.OMS = {**settings.OMS, "TRACKING_LINK_MAX_AGE_DAYS": 0}
    with pytest.MonkeyPatch.context() as mp:  # the signer's clock, a day on
        later = time.time() + dt.timedelta(days=1).total_seconds()
        mp.setattr("time.time", lambda: later)
        expired = client.get(reverse("portal:order", args=[token]))
    assert expired.status_code == 404 and order.number not in expired.content.decode()


def test_each_visitor_gets_their_own_link_and_the_form_its_own_csrf_token(order):
    first, second = Client(), Client()
    token_a = order_tracking_token(order_number=order.number)
    with pytest.MonkeyPatch.context() as mp:  # a link sent a minute later signs differently
        later = time.time() + 60
        mp.setattr("time.time", lambda: later)
        token_b = order_tracking_token(order_number=order.number)
    assert token_a != token_b
    body_a = first.get(reverse("portal:order", args=[token_a])).content.decode()
    body_b = second.get(reverse("portal:order", args=[token_b])).content.decode()
    assert reverse("portal:message_post", args=[token_a]) in body_a
    assert reverse("portal:return_new", args=[token_b]) in body_b and token_a not in body_b
    # The message form is on its own page, rendered fresh with the visitor's own CSRF token.
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    form_a = first.get(reverse("portal:message_post", args=[token_a])).content.decode()
    form_b = second.get(reverse("portal:message_post", args=[token_b])).content.decode()
    assert csrf.search(form_a) and csrf.search(form_b)
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    strict = Client(enforce_csrf_checks=True)
    body = strict.get(reverse("portal:message_post", args=[token_a])).content.decode()
    posted = strict.post(
        reverse("portal:message_post", args=[token_a]),
        {"topic": "other", "body": "Hello", "csrfmiddlewaretoken": csrf.search(body).group(1)},
    )
    assert posted.status_code == 302


def test_new_order_event_shows_at_once(client, order, django_capture_on_commit_callbacks):
    assert "Parcel left early" not in page(client, order)
    with django_capture_on_commit_callbacks(execute=True):
        order_note_add(order_id=order.pk, message="Parcel left early", visible=True)
    assert "Parcel left early" in page(client, order)


def test_picking_and_shipping_show_at_once(client, processing_order, django_capture_on_commit_callbacks):
    order, shipment = processing_order
    assert 'pill-pending">Ready to pick' in page(client, order)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_start_picking(shipment_id=shipment.pk)
    assert 'pill-picking">Picking' in page(client, order)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_pack(shipment_id=shipment.pk)
        shipment_ship(shipment_id=shipment.pk, tracking_number="1ZCACHED01", notify=False)
    body = page(client, order)
    assert "1ZCACHED01" in body and "Your order is on its way." in body


def test_carrier_tracking_event_shows_at_once(client, processing_order, django_capture_on_commit_callbacks):
    order, shipment = processing_order
    with django_capture_on_commit_callbacks(execute=True):
        shipment_pack(shipment_id=shipment.pk)
        shipment_ship(shipment_id=shipment.pk, tracking_number="1ZCACHED02", notify=False)
    assert "Arrived at Memphis hub" not in page(client, order)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_record_tracking_event(
            tracking_number="1ZCACHED02",
            carrier_status="in_transit",
            description="Arrived at Memphis hub",
            occurred_at=timezone.now(),
        )
    body = page(client, order)
    assert "Arrived at Memphis hub" in body
    assert Shipment.objects.get(pk=shipment.pk).status == "in_transit"


def test_return_status_change_shows_at_once(client, order, django_capture_on_commit_callbacks):
    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        rr = return_request_create(
            order_id=order.pk, quantities={line.pk: 1}, reason="damaged", comment="", resolution="refund"
        )
    body = page(client, order)
    assert rr.number in body and 'pill-requested">Requested' in body
    with django_capture_on_commit_callbacks(execute=True):
        return_request_approve(return_id=rr.pk)
    assert 'pill-approved">Approved' in page(client, order)


def test_support_reply_shows_at_once(client, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = support_message_post(order_id=order.pk, body="Where is the charger?")
    assert "Where is the charger?" in page(client, order)
    with django_capture_on_commit_callbacks(execute=True):
        support_reply(thread_id=message.thread_id, body="It ships separately tomorrow.")
    body = page(client, order)
    assert "It ships separately tomorrow." in body and "Customer service" in body


def test_staff_address_correction_shows_at_once(client, order, django_capture_on_commit_callbacks):
    assert "Springfield" not in page(client, order)
    address = order.shipping_address
    address.city = "Springfield"
    with django_capture_on_commit_callbacks(execute=True):
        address.save()
    assert "Springfield" in page(client, order)


def test_rolled_back_write_keeps_the_cached_page(client, order, django_assert_num_queries):
    page(client, order)
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        order_note_add(order_id=order.pk, message="never happened", visible=True)
        raise RuntimeError
    with django_assert_num_queries(0):
        body = client.get(url_for(order)).content.decode()
    assert "never happened" not in body


def test_lost_version_stamp_never_serves_an_old_page(client, order):
    page(client, order)
    cache.delete(f"cv:order:{order.number}")  # evicted, or Redis restarted without the pages
    order_note_add(order_id=order.pk, message="written while the stamp was gone", visible=True)
    assert "written while the stamp was gone" in page(client, order)


def test_sent_notice_and_holes_are_per_request(client, order, django_capture_on_commit_callbacks):
    hole_words = "portal-link-token-hole portal-sent-notice-hole"
    with django_capture_on_commit_callbacks(execute=True):
        support_message_post(order_id=order.pk, body=f'Odd words: {hole_words} value="x"')
    plain = page(client, order)
    assert "your message has been sent" not in plain
    assert hole_words in plain  # the customer's own text is left alone
    token = order_tracking_token(order_number=order.number)
    noticed = client.get(reverse("portal:order", args=[token]) + "?sent=message").content.decode()
    assert "your message has been sent" in noticed and hole_words in noticed
    assert f'href="{reverse("portal:message_post", args=[token])}"' in noticed


def test_cold_render_takes_the_same_queries_for_one_line_or_ten(client, django_assert_num_queries):
    # Parcels, carrier scans, events, a return with store credit and messages in both.
    for order in (full_order(lines=1), full_order(lines=10)):
        cache.clear()
        with django_assert_num_queries(4):
            body = page(client, order)
        assert body.count("× Item ") == len(order.lines.all()) + 1  # the parcel's, the return's


@pytest.fixture
def change_during_next_render(order, monkeypatch, django_capture_on_commit_callbacks):
    """The order's page is not cached, and the next rendering of it reads the rows as they are,
    then a change to the order commits (and warms its own page) before that rendering is
    stored: a slow renderer overtaken by a later commit."""
    cache_versions_replace(namespace=ORDER_CACHE_NAMESPACE, idents=[order.number])
    real_render = pages.order_pages_render
    overtaken = []

    def render_then_a_change_commits(*, numbers):
        rendered = real_render(numbers=numbers)
        if not overtaken:
            overtaken.append(numbers)
            with django_capture_on_commit_callbacks(execute=True):
                order_note_add(order_id=order.pk, message="Parcel left early", visible=True)
        return rendered

    monkeypatch.setattr(pages, "order_pages_render", render_then_a_change_commits)
    return overtaken


def test_a_slow_warm_never_replaces_the_page_of_a_later_change(
    client, order, change_during_next_render, django_assert_num_queries
):
    assert pages.order_pages_warm(numbers=[order.number]) == 0  # the older rendering is refused
    assert change_during_next_render == [[order.number]]
    with django_assert_num_queries(0):
        body = page(client, order)
    assert "Parcel left early" in body


def test_a_slow_first_view_never_replaces_the_page_of_a_later_change(
    client, order, change_during_next_render, django_assert_num_queries
):
    assert "Parcel left early" not in page(client, order)  # this visitor saw the rows it read
    assert change_during_next_render == [[order.number]]
    with django_assert_num_queries(0):
        body = page(client, order)
    assert "Parcel left early" in body


def test_warming_many_pages_takes_a_fixed_number_of_queries_per_batch(
    client, monkeypatch, django_assert_num_queries
):
    orders = [full_order(lines=n) for n in (1, 2, 3, 4, 5)]
    monkeypatch.setattr(pages, "WARM_BATCH", 2)
    with django_assert_num_queries(3 * 4):  # three batches
        assert pages.order_pages_warm(numbers=[o.number for o in orders]) == 5
    with django_assert_num_queries(0):
        for order in orders:
            assert order.number in page(client, order)
        assert pages.order_pages_warm(numbers=[o.number for o in orders]) == 0  # all still fresh


@pytest.mark.parametrize("zone, language", [("UTC", "en"), ("America/Los_Angeles", "de")])
def test_dates_print_as_the_date_filter_prints_them(zone, language):
    order, on_its_way = full_order(), full_order()
    Shipment.objects.filter(order=on_its_way).update(delivered_at=None)  # shows its estimate
    parcel = order.shipments.get()
    scan, message = parcel.tracking_events.get(), order.support_thread.messages.get()
    with timezone.override(zone), translation.override(language):
        html = pages.order_pages_render(numbers=[order.number, on_its_way.number])

        def shown(value, fmt):  # as {{ value|date:fmt }} in a template
            return date(timezone.template_localtime(value), fmt)

        def time_element(at):
            return f'<time datetime="{shown(at, "c")}">{shown(at, "j M, H:i")}</time>'

        expected = [
            shown(order.placed_at, "j F Y, H:i"),
            time_element(scan.occurred_at),
            time_element(message.created_at),
            f"<dd>{shown(parcel.delivered_at, 'l j F')}</dd>",
        ]
        estimate = f"<dd>{shown(on_its_way.shipments.get().estimated_delivery, 'l j F')}</dd>"
    for text in expected:
        assert text in html[order.number]
    assert estimate in html[on_its_way.number]
