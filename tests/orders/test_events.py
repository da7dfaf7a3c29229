"""orders.events: a transition saves the order with its event at once, or, with an OrderWrites
passed down, only at the flush, in one UPDATE and one INSERT; either way `order_changed` tells
the receivers (the portal's page cache) which order changed."""

import pytest

from orders.events import OrderWrites, order_event_record, order_lock, order_transition
from orders.models import Order, OrderEvent
from orders.signals import order_changed, order_status_changed
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
S = Order.Status
Kind = OrderEvent.Kind


@pytest.fixture
def changed():
    heard = []

    def receiver(sender, *, numbers, **kwargs):
        heard.extend(numbers)

    order_changed.connect(receiver, dispatch_uid="tests.orders.changed")
    yield heard
    order_changed.disconnect(dispatch_uid="tests.orders.changed")


def test_without_writes_the_transition_and_its_event_are_saved_at_once(changed):
    order = OrderFactory(status=S.PENDING)

    event = order_transition(order=order, name="hold", kind=Kind.HELD, message="Fraud review")

    assert Order.objects.get(pk=order.pk).status == S.ON_HOLD
    assert event.pk is not None and (event.from_status, event.to_status) == (S.PENDING, S.ON_HOLD)
    assert changed == [order.number]


def test_with_writes_nothing_is_written_until_the_flush_which_takes_two_statements(
    changed, django_assert_num_queries
):
    order = OrderFactory(status=S.PENDING)
    writes = OrderWrites(order)

    with django_assert_num_queries(0):
        order_event_record(order=order, kind=Kind.NOTE, message="Checked by hand", writes=writes)
        order_transition(order=order, name="hold", kind=Kind.HELD, message="Fraud review", writes=writes)
    assert Order.objects.get(pk=order.pk).status == S.PENDING and not order.events.exists()
    assert changed == []

    with django_assert_num_queries(2):  # one UPDATE of the order, one INSERT of its events
        writes.flush()

    assert Order.objects.get(pk=order.pk).status == S.ON_HOLD
    assert list(order.events.values_list("kind", "from_status", "to_status")) == [
        (Kind.NOTE, "", ""),
        (Kind.HELD, S.PENDING, S.ON_HOLD),
    ]
    assert changed == [order.number]


def test_writes_gathered_for_one_order_refuse_another():
    order, other = OrderFactory(), OrderFactory()
    with pytest.raises(ValueError, match=order.number):
        order_event_record(order=other, kind=Kind.NOTE, writes=OrderWrites(order))


def test_locking_an_order_for_a_write_says_it_changes(changed):
    order = OrderFactory()
    assert order_lock(order.pk).pk == order.pk
    assert changed == [order.number]


@pytest.fixture
def status_changes():
    heard = []

    def receiver(sender, *, order, from_status, to_status, **kwargs):
        heard.append((order.number, from_status, to_status, Order.objects.get(pk=order.pk).status))

    order_status_changed.connect(receiver, dispatch_uid="tests.orders.status")
    yield heard
    order_status_changed.disconnect(dispatch_uid="tests.orders.status")


def test_a_saved_transition_tells_who_listens_from_what_to_what(status_changes):
    order = OrderFactory(status=S.ON_HOLD)

    order_transition(order=order, name="release", kind=Kind.RELEASED)

    # Sent once the new status is saved (the receiver reads it back from the database).
    assert status_changes == [(order.number, S.ON_HOLD, S.PENDING, S.PENDING)]


def test_gathered_transitions_of_a_new_order_are_not_sent(status_changes):
    order = OrderFactory(status=S.PENDING)
    writes = OrderWrites(order)

    order_transition(order=order, name="hold", kind=Kind.HELD, writes=writes)
    writes.flush()

    assert status_changes == []
