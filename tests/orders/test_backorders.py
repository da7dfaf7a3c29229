"""Backordered orders are allocated oldest first as soon as stock arrives, and customers hear of it."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from inventory.models import StockItem
from inventory.services import (
    ReceiptLineInput,
    inbound_receipt_create,
    inbound_receipt_receive,
    stock_adjust,
    stock_count_record,
    stock_transfer,
)
from orders.backorders import backorders_allocate
from orders.models import Order, OrderEvent
from orders.services import order_cancel, order_capture
from tests.factories import ProductFactory, WarehouseFactory, stock_put

pytestmark = pytest.mark.django_db


@pytest.fixture
def backorders(channel, warehouse, order_input):
    """Three orders for WIDGET-1 placed an hour apart with nothing in stock: 2, 3 and 1 units."""
    ProductFactory(sku="WIDGET-1")
    start = timezone.now() - dt.timedelta(hours=5)
    orders = []
    for i, qty in enumerate([2, 3, 1]):
        data = order_input(lines=[("WIDGET-1", qty, "10.00")], placed_at=start + dt.timedelta(hours=i))
        data.email = f"c{i}@example.com"
        orders.append(order_capture(channel=channel, data=data))
    assert {o.status for o in orders} == {Order.Status.BACKORDERED}
    return orders


def statuses(orders):
    return [Order.objects.get(pk=o.pk).status for o in orders]


def test_customer_is_told_of_the_backorder(
    channel, warehouse, order_input, django_capture_on_commit_callbacks
):
    ProductFactory(sku="WIDGET-1")
    with django_capture_on_commit_callbacks(execute=True):
        order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "10.00")]))
    assert order.status == Order.Status.BACKORDERED
    subjects = [m.subject for m in mail.outbox]
    assert f"Part of order {order.number} is on backorder" in subjects
    assert order.events.filter(kind=OrderEvent.Kind.BACKORDERED, visible_to_customer=True).exists()


def test_receipt_releases_backorders_oldest_first(backorders, warehouse, django_capture_on_commit_callbacks):
    product = backorders[0].lines.get().product
    receipt = inbound_receipt_create(
        supplier="Acme", warehouse_id=warehouse.pk, lines=[ReceiptLineInput(product.pk, 10)]
    )
    (line,) = receipt.lines.all()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        inbound_receipt_receive(receipt_id=receipt.pk, quantities={line.pk: 4})

    # Oldest (2) fits; the next (3) doesn't fit in the 2 left, so the youngest (1) takes one.
    assert statuses(backorders) == ["allocated", "backordered", "allocated"]
    item = StockItem.objects.get(product=product)
    assert (item.on_hand, item.reserved) == (4, 3)
    released = [m for m in mail.outbox if "Good news" in m.subject]
    assert sorted(m.to[0] for m in released) == ["c0@example.com", "c2@example.com"]
    assert backorders[0].events.filter(kind=OrderEvent.Kind.ALLOCATED, visible_to_customer=True).exists()
    assert not backorders[1].events.filter(message__startswith="Allocation tried again").exists()


@pytest.mark.parametrize("how", ["adjustment", "count", "transfer", "cancellation"])
def test_every_kind_of_arrival_releases_backorders(
    how, backorders, warehouse, channel, order_input, django_capture_on_commit_callbacks
):
    product = backorders[0].lines.get().product
    other = WarehouseFactory(code="OTHER", priority=50)
    if how == "cancellation":
        # Stock reserved by a newer order that is then cancelled goes to the waiting ones.
        stock_put(product, warehouse, 2)
        holder = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "1.00")]))
        assert holder.status == Order.Status.ALLOCATED
    else:
        stock_put(product, other if how == "transfer" else warehouse, 2)
    item = StockItem.objects.filter(product=product).first()
    if how == "count":
        stock_adjust(stock_item_id=item.pk, quantity=-2, reason_code="lost")
    with django_capture_on_commit_callbacks(execute=True):
        if how == "adjustment":
            stock_adjust(stock_item_id=item.pk, quantity=2, reason_code="found")
        elif how == "count":
            stock_count_record(stock_item_id=item.pk, counted=2)
        elif how == "transfer":
            # Backorders allocated at 'other' directly would also count; make it the only path:
            other.is_active = False
            other.save()
            stock_transfer(stock_item_id=item.pk, to_warehouse_id=warehouse.pk, quantity=2)
        else:
            order_cancel(order_id=holder.pk)

    assert statuses(backorders)[0] == Order.Status.ALLOCATED


def test_cancelled_backorder_is_skipped(backorders, warehouse):
    product = backorders[0].lines.get().product
    order_cancel(order_id=backorders[0].pk)
    stock_put(product, warehouse, 3)

    allocated = backorders_allocate(product_ids=[product.pk])

    assert allocated == [backorders[1].pk]
    assert statuses(backorders) == ["cancelled", "allocated", "backordered"]


def test_unrelated_products_leave_backorders_waiting(
    backorders, warehouse, django_capture_on_commit_callbacks
):
    other = ProductFactory(sku="OTHER")
    with django_capture_on_commit_callbacks(execute=True):
        stock_put(other, warehouse, 50)
    assert set(statuses(backorders)) == {Order.Status.BACKORDERED}
