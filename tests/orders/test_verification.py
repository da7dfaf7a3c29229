"""Every verification rule at its boundaries: passes, fails, and (for review reasons) is not raised
again once staff released it. The rules run through capture, as they do for every channel."""

import datetime as dt
from functools import partial

import pytest

from inventory.models import StockItem
from orders.inputs import AddressInput
from orders.models import Order, OrderHold
from orders.services import order_capture, order_release_hold
from orders.verification import postcode_problem
from tests.conftest import make_order_input
from tests.factories import ChannelFactory
from tests.races import run_together

Reason = OrderHold.Reason


def _capture(channel, **overrides):
    lines = overrides.pop("lines", [("WIDGET-1", 1, "25.00")])
    return order_capture(channel=channel, data=make_order_input(lines=lines, **overrides))


def _active(order) -> dict[str, str]:
    return {h.reason: h.detail for h in order.holds.filter(released_at__isnull=True)}


@pytest.fixture
def clean(channel, stocked_product):
    return channel


def test_a_clean_order_passes_every_rule(clean):
    order = _capture(clean)
    assert order.status == Order.Status.ALLOCATED
    assert _active(order) == {}


# --- required details ---------------------------------------------------------------------------
def test_an_order_without_a_valid_email_is_held_for_missing_details(clean):
    order = _capture(clean, email="not-an-address")
    assert order.status == Order.Status.ON_HOLD
    assert _active(order)[Reason.INCOMPLETE] == "A valid customer e-mail."


# --- address ------------------------------------------------------------------------------------
def test_an_address_without_street_and_city_is_held_naming_what_is_missing(clean):
    order = _capture(clean, shipping_address=AddressInput(name="Ada", country="US", postal_code="10001"))
    assert _active(order)[Reason.ADDRESS] == "Missing street, city."


@pytest.mark.parametrize(
    ("country", "code", "problem"),
    [
        ("US", "10001", None),
        ("US", "10001-1234", None),
        ("US", "1000", "postal code “1000” is not valid for US"),
        ("GB", "SW1A 1AA", None),
        ("GB", "SW1A", "postal code “SW1A” is not valid for GB"),
        ("IE", "", None),  # Ireland's addresses may have no postal code
        ("DE", "", "postal code is missing"),
        ("ZZ", "anything", None),  # no pattern known: not refused
    ],
)
def test_postal_codes_at_the_edges_of_each_pattern(country, code, problem):
    assert postcode_problem(country, code) == problem


def test_a_bad_postal_code_holds_the_order_and_the_event_says_it_once(clean):
    address = AddressInput(name="Ada", line1="1 Way", city="Berlin", country="DE", postal_code="123")
    order = _capture(clean, shipping_address=address)
    assert _active(order)[Reason.ADDRESS] == "Postal code “123” is not valid for DE."
    held = order.events.get(kind="held")
    assert held.message == "Address unverifiable: Postal code “123” is not valid for DE."


# --- SKUs ---------------------------------------------------------------------------------------
def test_an_unknown_sku_is_held_and_the_event_names_it_once(clean):
    order = _capture(clean, lines=[("WIDGET-1", 1, "25.00"), ("NOPE-9", 1, "5.00")])
    assert _active(order)[Reason.UNKNOWN_SKU] == "NOPE-9."
    assert order.events.get(kind="held").message == "Unknown or inactive SKU: NOPE-9."


def test_an_inactive_product_is_held_like_an_unknown_one(clean, stocked_product):
    stocked_product.is_active = False
    stocked_product.save(update_fields=["is_active"])
    assert Reason.UNKNOWN_SKU in _active(_capture(clean))


# --- limits -------------------------------------------------------------------------------------
def test_a_line_at_the_quantity_limit_passes_and_one_over_is_held(clean, settings):
    settings.OMS = {**settings.OMS, "MAX_LINE_QUANTITY": 3}
    assert _capture(clean, lines=[("WIDGET-1", 3, "1.00")], email="a@example.com").status == "allocated"
    order = _capture(clean, lines=[("WIDGET-1", 4, "1.00")], email="b@example.com")
    assert _active(order)[Reason.LIMIT] == "Quantity over 3 per line: WIDGET-1 × 4."


def test_an_order_at_the_value_limit_passes_and_one_cent_over_is_held(clean, settings):
    settings.OMS = {**settings.OMS, "MAX_ORDER_VALUE": "50.00"}
    assert _capture(clean, lines=[("WIDGET-1", 1, "50.00")], email="a@example.com").status == "allocated"
    order = _capture(clean, lines=[("WIDGET-1", 1, "50.01")], email="b@example.com")
    assert _active(order)[Reason.LIMIT] == "Order value 50.01 USD is over 50.00."


def test_a_released_limit_hold_is_not_raised_again(clean, settings):
    settings.OMS = {**settings.OMS, "MAX_ORDER_VALUE": "50.00"}
    order = _capture(clean, lines=[("WIDGET-1", 1, "80.00")])
    assert order.status == Order.Status.ON_HOLD
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ALLOCATED
    assert _active(order) == {}


# --- payment ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "status", "held"),
    [
        ("card", "authorized", False),
        ("card", "paid", False),
        ("card", "pending", True),
        ("cod", "pending", False),  # cash on delivery: nothing is collected before shipping
        ("invoice", "pending", False),
    ],
)
def test_payment_must_be_authorized_unless_paid_on_delivery(clean, method, status, held):
    order = _capture(clean, payment_method=method, payment_status=status)
    assert (Reason.PAYMENT in _active(order)) is held


def test_a_payment_hold_is_raised_again_on_release_while_still_unpaid(clean):
    order = _capture(clean, payment_status="pending")
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ON_HOLD
    assert Reason.PAYMENT in _active(order)


# --- suspected duplicates -----------------------------------------------------------------------
def test_the_same_customer_and_items_within_the_window_is_held_as_a_duplicate(clean):
    first = _capture(clean, email="Ada@Example.com")
    second = _capture(clean, email="ada@example.com")  # the e-mail in another case is the same customer
    assert first.status == Order.Status.ALLOCATED
    assert (
        _active(second)[Reason.DUPLICATE] == f"Same customer and items as {first.number} within 60 minutes."
    )


def test_different_quantities_or_an_extra_line_are_not_duplicates(clean, warehouse):
    _capture(clean, lines=[("WIDGET-1", 1, "25.00")])
    assert _capture(clean, lines=[("WIDGET-1", 2, "25.00")]).status == Order.Status.ALLOCATED
    two_lines = [("WIDGET-1", 1, "25.00"), ("WIDGET-1", 1, "25.00")]
    assert _capture(clean, lines=two_lines).status == Order.Status.ALLOCATED


def test_the_window_edge_counts_and_a_minute_past_it_does_not(clean):
    placed = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
    _capture(clean, placed_at=placed)
    at_edge = _capture(clean, placed_at=placed + dt.timedelta(minutes=60))
    past = _capture(clean, placed_at=placed + dt.timedelta(minutes=121))
    assert Reason.DUPLICATE in _active(at_edge)
    assert Reason.DUPLICATE not in _active(past)


def test_the_whole_window_is_searched_not_only_the_latest_orders(clean, stocked_product):
    """A customer with many other orders in the window: the identical one is still found."""
    placed = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
    StockItem.objects.filter(product=stocked_product).update(on_hand=500)
    original = _capture(clean, placed_at=placed, lines=[("WIDGET-1", 7, "1.00")])
    for i in range(25):
        _capture(clean, placed_at=placed + dt.timedelta(minutes=1), lines=[("WIDGET-1", 8 + i, "1.00")])
    repeat = _capture(clean, placed_at=placed + dt.timedelta(minutes=2), lines=[("WIDGET-1", 7, "1.00")])
    assert _active(repeat)[Reason.DUPLICATE].startswith(f"Same customer and items as {original.number} ")


def test_a_cancelled_order_is_not_a_duplicate_and_a_released_duplicate_is_not_raised_again(clean):
    from orders.services import order_cancel

    first = _capture(clean)
    order_cancel(order_id=first.pk)
    assert _capture(clean).status == Order.Status.ALLOCATED
    third = _capture(clean)
    assert Reason.DUPLICATE in _active(third)
    assert order_release_hold(order_id=third.pk).status == Order.Status.ALLOCATED


def test_a_duplicate_on_another_channel_is_still_a_duplicate(clean):
    _capture(clean)
    assert Reason.DUPLICATE in _active(_capture(ChannelFactory(code="other")))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_identical_orders_captured_at_the_same_moment_hold_all_but_one(stocked_product, channel):
    """Three identical orders at once: one is allocated, the others are held as duplicates."""
    n = 3

    def capture(i):
        data = make_order_input(lines=[("WIDGET-1", 1, "25.00")], external_id=f"race-{i}")
        return order_capture(channel=channel, data=data).pk

    results = run_together([partial(capture, i) for i in range(n)], raise_errors=True)
    statuses = sorted(Order.objects.filter(pk__in=results).values_list("status", flat=True))
    assert statuses == [Order.Status.ALLOCATED, Order.Status.ON_HOLD, Order.Status.ON_HOLD]
    assert StockItem.objects.get(product=stocked_product).reserved == 1


@pytest.mark.django_db
def test_failing_rules_hold_with_every_reason(channel, stocked_product, order_input):
    data = order_input(lines=[("NOPE", 1, "5.00")], payment_status="pending")
    data.shipping_address.postal_code = "ABC"
    order = order_capture(channel=channel, data=data)
    assert order.status == Order.Status.ON_HOLD
    assert set(order.holds.values_list("reason", flat=True)) == {"address", "unknown_sku", "payment"}
