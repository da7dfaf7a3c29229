"""core.db.rows_update: each row gets its own values in one statement, on every database."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.db import rows_update
from orders.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_in_one_statement():
    orders = [OrderFactory(notes="") for _ in range(3)]
    moments = [dt.datetime(2026, 11, day, 9, 30, tzinfo=dt.UTC) for day in (1, 2, 3)]
    for order, moment, note in zip(orders, moments, ["a", "b", "c'; DROP"], strict=True):
        order.notes, order.verified_at = note, moment

    with CaptureQueriesContext(connection) as ctx:
        updated = rows_update(Order, orders, ["notes", "verified_at"])

    assert updated == 3
    assert len(ctx.captured_queries) == 1
    got = {o.pk: (o.notes, o.verified_at) for o in Order.objects.filter(pk__in=[o.pk for o in orders])}
    assert got == {o.pk: (o.notes, o.verified_at) for o in orders}


def test_nothing_to_write_sends_nothing():
    with CaptureQueriesContext(connection) as ctx:
        assert rows_update(Order, [], ["notes"]) == 0
    assert ctx.captured_queries == []
