"""Return requests from request to resolution: the window, inspection and disposition, and
each resolution (refund, store credit, exchange), with the e-mails the customer gets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from inventory.models import StockItem, StockMovement
from inventory.selectors import stock_list_discrepancies
from orders.models import Order
from orders.services import order_capture
from returns.exceptions import ReturnNotAllowed, ReturnTransitionError
from returns.models import Refund, ReturnLine, ReturnRequest, StoreCredit
from returns.selectors import return_list_returnable_lines
from returns.services import (
    return_request_approve,
    return_request_create,
    return_request_exchange,
    return_request_inspect,
    return_request_receive,
    return_request_refund,
    return_request_reject,
    return_request_store_credit,
)
from tests.factories import ProductFactory, stock_put
from tests.orders.helpers import stock

from .helpers import delivered_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(channel, stocked_product, service_level, order_input):
    return delivered_order(channel, order_input)


def on_hand(product):
    return sum(StockItem.objects.filter(product=product).values_list("on_hand", flat=True))


def approved_and_received(order, qty=1, **kwargs):
    line = order.lines.get()
    rr = return_request_create(
        order_id=order.pk, quantities={line.pk: qty}, **{"reason": "damaged", **kwargs}
    )
    return_request_approve(return_id=rr.pk)
    return_request_receive(return_id=rr.pk)
    return rr


def test_request_is_confirmed_by_email_with_the_return_number(order, django_capture_on_commit_callbacks):
    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        rr = return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="does_not_fit")
    assert rr.status == ReturnRequest.Status.REQUESTED
    assert [m.to for m in mail.outbox] == [[order.email]]
    assert rr.number in mail.outbox[0].subject and rr.number in mail.outbox[0].body


def test_cannot_return_more_than_delivered_or_already_asked_for(order):
    line = order.lines.get()
    with pytest.raises(ReturnNotAllowed, match="At most 2"):
        return_request_create(order_id=order.pk, quantities={line.pk: 3}, reason="damaged")
    return_request_create(order_id=order.pk, quantities={line.pk: 2}, reason="damaged")
    with pytest.raises(ReturnNotAllowed, match="At most 0"):
        return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="damaged")


def test_return_window_counts_from_delivery_per_channel_and_product(
    channel, stocked_product, service_level, order_input
):
    delivered = timezone.now() - dt.timedelta(days=20)
    order = delivered_order(channel, order_input, delivered_at=delivered)
    channel.return_window_days = 14
    channel.save()
    (info,) = return_list_returnable_lines(order=order)
    assert info.returnable == 0
    assert "return window closed" in info.why_not
    with pytest.raises(ReturnNotAllowed):
        return_request_create(order_id=order.pk, quantities={info.order_line.pk: 1}, reason="damaged")

    stocked_product.return_window_days = 60  # the product's own window wins
    stocked_product.save()
    (info,) = return_list_returnable_lines(order=order)
    assert info.returnable == 2
    assert info.deadline == timezone.localdate(delivered) + dt.timedelta(days=60)


def test_non_returnable_and_undelivered_items_cannot_be_returned(
    channel, stocked_product, warehouse, service_level, order_input
):
    final_sale = ProductFactory(sku="FINAL-1", is_returnable=False)
    stock_put(final_sale, warehouse, 5)
    order = delivered_order(channel, order_input, lines=[("WIDGET-1", 1, "25.00"), ("FINAL-1", 1, "9.00")])
    reasons = {r.order_line.sku: (r.returnable, r.why_not) for r in return_list_returnable_lines(order=order)}
    assert reasons == {"WIDGET-1": (1, ""), "FINAL-1": (0, "This item can't be returned.")}

    undelivered = Order.objects.create(channel=channel, email="x@example.com", placed_at=timezone.now())
    assert return_list_returnable_lines(order=undelivered) == []


def test_reject_needs_a_reason_and_emails_it(order, django_capture_on_commit_callbacks):
    line = order.lines.get()
    rr = return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="changed_mind")
    with pytest.raises(ReturnNotAllowed):
        return_request_reject(return_id=rr.pk, note="  ")
    with django_capture_on_commit_callbacks(execute=True):
        return_request_reject(return_id=rr.pk, note="Worn items can't be returned.")
    assert "Worn items can't be returned." in mail.outbox[-1].body
    # The units are free to be asked for again.
    assert return_list_returnable_lines(order=order)[0].returnable == 2


def test_receiving_does_not_restock_only_restock_dispositions_do(order, stocked_product):
    before = on_hand(stocked_product)
    line = order.lines.get()
    rr = return_request_create(order_id=order.pk, quantities={line.pk: 2}, reason="damaged")
    return_request_approve(return_id=rr.pk)
    return_request_receive(return_id=rr.pk)
    assert on_hand(stocked_product) == before

    # Damaged units sent for refurbishment stay out of the sellable stock.
    (rl,) = rr.lines.all()
    return_request_inspect(return_id=rr.pk, results={rl.pk: ("damaged", "refurbish")})
    rl.refresh_from_db()
    assert (rl.condition, rl.disposition, rl.quantity_restocked) == ("damaged", "refurbish", 0)
    assert on_hand(stocked_product) == before
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.RETURN_RESTOCK).exists()
    line.refresh_from_db()
    assert line.quantity_returned == 2


def test_restocked_units_go_back_into_the_ledger(order, stocked_product):
    before = on_hand(stocked_product)
    rr = approved_and_received(order, qty=2)
    return_request_inspect(return_id=rr.pk)
    assert on_hand(stocked_product) == before + 2
    movement = StockMovement.objects.get(kind=StockMovement.Kind.RETURN_RESTOCK)
    assert (movement.quantity, movement.reference) == (2, f"return:{rr.number}")


def test_missing_items_cannot_be_restocked_and_are_not_refunded(order):
    rr = approved_and_received(order, qty=1)
    (rl,) = rr.lines.all()
    with pytest.raises(ReturnNotAllowed, match="missing"):
        return_request_inspect(return_id=rr.pk, results={rl.pk: ("missing", "restock")})
    return_request_inspect(return_id=rr.pk, results={rl.pk: ("missing", "")})
    with pytest.raises(ReturnNotAllowed, match="Nothing to refund"):
        return_request_refund(return_id=rr.pk)
    assert order.lines.get().quantity_returned == 0


def test_refund_applies_the_fee_rules_and_marks_the_order(
    channel, stocked_product, service_level, order_input, django_capture_on_commit_callbacks
):
    order = delivered_order(
        channel, order_input, lines=[("WIDGET-1", 2, "50.00")], discount_total=Decimal("10.00")
    )
    rr = approved_and_received(order, qty=1, reason="changed_mind")
    return_request_inspect(return_id=rr.pk)
    with django_capture_on_commit_callbacks(execute=True):
        refund = return_request_refund(return_id=rr.pk)
    # 50.00 less its 5.00 discount share, less 5.00 return shipping and 10 % restocking (4.50).
    assert refund.amount == Decimal("35.50")
    assert "restocking fee" in refund.note
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert "35.50" in mail.outbox[-1].body
    rr.refresh_from_db()
    assert (rr.status, rr.resolution) == ("resolved", "refund")


def test_store_credit_issues_a_code_worth_the_quote_without_restocking_fee(
    order, django_capture_on_commit_callbacks
):
    rr = approved_and_received(order, qty=1, reason="changed_mind", resolution="store_credit")
    return_request_inspect(return_id=rr.pk)
    with django_capture_on_commit_callbacks(execute=True):
        credit = return_request_store_credit(return_id=rr.pk)
    assert (credit.initial_amount, credit.balance, credit.currency) == (
        Decimal("20.00"),
        Decimal("20.00"),
        "USD",
    )
    assert credit.code.startswith("SC-") and credit.code in mail.outbox[-1].body
    assert Refund.objects.get(return_request=rr).method == Refund.Method.STORE_CREDIT
    assert StoreCredit.objects.get(return_request=rr).email == order.email


def test_exchange_captures_a_paid_zero_priced_replacement_for_the_chosen_variant(
    channel, stocked_product, warehouse, service_level, order_input, django_capture_on_commit_callbacks
):
    other_size = ProductFactory(sku="WIDGET-2", name="Blue widget (large)")
    stock_put(other_size, warehouse, 3)
    order = delivered_order(channel, order_input)
    line = order.lines.get()
    rr = return_request_create(
        order_id=order.pk,
        quantities={line.pk: 1},
        reason="does_not_fit",
        resolution="exchange",
        exchange_products={line.pk: other_size.pk},
    )
    assert rr.lines.get().exchange_product == other_size
    return_request_approve(return_id=rr.pk)
    return_request_receive(return_id=rr.pk)
    return_request_inspect(return_id=rr.pk)
    with django_capture_on_commit_callbacks(execute=True):
        replacement = return_request_exchange(return_id=rr.pk)
    rr.refresh_from_db()
    assert rr.replacement_order == replacement
    assert replacement.channel == order.channel and replacement.email == order.email
    assert replacement.status == Order.Status.ALLOCATED
    assert replacement.total == Decimal("0.00") and replacement.payment_status == Order.PaymentStatus.PAID
    assert [(ln.sku, ln.quantity) for ln in replacement.lines.all()] == [("WIDGET-2", 1)]
    assert replacement.shipping_address.line1 == order.shipping_address.line1
    subjects = [m.subject for m in mail.outbox]
    assert any(replacement.number in s for s in subjects) and any(rr.number in s for s in subjects)


def test_exchange_for_another_product_at_the_same_price_is_allowed(order, warehouse):
    line = order.lines.get()
    other = ProductFactory(sku="GADGET-1", name="Green gadget", price=line.product.price)
    rr = return_request_create(
        order_id=order.pk,
        quantities={line.pk: 1},
        reason="changed_mind",
        resolution="exchange",
        exchange_products={line.pk: other.pk},
    )
    assert rr.lines.get().exchange_product == other


def test_exchange_for_an_unrelated_product_at_another_price_is_refused(order, warehouse):
    line = order.lines.get()
    stranger = ProductFactory(sku="GADGET-9", price=line.product.price + Decimal("10.00"))
    with pytest.raises(ReturnNotAllowed, match="can't exchange"):
        return_request_create(
            order_id=order.pk,
            quantities={line.pk: 1},
            reason="does_not_fit",
            resolution="exchange",
            exchange_products={line.pk: stranger.pk},
        )
    assert not ReturnRequest.objects.exists()


def test_steps_out_of_order_are_refused(order):
    line = order.lines.get()
    rr = return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="damaged")
    for step in (return_request_receive, return_request_inspect, return_request_refund):
        with pytest.raises(ReturnTransitionError):
            step(return_id=rr.pk)
    assert ReturnRequest.objects.get(pk=rr.pk).status == "requested"
    assert ReturnLine.objects.get().condition == ""


def test_full_path_to_refund_leaves_exact_stock(channel, stocked_product, service_level, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 2, "25.00")]))
    (shipment,) = order_start_fulfillment(order_id=order.pk)
    assert shipment.service_level == service_level
    assert shipment.estimated_delivery is not None

    shipment_pack(shipment_id=shipment.pk)
    shipment_ship(shipment_id=shipment.pk, tracking_number="1Z999")
    assert stock(stocked_product) == (8, 0)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.lines.get().quantity_shipped == 2

    shipment_deliver(shipment_id=shipment.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED

    line = order.lines.get()
    rr = return_request_create(order_id=order.pk, quantities={line.pk: 1}, reason="damaged")
    return_request_approve(return_id=rr.pk)
    return_request_receive(return_id=rr.pk)
    return_request_inspect(return_id=rr.pk)
    assert stock(stocked_product) == (9, 0)
    refund = return_request_refund(return_id=rr.pk)
    assert refund.amount == Decimal("25.00")
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert stock_list_discrepancies() == []
