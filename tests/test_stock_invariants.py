"""Random sequences of receipts, captures, cancels, shipments, returns, counts and transfers keep
every stock invariant of design.md after every step.

Each step runs its after-commit callbacks (so backorders are released as in production); each
example is rolled back at its end. Bounded to stay well under a minute.
"""

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from core.exceptions import DomainError
from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from inventory.models import StockItem, Warehouse
from inventory.selectors import stock_list_discrepancies
from inventory.services import (
    ReceiptLineInput,
    inbound_receipt_create,
    inbound_receipt_receive,
    stock_count_record,
    stock_transfer,
)
from orders.models import Channel, Order
from orders.selectors import order_line_list_discrepancies, reservation_list_stale
from orders.services import order_cancel, order_capture
from returns.services import (
    return_request_approve,
    return_request_create,
    return_request_inspect,
    return_request_receive,
)
from tests.conftest import make_order_input
from tests.factories import ChannelFactory, ProductFactory, ServiceLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

SKUS = ["P0", "P1", "P2"]
WAREHOUSES = ["A", "B", "C"]
STRATEGIES = list(Channel.AllocationStrategy.values)
S = Order.Status


def after_commit():
    """Run the step's on-commit callbacks (backorder release, e-mails) when it ends."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def _available_by_warehouse(*, product_ids) -> dict[int, dict[int, int]]:
    """Available units as {warehouse_id: {product_id: units}} over active warehouses: what
    allocation reads under lock, read here without one to check its decisions."""
    available: dict[int, dict[int, int]] = {}
    items = StockItem.objects.filter(product_id__in=product_ids, warehouse__is_active=True)
    for item in items:
        stock = available.setdefault(item.warehouse_id, {})
        stock[item.product_id] = stock.get(item.product_id, 0) + item.on_hand - item.reserved
    return available


class InventoryMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        ServiceLevelFactory()
        self.warehouses = {
            "A": WarehouseFactory(code="A", country="US", region="NY", priority=1),
            "B": WarehouseFactory(code="B", country="US", region="TX", priority=2),
            "C": WarehouseFactory(code="C", country="DE", region="BE", priority=3),
        }
        self.products = {sku: ProductFactory(sku=sku, price=Decimal("5.00")) for sku in SKUS}
        self.channels = {
            s: ChannelFactory(code=s, name=s, allocation_strategy=s, return_window_days=30)
            for s in STRATEGIES
        }
        self.order_ids: list[int] = []

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers --------------------------------------------------------------------------------
    def _orders(self, *statuses):
        return list(Order.objects.filter(pk__in=self.order_ids, status__in=statuses).order_by("pk"))

    def _items(self):
        return list(StockItem.objects.order_by("pk"))

    # --- rules ----------------------------------------------------------------------------------
    @rule(
        sku=st.sampled_from(SKUS), wh=st.sampled_from(WAREHOUSES), qty=st.integers(1, 6), part=st.booleans()
    )
    def receive(self, sku, wh, qty, part):
        receipt = inbound_receipt_create(
            supplier="Acme",
            warehouse_id=self.warehouses[wh].pk,
            lines=[ReceiptLineInput(self.products[sku].pk, qty)],
        )
        (line,) = receipt.lines.all()
        with after_commit():
            inbound_receipt_receive(receipt_id=receipt.pk, quantities={line.pk: 1} if part else None)

    @rule(
        strategy=st.sampled_from(STRATEGIES),
        lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 5), min_size=1, max_size=3),
    )
    def capture(self, strategy, lines):
        data = make_order_input(
            lines=[(sku, qty, "5.00") for sku, qty in lines.items()],
            email=f"c{len(self.order_ids)}@example.com",
        )
        with after_commit():
            order = order_capture(channel=self.channels[strategy], data=data)
        assert order.status in (S.ALLOCATED, S.BACKORDERED)
        self.order_ids.append(order.pk)

    @rule(data=st.data())
    def cancel(self, data):
        candidates = self._orders(S.ALLOCATED, S.BACKORDERED)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        with after_commit():
            order_cancel(order_id=order.pk, notify=False)

    @rule(data=st.data())
    def ship(self, data):
        candidates = self._orders(S.ALLOCATED)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        with after_commit():
            shipments = order_start_fulfillment(order_id=order.pk)
            for shipment in shipments:
                shipment_pack(shipment_id=shipment.pk)
                shipment_ship(shipment_id=shipment.pk, notify=False)

    @rule(data=st.data(), resellable=st.booleans())
    def deliver_and_return(self, data, resellable):
        candidates = self._orders(S.SHIPPED)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        for shipment in order.shipments.all():
            shipment_deliver(shipment_id=shipment.pk, notify=False)
        line = data.draw(st.sampled_from(list(order.lines.all())))
        rr = return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="damaged")
        return_request_approve(return_id=rr.pk)
        condition = "resellable" if resellable else "damaged"
        with after_commit():
            return_request_receive(return_id=rr.pk)
            return_request_inspect(return_id=rr.pk, results={rr.lines.get().pk: (condition, "")})

    @rule(data=st.data(), delta=st.integers(-4, 4))
    def count(self, data, delta):
        items = self._items()
        if not items:
            return
        item = data.draw(st.sampled_from(items))
        counted = max(item.on_hand + delta, 0)
        with after_commit():
            try:
                stock_count_record(stock_item_id=item.pk, counted=counted)
            except DomainError:
                assert counted < item.reserved  # the only reason a count is refused

    @rule(data=st.data(), to=st.sampled_from(WAREHOUSES), qty=st.integers(1, 4))
    def transfer(self, data, to, qty):
        items = [i for i in self._items() if i.warehouse_id != self.warehouses[to].pk]
        if not items:
            return
        item = data.draw(st.sampled_from(items))
        with after_commit():
            try:
                stock_transfer(stock_item_id=item.pk, to_warehouse_id=self.warehouses[to].pk, quantity=qty)
            except DomainError:
                assert qty > item.available  # refused only when not enough is free

    # --- invariants -----------------------------------------------------------------------------
    @invariant()
    def ledger_and_reservations_agree(self):
        assert stock_list_discrepancies() == []

    @invariant()
    def allocated_lines_are_reserved_or_shipped(self):
        assert order_line_list_discrepancies() == []

    @invariant()
    def no_stale_reservations(self):
        assert reservation_list_stale() == []

    @invariant()
    def every_state_change_has_its_event(self):
        for order in Order.objects.filter(pk__in=self.order_ids).prefetch_related("events"):
            changes = [e for e in order.events.all() if e.to_status]
            assert changes and changes[-1].to_status == order.status, order.number

    @invariant()
    def no_backorder_waits_for_stock_that_is_there(self):
        waiting = self._orders(S.BACKORDERED)
        if not waiting:
            return
        active = set(Warehouse.objects.filter(is_active=True).values_list("pk", flat=True))
        available = _available_by_warehouse(product_ids=[p.pk for p in self.products.values()])
        for order in waiting:
            needed: dict[int, int] = {}
            for line in order.lines.all():
                needed[line.product_id] = needed.get(line.product_id, 0) + line.quantity
            one_can = any(all(available.get(w, {}).get(p, 0) >= q for p, q in needed.items()) for w in active)
            together = all(
                sum(available.get(w, {}).get(p, 0) for w in active) >= q for p, q in needed.items()
            )
            strategy = order.channel.allocation_strategy
            fillable = together if strategy == Channel.AllocationStrategy.SPLIT else one_can
            assert not fillable, f"{order.number} ({strategy}) waits although stock is there"


def test_random_operations_keep_every_invariant():
    run_state_machine_as_test(
        InventoryMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
