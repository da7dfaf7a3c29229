"""returns.credit: an order paid with a store credit code redeems it at capture (or is held,
saying why), cancelling gives it back, a refund of a return goes back to it, two orders at once
can't overdraw it, and the balance is always what was issued less what was spent."""

from decimal import Decimal
from functools import partial

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from orders.inputs import AddressInput, LineInput, OrderInput
from orders.models import Order, OrderEvent, OrderHold
from orders.services import order_cancel, order_capture, order_payment_correct, order_release_hold
from returns.models import Refund, StoreCredit, StoreCreditRedemption
from returns.services import return_request_refund
from tests.factories import ChannelFactory, ProductFactory, WarehouseFactory, stock_put
from tests.races import run_together

from .helpers import balance_of, credit_issue, delivered_order, pay_with, received_return

pytestmark = pytest.mark.django_db
D = Decimal


def active_hold_details(order):
    return [(h.reason, h.detail) for h in order.holds.filter(released_at__isnull=True)]


def timeline(order):
    return [e.message for e in order.events.order_by("pk")]


def assert_consistent():
    call_command("check_store_credit")


# --- capture ------------------------------------------------------------------------------------
def test_order_paid_with_store_credit_is_allocated_and_debits_the_credit(channel, order_input, credit):
    order = pay_with(channel, order_input, credit.code)
    assert order.status == Order.Status.ALLOCATED
    assert (order.payment_status, order.payment_amount) == (Order.PaymentStatus.PAID, D("25.00"))
    assert balance_of(credit) == D("25.00")
    assert list(StoreCreditRedemption.objects.values_list("order_id", "amount")) == [(order.pk, D("25.00"))]
    assert f"Paid 25.00 USD with store credit {credit.code}; 25.00 USD left on it." in timeline(order)
    assert_consistent()


def test_code_and_email_match_whatever_their_case(channel, order_input, credit):
    order = pay_with(channel, order_input, f" {credit.code.lower()} ", email="ADA@Example.com")
    assert order.status == Order.Status.ALLOCATED
    assert balance_of(credit) == D("25.00")


def test_stated_amount_is_what_is_redeemed(channel, order_input, credit):
    """Part of the order paid with credit: only the stated amount is taken from it."""
    order = pay_with(
        channel, order_input, credit.code, lines=[("WIDGET-1", 3, "25.00")], payment_amount=D("30")
    )
    assert order.status == Order.Status.ALLOCATED
    assert balance_of(credit) == D("20.00")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown", "Store credit code SC-NOSUCHCODE does not exist."),
        ("other_customer", "Store credit {code} belongs to another customer (issued to a different e-mail)."),
        ("currency", "Store credit {code} is in USD; this order is in EUR."),
        ("no_code", "Paid with store credit but no code given: the code goes in the payment reference."),
    ],
)
def test_a_credit_that_cant_pay_holds_the_order_saying_why(channel, order_input, credit, case, expected):
    code = {"unknown": "SC-NOSUCHCODE", "no_code": ""}.get(case, credit.code)
    overrides = {
        "other_customer": {"email": "grace@example.com"},
        "currency": {"currency": "EUR"},
    }.get(case, {})
    # A channel that says "paid" changes nothing: no credit was taken.
    order = pay_with(channel, order_input, code, payment_status="paid", **overrides)
    assert order.status == Order.Status.ON_HOLD
    assert active_hold_details(order) == [(OrderHold.Reason.PAYMENT, expected.format(code=credit.code))]
    assert order.payment_status == Order.PaymentStatus.PENDING
    assert balance_of(credit) == D("50.00")
    assert not StoreCreditRedemption.objects.exists()


def test_a_credit_without_enough_left_holds_the_order_with_what_is_left(channel, order_input, source_order):
    euros = credit_issue(order=source_order, amount="12.00", currency="EUR")
    order = pay_with(channel, order_input, euros.code, currency="EUR")
    assert order.status == Order.Status.ON_HOLD
    assert active_hold_details(order) == [
        (
            OrderHold.Reason.PAYMENT,
            f"Store credit {euros.code} has only 12.00 EUR left; the order needs 25.00 EUR.",
        )
    ]
    assert "Payment not authorized: Store credit" in timeline(order)[-1]
    assert balance_of(euros) == D("12.00")


def test_a_spent_credit_cant_pay_a_second_order(channel, order_input, source_order):
    credit = credit_issue(order=source_order, amount="25.00")
    first = pay_with(channel, order_input, credit.code)
    second = pay_with(
        channel, order_input, credit.code, external_id="SECOND", lines=[("WIDGET-1", 2, "12.50")]
    )
    assert first.status == Order.Status.ALLOCATED
    assert second.status == Order.Status.ON_HOLD
    assert active_hold_details(second) == [
        (
            OrderHold.Reason.PAYMENT,
            f"Store credit {credit.code} has only 0.00 USD left; the order needs 25.00 USD.",
        )
    ]
    assert balance_of(credit) == D("0.00")


def test_an_amount_above_the_order_total_holds_the_order_and_takes_nothing(channel, order_input, credit):
    order = pay_with(channel, order_input, credit.code, payment_amount=D("40.00"))
    assert order.status == Order.Status.ON_HOLD
    assert active_hold_details(order) == [
        (
            OrderHold.Reason.PAYMENT,
            "store_credit payment of 40.00 USD is more than the order total of 25.00 USD.",
        )
    ]
    assert balance_of(credit) == D("50.00")


def test_a_free_order_takes_nothing_from_the_credit(channel, order_input, credit):
    order = pay_with(
        channel, order_input, credit.code, lines=[("WIDGET-1", 1, "0.00")], payment_status="paid"
    )
    assert order.status == Order.Status.ALLOCATED
    assert balance_of(credit) == D("50.00")
    assert not StoreCreditRedemption.objects.exists()


# --- release ------------------------------------------------------------------------------------
def test_release_after_staff_correct_the_code_redeems_and_allocates(channel, order_input, credit, admin_user):
    order = pay_with(channel, order_input, "SC-TYPO")
    assert order.status == Order.Status.ON_HOLD
    order_payment_correct(
        order_id=order.pk, method="store_credit", reference=credit.code, status="pending", actor=admin_user
    )
    order = order_release_hold(order_id=order.pk, actor=admin_user)
    assert order.status == Order.Status.ALLOCATED
    assert order.payment_status == Order.PaymentStatus.PAID
    assert balance_of(credit) == D("25.00")
    assert_consistent()


def test_release_without_a_fix_holds_again_and_takes_nothing(channel, order_input, source_order):
    credit = credit_issue(order=source_order, amount="10.00")
    order = pay_with(channel, order_input, credit.code)
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ON_HOLD
    assert active_hold_details(order) == [
        (
            OrderHold.Reason.PAYMENT,
            f"Store credit {credit.code} has only 10.00 USD left; the order needs 25.00 USD.",
        )
    ]
    assert balance_of(credit) == D("10.00")


def test_release_of_another_hold_does_not_take_the_credit_twice(channel, order_input, credit):
    order = pay_with(
        channel, order_input, credit.code, notes="", extra_holds=[("manual", "Call the customer")]
    )
    assert order.status == Order.Status.ON_HOLD
    assert balance_of(credit) == D("25.00")  # redeemed at capture, held for the other reason
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ALLOCATED
    assert balance_of(credit) == D("25.00")
    assert StoreCreditRedemption.objects.count() == 1


def test_switching_a_redeemed_order_to_card_gives_the_credit_back(channel, order_input, credit):
    order = pay_with(channel, order_input, credit.code, extra_holds=[("manual", "Check")])
    order_payment_correct(order_id=order.pk, method="card", reference="ch_9", status="authorized")
    assert balance_of(credit) == D("50.00")
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ALLOCATED
    assert balance_of(credit) == D("50.00")
    assert_consistent()


# --- cancellation -------------------------------------------------------------------------------
def test_cancel_gives_the_credit_back_and_says_so(
    channel, order_input, credit, django_capture_on_commit_callbacks
):
    order = pay_with(channel, order_input, credit.code)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_cancel(order_id=order.pk, reason="Customer changed their mind")
    assert order.status == Order.Status.CANCELLED
    assert balance_of(credit) == D("50.00")
    assert order.payment_status == Order.PaymentStatus.REFUNDED
    back = order.events.get(kind=OrderEvent.Kind.REFUND)
    assert back.visible_to_customer
    assert back.message == f"25.00 USD given back to store credit {credit.code} (now 50.00 USD)."
    assert list(StoreCreditRedemption.objects.order_by("pk").values_list("amount", flat=True)) == [
        D("25.00"),
        D("-25.00"),
    ]
    assert_consistent()


def test_cancel_of_a_partly_credit_paid_order_gives_back_what_it_took(channel, order_input, credit):
    order = pay_with(
        channel, order_input, credit.code, lines=[("WIDGET-1", 2, "25.00")], payment_amount=D("20")
    )
    assert balance_of(credit) == D("30.00")
    order_cancel(order_id=order.pk)
    assert balance_of(credit) == D("50.00")


def test_cancel_of_an_order_held_for_its_credit_gives_nothing_back(channel, order_input, source_order):
    credit = credit_issue(order=source_order, amount="10.00")
    order = pay_with(channel, order_input, credit.code)
    order = order_cancel(order_id=order.pk)
    assert balance_of(credit) == D("10.00")
    assert not order.events.filter(kind=OrderEvent.Kind.REFUND).exists()
    assert order.payment_status == Order.PaymentStatus.PENDING


def test_card_orders_cancel_as_before(channel, stocked_product, order_input, credit):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    order = order_cancel(order_id=order.pk)
    assert order.payment_status == Order.PaymentStatus.PAID
    assert balance_of(credit) == D("50.00")


# --- refund of a return -------------------------------------------------------------------------
def test_refund_of_a_credit_paid_order_goes_back_on_the_credit(
    channel, order_input, credit, service_level, django_capture_on_commit_callbacks
):
    order = delivered_order(
        channel,
        order_input,
        lines=[("WIDGET-1", 2, "20.00")],
        payment_method="store_credit",
        payment_reference=credit.code,
    )
    assert balance_of(credit) == D("10.00")
    rr = received_return(order, qty=1)
    with django_capture_on_commit_callbacks(execute=True):
        refund = return_request_refund(return_id=rr.pk)
    assert (refund.method, refund.reference, refund.amount) == (
        Refund.Method.STORE_CREDIT,
        credit.code,
        D("20.00"),
    )
    assert balance_of(credit) == D("30.00")
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    body = mail.outbox[-1].body
    assert f"we have put 20.00 USD back on your store credit {credit.code}" in body
    assert "It now has 30.00 USD to spend." in body
    assert "original payment method" not in body
    assert_consistent()


def test_refund_above_what_the_credit_paid_sends_the_rest_to_the_original_payment(
    channel, order_input, credit, service_level
):
    order = delivered_order(
        channel,
        order_input,
        lines=[("WIDGET-1", 2, "20.00")],
        payment_method="store_credit",
        payment_reference=credit.code,
        payment_amount=D("15.00"),
    )
    assert balance_of(credit) == D("35.00")
    rr = received_return(order, qty=1)
    return_request_refund(return_id=rr.pk)
    refunds = sorted(Refund.objects.filter(return_request=rr).values_list("method", "amount"))
    assert refunds == [("original_payment", D("5.00")), ("store_credit", D("15.00"))]
    assert balance_of(credit) == D("50.00")


def test_refund_of_a_card_order_still_goes_to_the_card(channel, stocked_product, order_input, service_level):
    order = delivered_order(channel, order_input)
    rr = received_return(order)
    refund = return_request_refund(return_id=rr.pk)
    assert refund.method == Refund.Method.ORIGINAL_PAYMENT


# --- from the order page ------------------------------------------------------------------------
def test_staff_correct_the_payment_from_the_order_page_then_release(
    admin_client, channel, order_input, credit
):
    order = pay_with(channel, order_input, "SC-TYPO")
    url = reverse("admin:orders_order_object_action", args=[order.pk, "payment"])
    admin_client.post(url, {"method": "store_credit", "reference": credit.code, "status": "pending"})
    release = reverse("admin:orders_order_object_action", args=[order.pk, "release"])
    admin_client.post(release, {})
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert balance_of(credit) == D("25.00")
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert f"Paid 25.00 USD with store credit {credit.code}" in page


# --- two orders at once (PostgreSQL row locks) -------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_orders_race_for_one_full_credit():
    channel = ChannelFactory()
    warehouse = WarehouseFactory(code="RACE")
    stock_put(ProductFactory(sku="CREDIT-1"), warehouse, 10)
    address = AddressInput(name="R", line1="1 St", city="NYC", postal_code="10001", country="US")
    earlier = order_capture(
        channel=channel,
        data=OrderInput(
            email="earlier@example.com",
            shipping_address=address,
            lines=[LineInput("CREDIT-1", 1, Decimal("50.00"))],
            payment_status="paid",
        ),
    )
    credit = StoreCredit.objects.create(
        email="racer@example.com",
        order=earlier,
        currency="USD",
        initial_amount=Decimal("50.00"),
        balance=Decimal("50.00"),
    )

    def buy(quantity):
        order_capture(
            channel=channel,
            data=OrderInput(
                email="racer@example.com",
                external_id=f"race-{quantity}",
                shipping_address=address,
                # Different items, so neither is held as a duplicate of the other.
                lines=[LineInput("CREDIT-1", quantity, Decimal("50.00") / quantity)],
                payment_method="store_credit",
                payment_reference=credit.code,
            ),
        )

    errors = [r for r in run_together([partial(buy, q) for q in (1, 2)]) if isinstance(r, Exception)]

    assert errors == []
    racers = Order.objects.filter(email="racer@example.com")
    assert sorted(racers.values_list("status", flat=True)) == [Order.Status.ALLOCATED, Order.Status.ON_HOLD]
    held = racers.get(status=Order.Status.ON_HOLD)
    assert [(h.reason, h.detail) for h in held.holds.all()] == [
        (
            OrderHold.Reason.PAYMENT,
            f"Store credit {credit.code} has only 0.00 USD left; the order needs 50.00 USD.",
        )
    ]
    credit.refresh_from_db()
    assert credit.balance == Decimal("0.00")
    paid = racers.get(status=Order.Status.ALLOCATED)
    assert list(StoreCreditRedemption.objects.values_list("order_id", "amount")) == [
        (paid.pk, Decimal("50.00"))
    ]
    call_command("check_store_credit")
