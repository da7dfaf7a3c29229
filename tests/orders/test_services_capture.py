"""orders.services.capture: a clean order is allocated, its stock reserved and its timeline
written; an order short of stock is backordered; malformed or repeated input is refused without
writing anything; the confirmation e-mail task commits (or rolls back) with the order."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from inventory.models import StockItem
from orders.exceptions import CaptureError, DuplicateOrder
from orders.models import Order
from orders.services import order_capture
from tests.factories import ChannelFactory

from .helpers import stock

pytestmark = pytest.mark.django_db


def test_clean_order_is_allocated_and_reserves_stock(
    channel, stocked_product, order_input, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 3, "25.00")]))

    assert order.status == Order.Status.ALLOCATED
    assert order.total == Decimal("75.00")
    assert stock(stocked_product) == (10, 3)
    assert list(order.events.values_list("kind", flat=True)) == [
        "captured",
        "verified",
        "allocated",
        "email",
    ]
    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].subject
    assert "/track/o/" in mail.outbox[0].body


def test_order_short_of_stock_is_backordered(channel, stocked_product, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 11, "25.00")]))
    assert order.status == Order.Status.BACKORDERED
    assert stock(stocked_product) == (10, 0)


def test_capture_rejects_malformed_data_without_writing(channel, order_input):
    data = order_input(lines=[("WIDGET-1", 0, "-1.00")], currency="dollars")
    with pytest.raises(CaptureError) as info:
        order_capture(channel=channel, data=data)
    assert set(info.value.errors) == {"lines[0].quantity", "lines[0].unit_price", "currency"}
    assert not Order.objects.exists()


def test_same_external_id_is_captured_once(channel, stocked_product, order_input):
    first = order_capture(
        channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], external_id="X1")
    )
    with pytest.raises(DuplicateOrder) as info:
        order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], external_id="X1"))
    assert info.value.order == first
    assert Order.objects.count() == 1
    assert StockItem.objects.get().reserved == 1


DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class Boom(Exception):
    pass


@override_settings(TASKS=DB_TASKS)
def test_the_confirmation_task_commits_with_the_order(order_input, stocked_product):
    order = order_capture(
        channel=ChannelFactory(), data=order_input(lines=[(stocked_product.sku, 1, "25.00")])
    )

    task = DBTaskResult.objects.get()
    assert task.task_path == "orders.notifications.send_order_emails"
    assert task.args_kwargs["kwargs"] == {
        "emails": [{"order_id": order.pk, "kind": "confirmation", "extra": None}]
    }


@override_settings(TASKS=DB_TASKS)
def test_a_capture_that_rolls_back_leaves_no_task_behind(order_input, stocked_product):
    with pytest.raises(Boom), transaction.atomic():
        order_capture(channel=ChannelFactory(), data=order_input(lines=[(stocked_product.sku, 1, "25.00")]))
        raise Boom

    assert not DBTaskResult.objects.exists()
