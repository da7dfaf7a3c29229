"""Order edits (orders.services.edit): every kind of change, the refusals, partly shipped orders,
the money, the one event and the one e-mail, and a query count that doesn't grow with the lines."""

import itertools
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.models import Shipment
from fulfillment.packing import shipment_pack_scan
from fulfillment.picking import pick_list_create
from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from inventory.models import StockItem
from inventory.selectors import stock_list_discrepancies
from orders.edits import LineEdit, OrderEdit
from orders.exceptions import EditInvalid, OrderNotEditable
from orders.inputs import AddressInput
from orders.models import Channel, Order, OrderEvent, OrderHold
from orders.selectors import order_line_list_discrepancies, reservation_list_stale
from orders.services import (
    order_cancel,
    order_capture,
    order_edit,
    order_edit_preview,
    order_lines_cancel,
    order_release_hold,
)
from returns.models import Refund, StoreCredit
from tests.conftest import make_order_input
from tests.factories import ProductFactory, ServiceLevelFactory, UserFactory, WarehouseFactory, stock_put

pytestmark = pytest.mark.django_db

S = Order.Status
D = Decimal
emails = itertools.count(1)


@pytest.fixture
def catalog(warehouse, service_level):
    """A mug, a lamp and a T-shirt in two sizes, all in stock in MAIN."""
    products = {
        "MUG": ProductFactory(sku="MUG", name="Mug", price=D("12.00")),
        "LAMP": ProductFactory(sku="LAMP", name="Lamp", price=D("40.00")),
        "TEE-M": ProductFactory(sku="TEE-M", name="T-shirt M", price=D("18.00")),
        "TEE-L": ProductFactory(sku="TEE-L", name="T-shirt L", price=D("20.00")),
    }
    for product in products.values():
        stock_put(product, warehouse, 10, bin_location="A-1")
    return products


@pytest.fixture
def staff(db):
    return UserFactory(username="service-desk")


def capture(channel, lines, **overrides):
    overrides.setdefault("email", f"buyer{next(emails)}@example.com")  # else: suspected duplicate
    data = make_order_input(lines=[(sku, qty, price) for sku, qty, price in lines], **overrides)
    return order_capture(channel=channel, data=data)


def line_of(order, sku):
    return order.lines.get(sku=sku)


def reserved(product) -> int:
    return sum(StockItem.objects.filter(product=product).values_list("reserved", flat=True))


def keep(order, **quantities) -> list[LineEdit]:
    """The order's lines as LineEdits, with new quantities for the SKUs named."""
    return [
        LineEdit(line_id=line.pk, quantity=quantities.get(line.sku.replace("-", "_"), line.quantity))
        for line in order.lines.all()
    ]


def consistent():
    assert stock_list_discrepancies() == []
    assert order_line_list_discrepancies() == []
    assert reservation_list_stale() == []


def edited_events(order):
    return list(order.events.filter(kind=OrderEvent.Kind.EDITED))


# --- each kind of edit --------------------------------------------------------------------------
def test_adding_a_line_reserves_it_and_records_the_money_paid_with_the_edit(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00")])

    result = order_edit(
        order_id=order.pk,
        changes=OrderEdit(lines=[*keep(order), LineEdit(sku="MUG", quantity=1)], payment_collected=True),
        actor=staff,
        reason="Customer called: a second mug",
    )

    order.refresh_from_db()
    assert order.status == S.ALLOCATED
    assert order.total == D("24.00") and order.payment_status == Order.PaymentStatus.PAID
    assert reserved(catalog["MUG"]) == 2
    assert result.money.difference == D("12.00") and result.money.collect == 0
    consistent()


def test_adding_a_line_left_to_pay_holds_the_order_until_the_payment_is_recorded(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00")])

    result = order_edit(
        order_id=order.pk,
        changes=OrderEdit(lines=[*keep(order), LineEdit(sku="LAMP", quantity=1)]),
        actor=staff,
        reason="add a lamp",
    )

    order.refresh_from_db()
    assert result.money.collect == D("40.00")
    assert order.payment_status == Order.PaymentStatus.PENDING
    assert order.status == S.ON_HOLD
    hold = order.holds.get(released_at__isnull=True)
    assert hold.reason == OrderHold.Reason.PAYMENT and "40.00 USD more to collect" in hold.detail
    assert reserved(catalog["MUG"]) == reserved(catalog["LAMP"]) == 0  # a held order holds no stock
    consistent()

    # Staff record the payment, then release: the order is reserved again, lamp included.
    from orders.services import order_payment_correct

    order_payment_correct(order_id=order.pk, method="card", reference="", status="authorized", actor=staff)
    order_release_hold(order_id=order.pk, actor=staff)
    order.refresh_from_db()
    assert order.status == S.ALLOCATED
    assert reserved(catalog["LAMP"]) == 1
    consistent()


def test_removing_a_line_releases_its_stock_and_pays_back_its_share(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00"), ("LAMP", 1, "40.00")], tax_total=D("5.20"))

    result = order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, LAMP=0)), actor=staff)

    order.refresh_from_db()
    assert list(order.lines.values_list("sku", flat=True)) == ["MUG"]
    assert reserved(catalog["LAMP"]) == 0 and reserved(catalog["MUG"]) == 1
    # Tax keeps its share of the items: 5.20 on 52.00 of items becomes 1.20 on 12.00.
    assert (order.subtotal, order.tax_total, order.total) == (D("12.00"), D("1.20"), D("13.20"))
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.method, refund.return_request) == (D("44.00"), "original_payment", None)
    assert result.money.refund == D("44.00")
    assert order.status == S.ALLOCATED and order.payment_status == Order.PaymentStatus.PAID
    consistent()


def test_changing_a_quantity_moves_the_reservation_with_it(channel, catalog, staff):
    order = capture(channel, [("MUG", 3, "12.00")])

    order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, MUG=1)), actor=staff)

    assert reserved(catalog["MUG"]) == 1
    assert line_of(order, "MUG").quantity == 1
    consistent()


def test_swapping_a_variant_reserves_the_new_product_at_its_list_price(channel, catalog, staff):
    order = capture(channel, [("TEE-M", 2, "18.00")])
    line = line_of(order, "TEE-M")

    result = order_edit(
        order_id=order.pk,
        changes=OrderEdit(lines=[LineEdit(line_id=line.pk, sku="TEE-L", quantity=2)], payment_collected=True),
        actor=staff,
    )

    line.refresh_from_db()
    assert (line.sku, line.product, line.name, line.unit_price) == (
        "TEE-L",
        catalog["TEE-L"],
        "T-shirt L",
        D("20.00"),
    )
    assert reserved(catalog["TEE-M"]) == 0 and reserved(catalog["TEE-L"]) == 2
    (change,) = result.plan.line_changes
    assert change.change == "swapped" and "T-shirt M (TEE-M) swapped for 2 × T-shirt L (TEE-L)" in change.text
    consistent()


def test_a_swap_keeps_the_price_staff_give(channel, catalog, staff):
    order = capture(channel, [("TEE-M", 1, "18.00")])
    line = line_of(order, "TEE-M")

    order_edit(
        order_id=order.pk,
        changes=OrderEdit(lines=[LineEdit(line_id=line.pk, sku="TEE-L", quantity=1, unit_price=D("18.00"))]),
    )

    order.refresh_from_db()
    assert order.total == D("18.00") and order.payment_status == Order.PaymentStatus.PAID


def test_a_new_address_is_checked_again_and_can_hold_the_order(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00")])

    order_edit(
        order_id=order.pk,
        changes=OrderEdit(
            shipping_address=AddressInput(
                name="Ada", line1="1 Office Park", city="Boston", postal_code="ABC", country="us"
            )
        ),
        actor=staff,
        reason="ship it to my office instead",
    )

    order.refresh_from_db()
    assert order.shipping_address.city == "Boston" and order.shipping_address.country == "US"
    assert order.status == S.ON_HOLD
    assert order.holds.get().reason == OrderHold.Reason.ADDRESS
    assert reserved(catalog["MUG"]) == 0
    (event,) = edited_events(order)
    assert event.changes["shipping_address"]["before"]["city"] == "New York"
    assert event.changes["shipping_address"]["after"]["city"] == "Boston"
    assert (event.from_status, event.to_status) == (S.ALLOCATED, S.ON_HOLD)
    consistent()


def test_a_new_address_moves_the_stock_to_the_nearest_warehouse(channel, catalog, staff):
    channel.allocation_strategy = Channel.AllocationStrategy.NEAREST
    channel.save()
    west = WarehouseFactory(code="WEST", country="US", region="CA", priority=50)
    stock_put(catalog["MUG"], west, 5)
    order = capture(channel, [("MUG", 1, "12.00")])  # NY: MAIN (US, no region) is nearer... both US
    stock_items = {i.warehouse.code: i for i in StockItem.objects.filter(product=catalog["MUG"])}
    assert stock_items["MAIN"].reserved == 1

    order_edit(
        order_id=order.pk,
        changes=OrderEdit(
            shipping_address=AddressInput(
                name="Ada",
                line1="1 Beach Rd",
                city="Los Angeles",
                region="CA",
                postal_code="90001",
                country="US",
            )
        ),
    )

    stock_items = {i.warehouse.code: i for i in StockItem.objects.filter(product=catalog["MUG"])}
    assert (stock_items["MAIN"].reserved, stock_items["WEST"].reserved) == (0, 1)
    consistent()


def test_a_value_over_the_limit_holds_the_order_even_after_a_limit_review(channel, catalog, staff, settings):
    settings.OMS = {**settings.OMS, "MAX_ORDER_VALUE": "100.00"}
    order = capture(channel, [("LAMP", 3, "40.00")])  # 120.00: held for review, then released
    assert order.status == S.ON_HOLD
    order_release_hold(order_id=order.pk, actor=staff)
    order.refresh_from_db()
    assert order.status == S.ALLOCATED

    order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, LAMP=5), payment_collected=True))

    order.refresh_from_db()
    assert order.status == S.ON_HOLD
    assert order.holds.get(released_at__isnull=True).reason == OrderHold.Reason.LIMIT


def test_a_speed_change_rebuilds_the_unpicked_shipment_with_a_faster_service(channel, catalog, staff):
    express = ServiceLevelFactory(code="express", name="Express", speed="express", transit_days=1)
    order = capture(channel, [("MUG", 1, "12.00")])
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    assert shipment.service_level.code == "ground"

    result = order_edit(
        order_id=order.pk,
        changes=OrderEdit(shipping_speed="express", shipping_total=D("9.00"), payment_collected=True),
        actor=staff,
    )

    shipment.refresh_from_db()
    order.refresh_from_db()
    assert order.status == S.PROCESSING and order.shipping_speed == "express"
    assert shipment.service_level == express
    assert order.total == D("21.00") and result.money.difference == D("9.00")
    assert any(shipment.number in text and "Express" in text for text in result.outcome)


def test_an_unpicked_shipment_follows_new_lines_and_keeps_its_number(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00"), ("LAMP", 1, "40.00")])
    (shipment,) = order_start_fulfillment(order_id=order.pk)

    order_edit(
        order_id=order.pk,
        changes=OrderEdit(
            lines=[*keep(order, LAMP=0), LineEdit(sku="TEE-M", quantity=2)], payment_collected=True
        ),
    )

    (rebuilt,) = Shipment.objects.filter(order=order)
    assert rebuilt.number == shipment.number
    assert sorted((sl.order_line.sku, sl.quantity) for sl in rebuilt.lines.all()) == [
        ("MUG", 1),
        ("TEE-M", 2),
    ]
    order.refresh_from_db()
    assert order.status == S.PROCESSING
    consistent()


# --- backorders --------------------------------------------------------------------------------
def test_a_line_that_cant_be_reserved_makes_the_order_backordered(channel, catalog, staff):
    scarce = ProductFactory(sku="SCARCE", name="Scarce", price=D("5.00"))
    order = capture(channel, [("MUG", 1, "12.00")])
    (shipment,) = order_start_fulfillment(order_id=order.pk)

    result = order_edit(
        order_id=order.pk,
        changes=OrderEdit(lines=[*keep(order), LineEdit(sku=scarce.sku, quantity=1)], payment_collected=True),
        actor=staff,
        reason="add a scarce one",
    )

    order.refresh_from_db()
    assert order.status == S.BACKORDERED
    assert reserved(catalog["MUG"]) == 0
    assert not Shipment.objects.filter(pk=shipment.pk).exists()  # a plan that no longer holds
    assert any(text.startswith("Backordered") for text in result.outcome)
    consistent()

    stock_put(scarce, WarehouseFactory(code="MAIN"), 3)  # stock arrives: backorders run after commit
    from orders.backorders import backorders_allocate

    backorders_allocate(product_ids=[scarce.pk])
    order.refresh_from_db()
    assert order.status == S.ALLOCATED
    consistent()


def test_dropping_the_backordered_line_lets_the_rest_go(channel, catalog, staff):
    ProductFactory(sku="SCARCE", name="Scarce", price=D("5.00"))
    order = capture(channel, [("MUG", 1, "12.00"), ("SCARCE", 1, "5.00")])
    assert order.status == S.BACKORDERED

    result = order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, SCARCE=0)), reason="drop it")

    order.refresh_from_db()
    assert order.status == S.ALLOCATED
    assert reserved(catalog["MUG"]) == 1
    assert result.event.to_status == S.ALLOCATED
    consistent()


# --- refusals and partly shipped orders -----------------------------------------------------------
def test_an_order_being_picked_cant_change(channel, catalog, warehouse, staff):
    order = capture(channel, [("MUG", 1, "12.00")])
    order_start_fulfillment(order_id=order.pk)
    pick_list_create(warehouse_id=warehouse.pk)

    with pytest.raises(OrderNotEditable, match="is being picked"):
        order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, MUG=2)))
    assert line_of(order, "MUG").quantity == 1


def test_an_order_with_units_scanned_into_the_box_cant_change(channel, catalog, staff):
    order = capture(channel, [("MUG", 2, "12.00")])
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    shipment_pack_scan(shipment_id=shipment.pk, code="MUG")

    with pytest.raises(OrderNotEditable, match="is being packed"):
        order_lines_cancel(order_id=order.pk, quantities={line_of(order, "MUG").pk: 1})


@pytest.mark.parametrize("end", ["shipped", "delivered", "cancelled"])
def test_an_order_that_is_done_cant_change(channel, catalog, end):
    order = capture(channel, [("MUG", 1, "12.00")])
    if end == "cancelled":
        order_cancel(order_id=order.pk)
    else:
        (shipment,) = order_start_fulfillment(order_id=order.pk)
        shipment_pack(shipment_id=shipment.pk)
        shipment_ship(shipment_id=shipment.pk)
        if end == "delivered":
            shipment_deliver(shipment_id=shipment.pk)

    with pytest.raises(OrderNotEditable):
        order_edit(order_id=order.pk, changes=OrderEdit(shipping_speed="express"))


@pytest.fixture
def split_order(channel, catalog, warehouse):
    """A mug from MAIN and a lamp from EAST: two shipments; the mug's has left."""
    channel.allocation_strategy = Channel.AllocationStrategy.SPLIT
    channel.save()
    east = WarehouseFactory(code="EAST", priority=20)
    lamp = ProductFactory(sku="LAMP2", name="Lamp two", price=D("40.00"))
    stock_put(lamp, east, 5)
    order = capture(channel, [("MUG", 2, "12.00"), ("LAMP2", 2, "40.00")])
    shipments = {s.warehouse.code: s for s in order_start_fulfillment(order_id=order.pk)}
    shipment_pack(shipment_id=shipments["MAIN"].pk)
    shipment_ship(shipment_id=shipments["MAIN"].pk)
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_SHIPPED
    return order, shipments


def test_a_partly_shipped_order_changes_only_what_hasnt_shipped(split_order, staff):
    order, shipments = split_order

    with pytest.raises(EditInvalid, match="already shipped"):
        order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, MUG=1)))
    with pytest.raises(EditInvalid, match="already shipped"):
        mug = line_of(order, "MUG")
        order_edit(
            order_id=order.pk, changes=OrderEdit(lines=[LineEdit(line_id=mug.pk, sku="TEE-M", quantity=2)])
        )

    result = order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, LAMP2=1)), actor=staff)

    order.refresh_from_db()
    assert order.status == S.PARTIALLY_SHIPPED
    assert [sl.quantity for sl in Shipment.objects.get(pk=shipments["EAST"].pk).lines.all()] == [1]
    assert result.money.refund == D("40.00")
    consistent()


def test_dropping_everything_left_completes_a_partly_shipped_order(split_order, staff):
    order, shipments = split_order
    shipment_deliver(shipment_id=shipments["MAIN"].pk)

    order_lines_cancel(order_id=order.pk, quantities={line_of(order, "LAMP2").pk: 2}, actor=staff)

    order.refresh_from_db()
    assert order.status == S.DELIVERED  # what shipped is the whole order, and it has arrived
    assert not Shipment.objects.filter(pk=shipments["EAST"].pk).exists()
    assert not order.lines.filter(sku="LAMP2").exists()
    assert Refund.objects.get(order=order).amount == D("80.00")
    consistent()


# --- line cancels (short-ship) ----------------------------------------------------------------------
def test_cancelling_units_releases_them_refunds_them_and_the_rest_goes_on(channel, catalog, staff):
    order = capture(channel, [("MUG", 3, "12.00"), ("LAMP", 1, "40.00")])
    (shipment,) = order_start_fulfillment(order_id=order.pk)

    result = order_lines_cancel(
        order_id=order.pk, quantities={line_of(order, "MUG").pk: 2}, actor=staff, reason="damaged in the bin"
    )

    order.refresh_from_db()
    assert order.status == S.PROCESSING
    assert reserved(catalog["MUG"]) == 1
    assert sorted((sl.order_line.sku, sl.quantity) for sl in shipment.lines.all()) == [
        ("LAMP", 1),
        ("MUG", 1),
    ]
    assert result.money.refund == D("24.00") and Refund.objects.get(order=order).amount == D("24.00")
    assert "Mug (MUG): quantity 3 → 1." in result.event.message
    consistent()


def test_cancelling_more_than_is_left_to_ship_is_refused(channel, catalog):
    order = capture(channel, [("MUG", 1, "12.00")])
    with pytest.raises(EditInvalid, match="at most 1"):
        order_lines_cancel(order_id=order.pk, quantities={line_of(order, "MUG").pk: 2})
    with pytest.raises(EditInvalid, match="cancel the order instead"):
        order_lines_cancel(order_id=order.pk, quantities={line_of(order, "MUG").pk: 1})
    with pytest.raises(EditInvalid, match="has no line"):
        order_lines_cancel(order_id=order.pk, quantities={999999: 1})


# --- money ----------------------------------------------------------------------------------------
def test_a_refund_can_be_store_credit(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00"), ("LAMP", 1, "40.00")])

    result = order_edit(
        order_id=order.pk,
        changes=OrderEdit(lines=keep(order, LAMP=0), refund_to_store_credit=True),
        actor=staff,
    )

    credit = StoreCredit.objects.get(order=order)
    assert (credit.email, credit.initial_amount, credit.balance) == (order.email, D("40.00"), D("40.00"))
    refund = Refund.objects.get(order=order)
    assert (refund.method, refund.reference) == ("store_credit", credit.code)
    assert credit.code in result.refund_text


def test_an_order_paid_with_store_credit_gets_it_back_on_that_credit(channel, catalog, staff):
    donor = capture(channel, [("MUG", 1, "12.00")])
    credit = StoreCredit.objects.create(
        email="payer@example.com",
        order=donor,
        currency="USD",
        initial_amount=D("100.00"),
        balance=D("100.00"),
    )
    order = capture(
        channel,
        [("MUG", 1, "12.00"), ("LAMP", 1, "40.00")],
        email="payer@example.com",
        payment_method="store_credit",
        payment_reference=credit.code,
        payment_status="pending",
    )
    credit.refresh_from_db()
    assert order.status == S.ALLOCATED and credit.balance == D("48.00")

    order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, LAMP=0)), actor=staff)

    credit.refresh_from_db()
    assert credit.balance == D("88.00")
    assert Refund.objects.get(order=order).reference == credit.code


def test_nothing_is_paid_back_when_nothing_was_paid(channel, catalog):
    order = capture(
        channel, [("MUG", 2, "12.00")], payment_method="cash_on_delivery", payment_status="pending"
    )

    result = order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, MUG=1)))

    assert result.money.refund == 0 and "less to collect" in result.money.text
    assert not Refund.objects.filter(order=order).exists()


def test_more_to_pay_on_delivery_doesnt_hold_the_order(channel, catalog):
    order = capture(
        channel, [("MUG", 1, "12.00")], payment_method="cash_on_delivery", payment_status="pending"
    )

    result = order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, MUG=2)))

    order.refresh_from_db()
    assert order.status == S.ALLOCATED and result.money.collect == 0


# --- the timeline and the e-mail ------------------------------------------------------------------
def test_an_edit_writes_one_event_with_the_difference_who_and_why(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00"), ("LAMP", 1, "40.00")])
    before = order.events.count()

    order_edit(
        order_id=order.pk,
        changes=OrderEdit(
            lines=[*keep(order, MUG=2, LAMP=0), LineEdit(sku="TEE-M", quantity=1)],
            shipping_speed="express",
            payment_collected=True,
        ),
        actor=staff,
        reason="Customer called",
    )

    assert order.events.count() == before + 1
    (event,) = edited_events(order)
    assert event.actor == staff and event.message.startswith("Order changed: Customer called")
    changes = {(c["change"], c["sku"][1], tuple(c["quantity"])) for c in event.changes["lines"]}
    assert changes == {("changed", "MUG", (1, 2)), ("removed", "LAMP", (1, 0)), ("added", "TEE-M", (0, 1))}
    assert event.changes["shipping_speed"] == ["standard", "express"]
    assert event.changes["totals"]["total"] == ["52.00", "42.00"]
    assert event.changes["reason"] == "Customer called"
    assert not event.visible_to_customer


def test_the_customer_gets_one_email_summarising_the_change(
    channel, catalog, staff, django_capture_on_commit_callbacks
):
    order = capture(channel, [("MUG", 1, "12.00"), ("LAMP", 1, "40.00")])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, LAMP=0)), actor=staff, reason="x")

    (message,) = mail.outbox
    assert message.subject == f"Your order {order.number} has been changed"
    assert message.to == [order.email]
    assert "Removed 1 × Lamp (LAMP)." in message.body
    assert "The total is now 12.00 USD (it was 52.00 USD)." in message.body
    assert "Refund of 40.00 USD: 40.00 USD to the original payment." in message.body
    html = message.alternatives[0][0]
    assert "Removed 1 × Lamp (LAMP)." in html
    (logged,) = order.events.filter(kind=OrderEvent.Kind.EMAIL)
    assert "[changed]" in logged.message


def test_no_email_when_staff_choose_not_to_tell_the_customer(
    channel, catalog, staff, django_capture_on_commit_callbacks
):
    order = capture(channel, [("MUG", 1, "12.00")])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, MUG=2)), notify=False)

    assert mail.outbox == []
    assert "Customer not e-mailed: staff chose not to notify." in result.event.message
    assert len(edited_events(order)) == 1 and not order.events.filter(kind=OrderEvent.Kind.NOTE).exists()


def test_an_edit_that_changes_nothing_writes_nothing(channel, catalog, django_capture_on_commit_callbacks):
    order = capture(channel, [("MUG", 1, "12.00")])
    events = order.events.count()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = order_edit(
            order_id=order.pk, changes=OrderEdit(lines=keep(order), shipping_speed=order.shipping_speed)
        )

    assert not result.changed and result.event is None
    assert order.events.count() == events and mail.outbox == []


def test_the_preview_shows_the_difference_and_the_money_and_changes_nothing(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00"), ("LAMP", 1, "40.00")])
    events = order.events.count()

    preview = order_edit_preview(order_id=order.pk, changes=OrderEdit(lines=keep(order, LAMP=0)), actor=staff)

    assert preview.money.refund == D("40.00") and "It goes back to the payment" in preview.refund_text
    assert [c.change for c in preview.plan.line_changes] == ["removed"]
    order.refresh_from_db()
    assert order.total == D("52.00") and order.lines.count() == 2
    assert order.events.count() == events and not Refund.objects.exists()
    assert reserved(catalog["LAMP"]) == 1
    consistent()


def test_a_held_order_is_only_changed_and_checked_again_on_release(channel, catalog, staff):
    order = capture(channel, [("MUG", 1, "12.00")], shipping_address=None)
    assert order.status == S.ON_HOLD

    order_edit(
        order_id=order.pk,
        changes=OrderEdit(
            shipping_address=AddressInput(
                name="Ada", line1="1 Main St", city="Boston", postal_code="02110", country="US"
            )
        ),
        actor=staff,
    )
    order.refresh_from_db()
    assert order.status == S.ON_HOLD and reserved(catalog["MUG"]) == 0

    order_release_hold(order_id=order.pk, actor=staff)
    order.refresh_from_db()
    assert order.status == S.ALLOCATED


def test_invalid_edits_say_what_is_wrong(channel, catalog):
    order = capture(channel, [("MUG", 1, "12.00")])
    with pytest.raises(EditInvalid) as exc:
        order_edit(
            order_id=order.pk,
            changes=OrderEdit(
                lines=[*keep(order), LineEdit(sku="NOPE", quantity=1)],
                shipping_speed="teleport",
                shipping_address=AddressInput(country="USA"),
            ),
        )
    assert set(exc.value.errors) == {"lines[1].sku", "shipping_speed", "shipping_address.country"}


# --- cost ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["allocated", "processing"])
def test_an_edit_costs_the_same_queries_however_many_lines(channel, warehouse, service_level, kind):
    def queries(n_lines: int) -> list[str]:
        products = [ProductFactory(sku=f"Q{n_lines}-{i}", price=D("3.00")) for i in range(n_lines + 1)]
        for product in products:
            stock_put(product, warehouse, 50)
        order = capture(channel, [(p.sku, 2, "3.00") for p in products[:n_lines]])
        if kind == "processing":
            order_start_fulfillment(order_id=order.pk)
        lines = list(order.lines.all())
        changes = OrderEdit(
            lines=[
                LineEdit(line_id=lines[0].pk, quantity=0),  # removed
                *[LineEdit(line_id=line.pk, quantity=3) for line in lines[1:]],  # changed
                LineEdit(sku=products[-1].sku, quantity=1),  # added
            ],
            payment_collected=True,
        )
        with CaptureQueriesContext(connection) as ctx:
            order_edit(order_id=order.pk, changes=changes, notify=False)
        return [q["sql"] for q in ctx.captured_queries]

    small, large = queries(2), queries(8)
    assert len(small) == len(large), "\n".join(large)
    consistent()


def test_a_return_after_an_edit_refund_counts_against_what_the_order_is_now(channel, catalog, staff):
    from fulfillment.services import shipment_deliver
    from returns.services import (
        return_request_approve,
        return_request_create,
        return_request_inspect,
        return_request_receive,
        return_request_refund,
    )

    order = capture(channel, [("MUG", 2, "12.00"), ("LAMP", 1, "40.00")])  # 64.00
    order_edit(order_id=order.pk, changes=OrderEdit(lines=keep(order, LAMP=0)))  # 40.00 back, 24.00 left
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk)
    shipment_deliver(shipment_id=shipment.pk)
    mug = line_of(order, "MUG")
    rr = return_request_create(order_id=order.pk, quantities={mug.pk: 1}, reason="damaged")
    return_request_approve(return_id=rr.pk)
    return_request_receive(return_id=rr.pk)
    return_request_inspect(return_id=rr.pk)

    return_request_refund(return_id=rr.pk)  # 12.00 of the 24.00 the order is now

    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
