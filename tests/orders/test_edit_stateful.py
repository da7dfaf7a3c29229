"""Random sequences of order edits, line cancels and address changes, interleaved with captures,
receipts, cancels, pick lists, shipments and hold releases, keep every stock invariant of
design.md (check_inventory's) and the edits' own: shipments not yet picked carry exactly what is
reserved, totals add up, every edit writes one event.

Each step runs its after-commit callbacks (backorders are released as in production); each
example is rolled back at its end. Bounded to stay well under a minute.
"""

import contextlib
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from core.money import ZERO
from fulfillment.exceptions import NothingToPick
from fulfillment.models import Shipment
from fulfillment.picking import pick_list_create
from fulfillment.services import order_start_fulfillment, shipment_pack, shipment_ship
from inventory.models import Reservation, StockItem, Warehouse
from inventory.selectors import stock_list_discrepancies
from inventory.services import ReceiptLineInput, inbound_receipt_create, inbound_receipt_receive
from orders.edits import LineEdit, OrderEdit
from orders.exceptions import EditInvalid, OrderNotEditable
from orders.inputs import AddressInput
from orders.models import Channel, Order, OrderEvent, OrderHold
from orders.selectors import order_line_list_discrepancies, reservation_list_stale
from orders.services import (
    order_cancel,
    order_capture,
    order_edit,
    order_lines_cancel,
    order_payment_correct,
    order_release_hold,
)
from tests.conftest import make_order_input
from tests.factories import ChannelFactory, ProductFactory, ServiceLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

SKUS = ["P0", "P1", "P2", "P3"]
WAREHOUSES = ["A", "B", "C"]
STRATEGIES = list(Channel.AllocationStrategy.values)
S = Order.Status
ADDRESSES = {
    "new_york": AddressInput(
        name="Ada", line1="1 Broadway", city="New York", region="NY", postal_code="10001", country="US"
    ),
    "austin": AddressInput(
        name="Ada", line1="2 Congress Ave", city="Austin", region="TX", postal_code="73301", country="US"
    ),
    "berlin": AddressInput(
        name="Ada", line1="3 Unter den Linden", city="Berlin", region="BE", postal_code="10117", country="DE"
    ),
    "bad_postcode": AddressInput(
        name="Ada", line1="4 Nowhere", city="Boston", postal_code="ABC", country="US"
    ),
}
EDITABLE = [S.ON_HOLD, S.VERIFIED, S.BACKORDERED, S.ALLOCATED, S.PROCESSING, S.PARTIALLY_SHIPPED]


def after_commit():
    """Run the step's on-commit callbacks (backorder release, e-mails) when it ends."""
    return TestCase.captureOnCommitCallbacks(execute=True)


class EditMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        ServiceLevelFactory()
        ServiceLevelFactory(code="express", name="Express", speed="express", transit_days=1)
        self.warehouses = {
            "A": WarehouseFactory(code="A", country="US", region="NY", priority=1),
            "B": WarehouseFactory(code="B", country="US", region="TX", priority=2),
            "C": WarehouseFactory(code="C", country="DE", region="BE", priority=3),
        }
        self.products = {
            sku: ProductFactory(sku=sku, price=Decimal("5.00") + i) for i, sku in enumerate(SKUS)
        }
        self.channels = {
            s: ChannelFactory(code=s, name=s, allocation_strategy=s, return_window_days=30)
            for s in STRATEGIES
        }
        self.order_ids: list[int] = []
        # Stock to start with, so orders reach fulfilment and edits meet every state; each SKU
        # in one warehouse mostly, so orders of the split strategy ship in several parcels.
        for code, sku, units in [
            ("A", "P0", 8),
            ("A", "P1", 8),
            ("B", "P2", 8),
            ("B", "P3", 8),
            ("C", "P1", 4),
        ]:
            receipt = inbound_receipt_create(
                supplier="Acme",
                warehouse_id=self.warehouses[code].pk,
                lines=[ReceiptLineInput(self.products[sku].pk, units)],
            )
            inbound_receipt_receive(receipt_id=receipt.pk)

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers --------------------------------------------------------------------------------
    def _orders(self, *statuses):
        return list(Order.objects.filter(pk__in=self.order_ids, status__in=statuses).order_by("pk"))

    def _edited(self, order) -> int:
        return order.events.filter(kind=OrderEvent.Kind.EDITED).count()

    def _edit(self, order, run):
        """Run an edit; it changes the order and writes one event, or is refused and writes none."""
        before = self._edited(order)
        try:
            with after_commit():
                result = run()
        except OrderNotEditable:
            assert Shipment.objects.filter(order=order, status__in=["picking", "packed"]).exists()
            assert self._edited(order) == before
            return None
        except EditInvalid as exc:
            assert set(exc.errors) == {"lines"}, exc.errors  # nothing left: cancel the order instead
            assert self._edited(order) == before
            return None
        assert self._edited(order) == before + (1 if result.changed else 0)
        return result

    @initialize()
    def orders_in_every_state(self):
        """An allocated order, one being picked, one in fulfilment, and one split over two
        warehouses with one parcel gone, so edits meet each state from the first step."""
        allocated = self._capture("priority", {"P0": 2}, "new_york")
        picking = self._capture("priority", {"P1": 1}, "new_york")
        order_start_fulfillment(order_id=picking.pk)
        pick_list_create(warehouse_id=self.warehouses["A"].pk)
        processing = self._capture("nearest", {"P2": 2}, "austin")
        split = self._capture("split", {"P0": 1, "P2": 1}, "new_york")
        assert (allocated.status, processing.status, split.status) == (S.ALLOCATED,) * 3
        order_start_fulfillment(order_id=processing.pk)
        first, _ = order_start_fulfillment(order_id=split.pk)
        shipment_pack(shipment_id=first.pk)
        shipment_ship(shipment_id=first.pk, notify=False)

    def _capture(self, strategy, lines, address) -> Order:
        data = make_order_input(
            lines=[(sku, qty, "5.00") for sku, qty in lines.items()],
            email=f"c{len(self.order_ids)}@example.com",
            shipping_address=ADDRESSES[address],
        )
        with after_commit():
            order = order_capture(channel=self.channels[strategy], data=data)
        self.order_ids.append(order.pk)
        return order

    # --- the rest of the order's life -------------------------------------------------------------
    @rule(sku=st.sampled_from(SKUS), wh=st.sampled_from(WAREHOUSES), qty=st.integers(1, 6))
    def receive(self, sku, wh, qty):
        receipt = inbound_receipt_create(
            supplier="Acme",
            warehouse_id=self.warehouses[wh].pk,
            lines=[ReceiptLineInput(self.products[sku].pk, qty)],
        )
        with after_commit():
            inbound_receipt_receive(receipt_id=receipt.pk)

    @rule(
        strategy=st.sampled_from(STRATEGIES),
        lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1, max_size=3),
        address=st.sampled_from(["new_york", "austin", "berlin"]),
    )
    def capture(self, strategy, lines, address):
        order = self._capture(strategy, lines, address)
        assert order.status in (S.ALLOCATED, S.BACKORDERED)

    @rule(data=st.data())
    def cancel(self, data):
        candidates = self._orders(*Order.CANCELLABLE)
        if candidates:
            with after_commit():
                order_cancel(order_id=data.draw(st.sampled_from(candidates)).pk, notify=False)

    @rule(data=st.data())
    def start_fulfillment(self, data):
        candidates = self._orders(S.ALLOCATED)
        if candidates:
            with after_commit():
                order_start_fulfillment(order_id=data.draw(st.sampled_from(candidates)).pk)

    @rule(wh=st.sampled_from(WAREHOUSES))
    def pick(self, wh):
        with contextlib.suppress(NothingToPick):
            pick_list_create(warehouse_id=self.warehouses[wh].pk)

    @rule(data=st.data())
    def ship_one(self, data):
        shipments = list(
            Shipment.objects.filter(order_id__in=self.order_ids, status__in=["pending", "picking"]).order_by(
                "pk"
            )
        )
        if not shipments:
            return
        shipment = data.draw(st.sampled_from(shipments))
        with after_commit():
            shipment_pack(shipment_id=shipment.pk)
            shipment_ship(shipment_id=shipment.pk, notify=False)

    @rule(data=st.data())
    def release(self, data):
        candidates = self._orders(S.ON_HOLD)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        with after_commit():
            if order.holds.filter(reason=OrderHold.Reason.PAYMENT, released_at__isnull=True).exists():
                order_payment_correct(order_id=order.pk, method="card", reference="", status="paid")
            order_release_hold(order_id=order.pk, notify=False)

    # --- edits ------------------------------------------------------------------------------------
    @rule(data=st.data(), add=st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), max_size=2))
    def edit_lines(self, data, add):
        candidates = self._orders(*EDITABLE)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        edits = []
        for line in order.lines.all():
            choice = data.draw(st.sampled_from(["keep", "quantity", "swap", "drop"]))
            if choice == "swap" and not line.quantity_shipped:
                edits.append(
                    LineEdit(line_id=line.pk, sku=data.draw(st.sampled_from(SKUS)), quantity=line.quantity)
                )
            elif choice == "quantity":
                quantity = data.draw(st.integers(max(line.quantity_shipped, 1), line.quantity_shipped + 4))
                edits.append(LineEdit(line_id=line.pk, quantity=quantity))
            elif choice != "drop":
                edits.append(LineEdit(line_id=line.pk, quantity=line.quantity))
        edits += [LineEdit(sku=sku, quantity=qty) for sku, qty in add]
        changes = OrderEdit(
            lines=edits,
            shipping_speed=data.draw(st.sampled_from([None, "standard", "express"])),
            payment_collected=data.draw(st.booleans()),
        )
        self._edit(
            order, lambda: order_edit(order_id=order.pk, changes=changes, notify=data.draw(st.booleans()))
        )

    @rule(data=st.data())
    def cancel_units(self, data):
        lines = [
            line
            for order in self._orders(*EDITABLE)
            for line in order.lines.all()
            if line.quantity > line.quantity_shipped
        ]
        if not lines:
            return
        line = data.draw(st.sampled_from(lines))
        units = data.draw(st.integers(1, line.quantity - line.quantity_shipped))
        order = line.order
        self._edit(
            order, lambda: order_lines_cancel(order_id=order.pk, quantities={line.pk: units}, notify=False)
        )

    @rule(data=st.data(), address=st.sampled_from(list(ADDRESSES)))
    def change_address(self, data, address):
        candidates = self._orders(*EDITABLE)
        if not candidates:
            return
        order = data.draw(st.sampled_from(candidates))
        changes = OrderEdit(shipping_address=ADDRESSES[address])
        result = self._edit(order, lambda: order_edit(order_id=order.pk, changes=changes))
        order.refresh_from_db()
        if address == "bad_postcode" and result is not None and result.changed:
            # Past verification it is checked at once and held; on hold, its release checks it.
            assert order.status == S.ON_HOLD
            if result.status_before != S.ON_HOLD:
                assert order.holds.filter(reason=OrderHold.Reason.ADDRESS, released_at__isnull=True).exists()

    # --- invariants -----------------------------------------------------------------------------
    @invariant()
    def check_inventory_agrees(self):
        assert stock_list_discrepancies() == []
        assert order_line_list_discrepancies() == []
        assert reservation_list_stale() == []

    @invariant()
    def every_state_change_has_its_event(self):
        for order in Order.objects.filter(pk__in=self.order_ids).prefetch_related("events"):
            changes = [e for e in order.events.all() if e.to_status]
            assert changes and changes[-1].to_status == order.status, order.number

    @invariant()
    def unpicked_shipments_carry_what_is_reserved(self):
        """Per order and warehouse: pending shipment lines = active reservations there, for orders
        in fulfilment; orders waiting (held, backordered) have no pending shipment."""
        for order in Order.objects.filter(pk__in=self.order_ids):
            pending = Shipment.objects.filter(order=order, status="pending")
            if order.status not in (S.PROCESSING, S.PARTIALLY_SHIPPED):
                assert not pending.exists(), order.number
                continue
            shipped: dict[tuple[int, str], int] = defaultdict(int)
            for shipment in pending.prefetch_related("lines__order_line"):
                for sl in shipment.lines.all():
                    shipped[shipment.warehouse_id, sl.order_line.stock_reference] += sl.quantity
            reserved: dict[tuple[int, str], int] = defaultdict(int)
            busy = set(
                Shipment.objects.filter(order=order, status__in=["picking", "packed"]).values_list(
                    "warehouse_id", flat=True
                )
            )
            for res in Reservation.objects.filter(reference=order.stock_reference, status="active"):
                warehouse_id = res.stock_item.warehouse_id
                if warehouse_id not in busy:
                    reserved[warehouse_id, res.line_reference] += res.quantity
            assert dict(shipped) == dict(reserved), order.number

    @invariant()
    def totals_add_up(self):
        for order in Order.objects.filter(pk__in=self.order_ids).prefetch_related("lines"):
            subtotal = sum((line.unit_price * line.quantity for line in order.lines.all()), ZERO)
            assert order.subtotal == subtotal, order.number
            expected = max(
                order.subtotal + order.shipping_total + order.tax_total - order.discount_total, ZERO
            )
            assert order.total == expected, order.number

    @invariant()
    def no_backorder_waits_for_stock_that_is_there(self):
        waiting = self._orders(S.BACKORDERED)
        if not waiting:
            return
        active = list(Warehouse.objects.filter(is_active=True).values_list("pk", flat=True))
        available: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for item in StockItem.objects.all():
            available[item.warehouse_id][item.product_id] += item.on_hand - item.reserved
        for order in waiting:
            needed: dict[int, int] = defaultdict(int)
            for line in order.lines.all():
                needed[line.product_id] += line.quantity - line.quantity_shipped
            one_can = any(all(available[w][p] >= q for p, q in needed.items()) for w in active)
            together = all(sum(available[w][p] for w in active) >= q for p, q in needed.items())
            strategy = order.channel.allocation_strategy
            fillable = together if strategy == Channel.AllocationStrategy.SPLIT else one_can
            assert not fillable, f"{order.number} ({strategy}) waits although stock is there"


def test_random_edits_keep_every_invariant():
    run_state_machine_as_test(
        EditMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
            database=None,
        ),
    )
