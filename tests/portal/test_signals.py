"""portal.signals: a commit that changes orders expires their pages and queues ONE task that renders
them all again, so the customer's first view after the change (the link in the e-mail about it)
is served from the cache; the transaction itself only notes the numbers."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.tasks import default_task_backend
from django.tasks.signals import task_enqueued

from fulfillment.services import order_start_fulfillment, shipment_pack, shipment_ship
from orders.links import order_tracking_url
from orders.services import CaptureRequest, order_capture, order_note_add, orders_capture
from portal.tasks import warm_order_pages
from returns.models import StoreCredit
from tests.factories import ReturnRequestFactory
from tests.returns.helpers import delivered_order, pay_with

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def warm_tasks():
    """The warm_order_pages tasks queued during the test (their kwargs)."""
    queued = []

    def record(sender, task_result, **kwargs):
        if task_result.task.name == warm_order_pages.name:
            queued.append(task_result.kwargs)

    task_enqueued.connect(record)
    yield queued
    task_enqueued.disconnect(record)


def link_in(message) -> str:
    """The order page's path from the link in a customer e-mail."""
    url = re.search(r"See your order at any time:\s+(\S+)", message.body).group(1)
    assert url.startswith(settings.SITE_URL)
    return url.removeprefix(settings.SITE_URL)


def page_path(order) -> str:
    return order_tracking_url(order_number=order.number, absolute=False)


def served_from_cache(client, path, django_assert_num_queries) -> str:
    with django_assert_num_queries(0):
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_link_in_the_shipping_email_opens_a_page_already_cached(
    client, channel, stocked_product, service_level, order_input, warm_tasks,
    django_capture_on_commit_callbacks, django_assert_num_queries,
):  # fmt: skip
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    [shipment] = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=shipment.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        shipment_ship(shipment_id=shipment.pk, tracking_number="1ZWARM0001")

    [email] = mail.outbox
    body = served_from_cache(client, link_in(email), django_assert_num_queries)
    assert "Your order is on its way." in body and "1ZWARM0001" in body
    assert warm_tasks == [{"numbers": [order.number]}]  # one task for the commit


def test_a_batch_capture_queues_one_task_and_every_confirmation_link_is_warm(
    client, channel, stocked_product, service_level, order_input, warm_tasks,
    django_capture_on_commit_callbacks, django_assert_num_queries,
):  # fmt: skip
    requests = [
        CaptureRequest(
            channel=channel,
            data=order_input(
                lines=[("WIDGET-1", 1, "25.00")], external_id=f"B-{i}", email=f"c{i}@example.com"
            ),
        )
        for i in range(5)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        results = orders_capture(requests)

    numbers = [r.order.number for r in results]
    assert warm_tasks == [{"numbers": numbers}]
    assert len(mail.outbox) == 5
    for email in mail.outbox:
        body = served_from_cache(client, link_in(email), django_assert_num_queries)
        assert "Your order is confirmed and waiting to be picked." in body


def test_the_transaction_only_queues_the_task_and_the_worker_renders(
    client, channel, stocked_product, service_level, order_input, settings,
    django_capture_on_commit_callbacks, django_assert_num_queries,
):  # fmt: skip
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))

    warms = [r for r in default_task_backend.results if r.task.name == warm_order_pages.name]
    assert [r.kwargs for r in warms] == [{"numbers": [order.number]}]  # queued, not run
    assert warm_order_pages.call(**warms[0].kwargs) == 1  # the worker runs it: one page stored
    body = served_from_cache(client, page_path(order), django_assert_num_queries)
    assert "Your order is confirmed and waiting to be picked." in body


def test_a_rolled_back_change_queues_nothing(
    channel, stocked_product, service_level, order_input, warm_tasks
):
    order = delivered_order(channel, order_input)
    warm_tasks.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        order_note_add(order_id=order.pk, message="never happened", visible=True)
        raise RuntimeError
    assert warm_tasks == []


def test_changes_in_one_transaction_make_one_task(
    channel, stocked_product, service_level, order_input, warm_tasks, django_capture_on_commit_callbacks
):
    first = delivered_order(channel, order_input, email="a@example.com")
    second = delivered_order(channel, order_input, email="b@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        warm_tasks.clear()
        with transaction.atomic():
            order_note_add(order_id=first.pk, message="one", visible=True)
            order_note_add(order_id=second.pk, message="two", visible=True)
            with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint rolled back
                order_note_add(order_id=first.pk, message="undone", visible=True)
                raise RuntimeError
            order_note_add(order_id=first.pk, message="three", visible=True)
    assert warm_tasks == [{"numbers": [first.number, second.number]}]


def test_store_credit_spent_elsewhere_refreshes_the_page_of_the_return_that_issued_it(
    client, channel, stocked_product, service_level, order_input,
    django_capture_on_commit_callbacks, django_assert_num_queries,
):  # fmt: skip
    order = delivered_order(channel, order_input)
    rr = ReturnRequestFactory(order=order, status="resolved")
    credit = StoreCredit.objects.create(
        email=order.email,
        order=order,
        return_request=rr,
        currency="USD",
        initial_amount=Decimal("50.00"),
        balance=Decimal("50.00"),
    )
    path = page_path(order)
    assert "50.00 USD" in client.get(path).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        pay_with(channel, order_input, credit.code)  # another order, paid with the credit

    body = served_from_cache(client, path, django_assert_num_queries)
    assert "25.00 USD</strong>, code" in body
