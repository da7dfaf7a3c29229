"""orders.services.orders_capture: a batch of orders is captured as if they had arrived one after
another (arrival order decides who gets scarce stock and which of two identical orders is the
duplicate), with a number of statements that doesn't grow with the batch, one e-mail task for
all of it, and one bad or repeated order never undoing the others."""

from functools import partial

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from inventory.models import Reservation, StockItem
from orders.models import Channel, Order, OrderHold
from orders.services import CaptureRequest, orders_capture
from tests.conftest import make_order_input
from tests.factories import ChannelFactory, ProductFactory, WarehouseFactory, stock_put
from tests.races import run_together

from .helpers import stock

pytestmark = pytest.mark.django_db


def _requests(channel, count, *, sku="WIDGET-1", quantity=1, prefix="B", **overrides):
    return [
        CaptureRequest(
            channel=channel,
            data=make_order_input(
                lines=[(sku, quantity, "25.00")],
                external_id=f"{prefix}{i}",
                email=f"{prefix.lower()}{i}@example.com",
                **overrides,
            ),
        )
        for i in range(count)
    ]


def test_scarce_stock_goes_to_the_orders_that_arrived_first(channel, stocked_product):
    results = orders_capture(_requests(channel, 13))  # 10 in stock

    statuses = [r.order.status for r in results]
    assert statuses == [Order.Status.ALLOCATED] * 10 + [Order.Status.BACKORDERED] * 3
    assert [r.order.external_id for r in results] == [f"B{i}" for i in range(13)]
    assert stock(stocked_product) == (10, 10)
    assert Reservation.objects.filter(status=Reservation.Status.ACTIVE).count() == 10
    late = results[-1].order
    assert list(late.events.values_list("kind", flat=True)) == ["captured", "verified", "backordered", "note"]
    assert "WIDGET-1: 0 available in all warehouses, 1 needed" in late.events.last().message


def test_statements_per_batch_do_not_grow_with_the_batch(channel, stocked_product):
    StockItem.objects.update(on_hand=1000)  # allocation reads availability, not the ledger

    def statements(count, prefix):
        with CaptureQueriesContext(connection) as ctx:
            results = orders_capture(_requests(channel, count, prefix=prefix))
        assert all(r.created and r.order.status == Order.Status.ALLOCATED for r in results)
        return len(ctx.captured_queries)

    # A few orders insert their rows with INSERT ... RETURNING; from core.db.COPY_MIN_ROWS rows
    # on, a table's rows go with COPY after one query for their ids. Either way the count is
    # the batch's, not its orders'.
    statements(30, "W")  # the tables' id sequences are looked up once per process
    assert statements(2, "S") == statements(3, "T")
    assert statements(40, "L") == statements(120, "M")


def test_one_bad_order_leaves_the_others_captured(channel, stocked_product):
    requests = _requests(channel, 3)
    requests[1].data.lines[0].quantity = 0  # can't form an order

    results = orders_capture(requests)

    assert results[0].created and results[2].created
    assert results[1].order is None
    assert "lines[0].quantity" in results[1].error.errors
    assert Order.objects.count() == 2


def test_an_order_sent_twice_is_captured_once_before_or_within_the_batch(channel, stocked_product):
    [earlier] = orders_capture(_requests(channel, 1, prefix="X"))
    batch = _requests(channel, 2, prefix="X") + _requests(channel, 2, prefix="Y")
    batch.append(_requests(channel, 1, prefix="Y")[0])  # Y0 again, later in the same batch

    results = orders_capture(batch)

    assert results[0].duplicate and results[0].order == earlier.order
    assert results[1].created
    assert results[2].created and results[3].created
    assert results[4].duplicate and results[4].order == results[2].order
    assert Order.objects.count() == 4
    assert stock(stocked_product) == (10, 4)


def test_identical_orders_in_one_batch_hold_the_second_as_the_duplicate(channel, stocked_product):
    same = [
        CaptureRequest(
            channel=channel, data=make_order_input(lines=[("WIDGET-1", 2, "25.00")], external_id=external_id)
        )
        for external_id in ("D1", "D2")
    ]

    first, second = orders_capture(same)

    assert first.order.status == Order.Status.ALLOCATED
    assert second.order.status == Order.Status.ON_HOLD
    hold = second.order.holds.get()
    assert hold.reason == OrderHold.Reason.DUPLICATE
    assert first.order.number in hold.detail
    assert stock(stocked_product) == (10, 2)  # the held one reserves nothing


def test_each_channel_keeps_its_strategy_within_one_batch(stocked_product, warehouse):
    second = WarehouseFactory(code="EAST", priority=2)
    stock_put(stocked_product, second, 4, bin_location="E-1")  # MAIN 10, EAST 4
    split = ChannelFactory(allocation_strategy=Channel.AllocationStrategy.SPLIT)
    whole = ChannelFactory(allocation_strategy=Channel.AllocationStrategy.PRIORITY)

    results = orders_capture(
        _requests(split, 1, quantity=12, prefix="S") + _requests(whole, 1, quantity=3, prefix="W")
    )

    assert results[0].order.status == Order.Status.ALLOCATED
    allocated = results[0].order.events.get(kind="allocated")
    assert "split across MAIN (10 units), EAST (2 units)" in allocated.message
    # The split order, first, took MAIN's 10 and 2 of EAST's 4: 3 more fit in no single warehouse.
    assert results[1].order.status == Order.Status.BACKORDERED
    assert StockItem.objects.get(warehouse=second).reserved == 2


def test_orders_held_for_their_data_are_held_with_every_reason(channel, stocked_product):
    requests = _requests(channel, 2)
    requests[0].data.email = "not-an-email"
    requests[0].data.lines.append(make_order_input(lines=[("NOPE-9", 1, "1.00")]).lines[0])

    results = orders_capture(requests)

    held = results[0].order
    assert held.status == Order.Status.ON_HOLD
    assert set(held.holds.values_list("reason", flat=True)) == {
        OrderHold.Reason.INCOMPLETE,
        OrderHold.Reason.UNKNOWN_SKU,
    }
    assert results[1].order.status == Order.Status.ALLOCATED


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_the_batch_queues_one_task_for_every_confirmation(channel, stocked_product):
    results = orders_capture(_requests(channel, 12))  # 10 allocated, 2 backordered

    task = DBTaskResult.objects.get()
    assert task.task_path == "orders.notifications.send_order_emails"
    emails = task.args_kwargs["kwargs"]["emails"]
    by_order = {}
    for item in emails:
        by_order.setdefault(item["order_id"], []).append(item["kind"])
    assert by_order[results[0].order.pk] == ["confirmation"]
    assert by_order[results[-1].order.pk] == ["backordered", "confirmation"]
    assert len(by_order) == 12


def test_the_batch_e_mails_reach_every_customer(channel, stocked_product, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        results = orders_capture(_requests(channel, 3))

    assert sorted(m.to[0] for m in mail.outbox) == [f"b{i}@example.com" for i in range(3)]
    for r in results:
        assert r.order.events.filter(kind="email").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_capture_each_order_once_and_never_oversell():
    warehouse = WarehouseFactory(code="MAIN", priority=1)
    product = ProductFactory(sku="SCARCE-1")
    stock_put(product, warehouse, 15, bin_location="A-1")
    channel = ChannelFactory()
    # Both batches carry the same 20 orders (a redelivered burst) in different order, plus 10 of their own.
    shared = _requests(channel, 20, sku="SCARCE-1", prefix="S")
    own_a = _requests(channel, 10, sku="SCARCE-1", prefix="A")
    own_b = _requests(channel, 10, sku="SCARCE-1", prefix="Z")

    outcomes = run_together(
        [partial(orders_capture, shared + own_a), partial(orders_capture, own_b + shared[::-1])],
        raise_errors=True,
    )

    assert Order.objects.count() == 40
    created = [r.order.pk for results in outcomes for r in results if r.created]
    assert sorted(created) == sorted(Order.objects.values_list("pk", flat=True))
    for a, b in zip(outcomes[0][:20], outcomes[1][10:][::-1], strict=True):
        assert a.order.pk == b.order.pk and a.created != b.created
    item = StockItem.objects.get(product=product)
    assert item.reserved == 15
    assert Order.objects.filter(status=Order.Status.ALLOCATED).count() == 15
    assert Order.objects.filter(status=Order.Status.BACKORDERED).count() == 25
