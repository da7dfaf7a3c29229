"""With the database task backend, the e-mail task is written in the capture's own transaction."""

import pytest
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from orders.services import order_capture
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class Boom(Exception):
    pass


@override_settings(TASKS=DB_TASKS)
def test_the_confirmation_task_commits_with_the_order(order_input, stocked_product):
    order = order_capture(
        channel=ChannelFactory(), data=order_input(lines=[(stocked_product.sku, 1, "25.00")])
    )

    task = DBTaskResult.objects.get()
    assert task.task_path == "orders.notifications.send_order_email"
    assert task.args_kwargs["kwargs"] == {"order_id": order.pk, "kind": "confirmation", "extra": None}


@override_settings(TASKS=DB_TASKS)
def test_a_capture_that_rolls_back_leaves_no_task_behind(order_input, stocked_product):
    with pytest.raises(Boom), transaction.atomic():
        order_capture(channel=ChannelFactory(), data=order_input(lines=[(stocked_product.sku, 1, "25.00")]))
        raise Boom

    assert not DBTaskResult.objects.exists()
