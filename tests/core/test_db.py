"""core.db.rows_update: each row gets its own values in one statement, on every database.
core.db.rows_insert: new rows written as bulk_create writes them, ids set."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.db import COPY_MIN_ROWS, rows_insert, rows_update
from orders.models import Order, OrderHold, OrderLine
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


def test_inserted_rows_read_back_as_written_with_their_ids_set():
    order = OrderFactory()
    lines = [
        OrderLine(
            order=order, sku="MUG-1", name="Mug \\ with a tab\there", quantity=2, unit_price=Decimal("9.50")
        ),
        OrderLine(
            order=order,
            sku="CAP",
            name="Cap 'quoted'\nnew line, ünïcode",
            quantity=1,
            unit_price=Decimal("0.10"),
        ),
    ]
    holds = [
        OrderHold(
            order=order,
            reason=OrderHold.Reason.ADDRESS,
            detail="no street",
            suggestion={"line1": "1 Main St"},
        ),
        OrderHold(order=order, reason=OrderHold.Reason.MANUAL, detail=""),
    ]

    with CaptureQueriesContext(connection) as ctx:
        rows_insert(OrderLine, lines)
    rows_insert(OrderHold, holds)

    assert all(line.pk for line in lines) and not lines[0]._state.adding
    got = {
        line.pk: (line.order_id, line.sku, line.name, line.quantity, line.unit_price)
        for line in OrderLine.objects.filter(pk__in=[line.pk for line in lines])
    }
    assert got == {line.pk: (order.pk, line.sku, line.name, line.quantity, line.unit_price) for line in lines}
    saved = {h.pk: h for h in OrderHold.objects.filter(order=order)}
    assert saved[holds[0].pk].suggestion == {"line1": "1 Main St"}
    assert saved[holds[0].pk].reason == "address" and saved[holds[1].pk].detail == ""
    assert saved[holds[1].pk].created_at is not None and saved[holds[1].pk].released_at is None
    # PostgreSQL: the ids, then the COPY (logged as one statement); elsewhere one INSERT.
    assert len(ctx.captured_queries) == 1  # few rows: one INSERT


def test_many_rows_read_back_as_written(monkeypatch):
    order = OrderFactory()
    names = [f"Line {i} \\ 'x'\t\u00e9" for i in range(COPY_MIN_ROWS + 5)]
    lines = [
        OrderLine(order=order, sku=f"S-{i}", name=n, quantity=i + 1, unit_price=Decimal("1.25"))
        for i, n in enumerate(names)
    ]

    with CaptureQueriesContext(connection) as ctx:
        rows_insert(OrderLine, lines)

    got = dict(OrderLine.objects.filter(order=order).values_list("pk", "name"))
    assert got == {line.pk: line.name for line in lines}
    assert len(set(got)) == len(lines)
    # PostgreSQL: the sequence's name (once per process), the ids, then the COPY (logged as one
    # statement); elsewhere one INSERT.
    assert 1 <= len(ctx.captured_queries) <= 3


def test_a_row_refused_by_a_constraint_is_djangos_integrity_error_and_nothing_is_written():
    order = OrderFactory()
    others = [
        Order(
            channel=order.channel, external_id=f"FRESH-{i}", email="y@example.com", placed_at=order.placed_at
        )
        for i in range(2, COPY_MIN_ROWS + 2)
    ]
    taken = Order(
        channel=order.channel, external_id=order.external_id, email="x@example.com", placed_at=order.placed_at
    )
    fresh = Order(
        channel=order.channel, external_id="FRESH-1", email="y@example.com", placed_at=order.placed_at
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(Order, [fresh, *others, taken])

    assert not Order.objects.filter(external_id="FRESH-1").exists()
    assert fresh.pk is None


def test_a_foreign_key_to_an_object_saved_after_it_was_set_gets_its_id():
    other = OrderFactory()
    order = Order(
        channel=other.channel, external_id="NEW-1", email="z@example.com", placed_at=other.placed_at
    )
    line = OrderLine(order=order, sku="MUG-1", name="Mug", quantity=1, unit_price=Decimal("1.00"))
    rows_insert(Order, [order])

    rows_insert(OrderLine, [line])

    assert OrderLine.objects.get(pk=line.pk).order_id == order.pk


@pytest.mark.postgres
def test_rows_are_written_in_lock_order_while_their_ids_follow_the_order_given():
    order = OrderFactory()
    skus = [f"S-{i:02d}" for i in range(COPY_MIN_ROWS + 5)][::-1]  # given in reverse
    lines = [OrderLine(order=order, sku=s, name=s, quantity=1, unit_price=Decimal("1.00")) for s in skus]

    rows_insert(OrderLine, lines, lock_order=lambda line: line.sku)

    assert [line.pk for line in lines] == sorted(line.pk for line in lines)  # ids: as given
    with connection.cursor() as cursor:  # the heap's order is the order the rows were written in
        cursor.execute("SELECT sku FROM orders_orderline WHERE order_id = %s ORDER BY ctid", [order.pk])
        written = [row[0] for row in cursor.fetchall()]
    assert written == sorted(skus)
