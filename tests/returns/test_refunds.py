"""The refund table: what the customer paid for the returned units, less the fees the rules say."""

from decimal import Decimal

import pytest

from orders.models import Order
from returns.refunds import refund_quote_for

D = Decimal


def order(subtotal, discount="0.00", tax="0.00"):
    return Order(subtotal=D(subtotal), discount_total=D(discount), tax_total=D(tax))


@pytest.fixture(autouse=True)
def rules(settings):
    settings.OMS = {
        **settings.OMS,
        "RETURN_SHIPPING_FEE": "5.00",
        "FREE_RETURN_REASONS": ["damaged", "wrong_item", "not_as_described"],
        "RESTOCKING_FEE_PERCENT": "10",
        "RESTOCKING_FEE_REASONS": ["changed_mind"],
    }


# order subtotal, discount, tax | units returned | reason, store credit | expected pieces
TABLE = [
    # Plain: one of two units, damaged: everything paid back, no fees.
    (
        ("50.00", "0.00", "0.00"),
        [("25.00", 1)],
        "damaged",
        False,
        ("25.00", "0.00", "0.00", "0.00", "0.00", "25.00"),
    ),
    # A 10 % order discount and 8 % tax are shared in proportion to the units' value.
    (
        ("100.00", "10.00", "7.20"),
        [("40.00", 1)],
        "wrong_item",
        False,
        ("40.00", "4.00", "2.88", "0.00", "0.00", "38.88"),
    ),
    # Partial quantity of a line: 2 of 3 units at 30.00 of a 90.00 order with 9.00 off.
    (
        ("90.00", "9.00", "0.00"),
        [("30.00", 2)],
        "not_as_described",
        False,
        ("60.00", "6.00", "0.00", "0.00", "0.00", "54.00"),
    ),
    # Doesn't fit: return shipping deducted, no restocking fee.
    (
        ("60.00", "0.00", "6.00"),
        [("60.00", 1)],
        "does_not_fit",
        False,
        ("60.00", "0.00", "6.00", "5.00", "0.00", "61.00"),
    ),
    # Changed mind: return shipping and 10 % of the net price.
    (
        ("80.00", "8.00", "0.00"),
        [("80.00", 1)],
        "changed_mind",
        False,
        ("80.00", "8.00", "0.00", "5.00", "7.20", "59.80"),
    ),
    # Changed mind, store credit: the restocking fee is waived, shipping is not.
    (
        ("80.00", "8.00", "0.00"),
        [("80.00", 1)],
        "changed_mind",
        True,
        ("80.00", "8.00", "0.00", "5.00", "0.00", "67.00"),
    ),
    # Several lines, uneven shares rounded half up to the cent.
    (
        ("30.00", "1.00", "2.00"),
        [("10.00", 1), ("5.00", 1)],
        "damaged",
        False,
        ("15.00", "0.50", "1.00", "0.00", "0.00", "15.50"),
    ),
    (
        ("30.00", "1.00", "0.00"),
        [("10.00", 1)],
        "damaged",
        False,
        ("10.00", "0.33", "0.00", "0.00", "0.00", "9.67"),
    ),
    # Fees never push the amount below zero: a 3.00 item returned for a change of mind.
    (
        ("3.00", "0.00", "0.00"),
        [("3.00", 1)],
        "changed_mind",
        False,
        ("3.00", "0.00", "0.00", "3.00", "0.00", "0.00"),
    ),
    # A fully discounted order refunds nothing.
    (
        ("20.00", "20.00", "0.00"),
        [("20.00", 1)],
        "damaged",
        False,
        ("20.00", "20.00", "0.00", "0.00", "0.00", "0.00"),
    ),
]


@pytest.mark.parametrize(("totals", "units", "reason", "credit", "expected"), TABLE)
def test_refund_quote_table(totals, units, reason, credit, expected):
    quote = refund_quote_for(
        order=order(*totals), quantities=[(D(p), q) for p, q in units], reason=reason, store_credit=credit
    )
    got = (
        quote.merchandise,
        quote.discount,
        quote.tax,
        quote.return_shipping_fee,
        quote.restocking_fee,
        quote.amount,
    )
    assert got == tuple(D(x) for x in expected)
    assert quote.amount == max(quote.paid - quote.return_shipping_fee - quote.restocking_fee, D("0.00"))


def test_fee_rules_come_from_settings(settings):
    settings.OMS = {**settings.OMS, "RETURN_SHIPPING_FEE": "2.50", "RESTOCKING_FEE_PERCENT": "0"}
    quote = refund_quote_for(order=order("80.00"), quantities=[(D("80.00"), 1)], reason="changed_mind")
    assert (quote.return_shipping_fee, quote.restocking_fee, quote.amount) == (
        D("2.50"),
        D("0.00"),
        D("77.50"),
    )


def test_whole_order_returned_gets_back_everything_but_shipping():
    quote = refund_quote_for(
        order=order("100.00", "15.00", "6.80"), quantities=[(D("50.00"), 2)], reason="damaged"
    )
    assert (quote.paid, quote.amount) == (D("91.80"), D("91.80"))
