"""Order edits racing other writers on PostgreSQL (SQLite ignores row locks): nothing is oversold,
nothing deadlocks, and check_inventory's invariants hold whoever wins.

- an edit that wants more units races captures of the same SKU;
- an edit of a backordered order races the receipt whose stock fills that backorder (the receipt's
  backorder run allocates the order after commit, the edit allocates it under its own lock);
- an edit races the pick list that takes its shipment: either the edit lands first and the list
  picks the new quantities, or the list wins and the edit is refused.
"""

import threading
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from fulfillment.models import PickListLine, Shipment
from fulfillment.picking import pick_list_create
from fulfillment.services import order_start_fulfillment
from inventory.models import Product, Reservation, StockItem
from inventory.selectors import stock_list_discrepancies
from inventory.services import ReceiptLineInput, inbound_receipt_create, inbound_receipt_receive
from orders.edits import LineEdit, OrderEdit
from orders.exceptions import OrderNotEditable
from orders.models import Order
from orders.selectors import order_line_list_discrepancies, reservation_list_stale
from orders.services import order_capture, order_edit
from tests.conftest import make_order_input
from tests.factories import ChannelFactory, ProductFactory, ServiceLevelFactory, WarehouseFactory, stock_put

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
S = Order.Status


def run_together(*jobs) -> list[Exception]:
    """Start every job at the same moment, each in its own thread and connection; return what
    they raised, apart from the refusals a job says it expects (it returns them)."""
    barrier = threading.Barrier(len(jobs))
    errors: list[Exception] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # noqa: BLE001 - surfaced to the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def assert_consistent():
    assert stock_list_discrepancies() == []
    assert order_line_list_discrepancies() == []
    assert reservation_list_stale() == []


def capture(channel, lines, i):
    return order_capture(
        channel=channel,
        data=make_order_input(lines=lines, email=f"racer{i}@example.com", external_id=f"race-{i}"),
    )


def test_an_edit_wanting_more_units_races_captures_of_the_same_sku():
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="RACE")
    product = ProductFactory(sku="LAST-10", price=Decimal("5.00"))
    stock_put(product, warehouse, 10)
    edited = capture(channel, [("LAST-10", 2, "5.00")], 0)
    line = edited.lines.get()

    def edit():
        order_edit(
            order_id=edited.pk,
            changes=OrderEdit(lines=[LineEdit(line_id=line.pk, quantity=6)], payment_collected=True),
        )

    def buy(i):
        return lambda: capture(channel, [("LAST-10", 1, "5.00")], i)

    errors = run_together(edit, *[buy(i) for i in range(1, 8)])

    assert errors == []
    item = StockItem.objects.get(product=Product.objects.get(sku="LAST-10"))
    assert item.on_hand == 10 and item.reserved <= 10
    orders = {o.pk: o for o in Order.objects.prefetch_related("lines")}
    held: dict[str, int] = defaultdict(int)  # a line may hold units in several bins
    for ref, qty in Reservation.objects.filter(status="active").values_list("line_reference", "quantity"):
        held[ref] += qty
    for order in orders.values():
        wanted = sum(ln.quantity for ln in order.lines.all())
        got = sum(held.get(ln.stock_reference, 0) for ln in order.lines.all())
        # All or nothing per order: allocated with every unit, or waiting with none.
        assert (order.status, got) in {(S.ALLOCATED, wanted), (S.BACKORDERED, 0)}, order.number
    assert sum(held.values()) == item.reserved
    assert orders[edited.pk].lines.get().quantity == 6
    assert_consistent()


def test_a_receipt_filling_a_backorder_races_an_edit_of_that_order():
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="RACE")
    ServiceLevelFactory()
    product = ProductFactory(sku="ARRIVING", price=Decimal("5.00"))
    other = ProductFactory(sku="ON-SHELF", price=Decimal("3.00"))
    stock_put(other, warehouse, 10)
    waiting = capture(channel, [("ARRIVING", 2, "5.00")], 0)
    assert waiting.status == S.BACKORDERED
    line = waiting.lines.get()
    receipt = inbound_receipt_create(
        supplier="Acme", warehouse_id=warehouse.pk, lines=[ReceiptLineInput(product.pk, 5)]
    )

    def receive():
        inbound_receipt_receive(receipt_id=receipt.pk)  # its backorder run follows the commit

    def edit():
        order_edit(
            order_id=waiting.pk,
            changes=OrderEdit(
                lines=[LineEdit(line_id=line.pk, quantity=3), LineEdit(sku="ON-SHELF", quantity=1)],
                payment_collected=True,
            ),
        )

    errors = run_together(receive, edit)

    assert errors == []
    waiting.refresh_from_db()
    arriving = StockItem.objects.get(product=product)
    assert arriving.on_hand == 5
    # Allocated exactly once, for the edited lines, whichever ran first.
    assert waiting.status == S.ALLOCATED
    assert {ln.sku: ln.quantity for ln in waiting.lines.all()} == {"ARRIVING": 3, "ON-SHELF": 1}
    assert arriving.reserved == 3 and StockItem.objects.get(product=other).reserved == 1
    assert_consistent()


def test_an_edit_races_the_pick_list_that_takes_its_shipment():
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="RACE")
    ServiceLevelFactory()
    product = ProductFactory(sku="MUG", price=Decimal("5.00"))
    stock_put(product, warehouse, 10)
    order = capture(channel, [("MUG", 1, "5.00")], 0)
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    line = order.lines.get()
    refused = []

    def edit():
        try:
            order_edit(
                order_id=order.pk,
                changes=OrderEdit(lines=[LineEdit(line_id=line.pk, quantity=3)], payment_collected=True),
            )
        except OrderNotEditable as exc:
            refused.append(exc)

    errors = run_together(edit, lambda: pick_list_create(warehouse_id=warehouse.pk))

    assert errors == []
    line.refresh_from_db()
    picked = PickListLine.objects.get()
    assert Shipment.objects.get(pk=shipment.pk).status == Shipment.Status.PICKING
    if refused:  # the list took the shipment first: the order is as it was
        assert (line.quantity, picked.quantity) == (1, 1)
    else:  # the edit came first: the list picks what the order is now
        assert (line.quantity, picked.quantity) == (3, 3)
    assert StockItem.objects.get(product=product).reserved == line.quantity
    assert_consistent()
