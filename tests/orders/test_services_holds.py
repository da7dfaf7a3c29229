"""orders.services.holds: staff hold a pending order by hand, add a reason to one already held,
and can't hold one that is past verification; releasing re-runs the rules, holding again what
still fails but never a review reason staff released."""

import pytest

from inventory.models import StockItem
from orders.exceptions import OrderTransitionError
from orders.models import Order, OrderEvent, OrderHold
from orders.services import order_capture, order_hold, order_release_hold
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Order.Status
Reason = OrderHold.Reason


def test_holding_a_pending_order_puts_it_on_hold_with_the_reason():
    staff = UserFactory(username="cs")
    order = OrderFactory(status=S.PENDING)

    order_hold(order_id=order.pk, reason=Reason.FRAUD, detail="Card used in three countries", actor=staff)

    order.refresh_from_db()
    assert order.status == S.ON_HOLD
    assert [(h.reason, h.detail, h.is_active) for h in order.holds.all()] == [
        (Reason.FRAUD, "Card used in three countries", True)
    ]
    (event,) = order.events.all()
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        OrderEvent.Kind.HELD,
        S.PENDING,
        S.ON_HOLD,
        staff,
    )
    assert event.message == "Fraud review: Card used in three countries"
    assert not event.visible_to_customer


def test_holding_a_held_order_adds_the_reason_and_keeps_it_held(channel, stocked_product, order_input):
    order = order_capture(
        channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], payment_status="pending")
    )
    assert order.status == S.ON_HOLD
    events_before = order.events.count()

    order_hold(order_id=order.pk, reason=Reason.MANUAL, detail="Customer asked us to wait")

    order.refresh_from_db()
    assert order.status == S.ON_HOLD
    assert sorted(order.holds.filter(released_at__isnull=True).values_list("reason", flat=True)) == [
        Reason.MANUAL,
        Reason.PAYMENT,
    ]
    assert order.events.count() == events_before + 1
    event = order.events.last()
    assert (event.kind, event.from_status, event.to_status) == (OrderEvent.Kind.HELD, "", "")
    assert event.message == "Manual hold: Customer asked us to wait"


@pytest.mark.parametrize("status", [S.VERIFIED, S.BACKORDERED, S.ALLOCATED, S.SHIPPED, S.CANCELLED])
def test_an_order_past_verification_cannot_be_held(status):
    order = OrderFactory(status=status)

    with pytest.raises(OrderTransitionError, match="can't hold"):
        order_hold(order_id=order.pk, reason=Reason.MANUAL, detail="too late")

    order.refresh_from_db()
    assert order.status == status
    assert not order.holds.exists() and not order.events.exists()


def test_release_rechecks_and_rehold_when_the_problem_remains(channel, stocked_product, order_input):
    order = order_capture(
        channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")], payment_status="pending")
    )
    assert order.status == Order.Status.ON_HOLD
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ON_HOLD
    assert order.holds.filter(released_at__isnull=True, reason="payment").count() == 1


def test_released_review_hold_is_not_raised_again(channel, stocked_product, order_input, settings):
    settings.OMS = {**settings.OMS, "MAX_LINE_QUANTITY": 2}
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 3, "25.00")]))
    assert list(order.holds.values_list("reason", flat=True)) == ["limit"]
    order = order_release_hold(order_id=order.pk)
    assert order.status == Order.Status.ALLOCATED
    assert StockItem.objects.get().reserved == 3
