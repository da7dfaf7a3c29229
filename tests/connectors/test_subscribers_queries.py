"""What subscribers cost the hot path, in queries, on order capture (the busiest writer): none
without subscriptions (one cache read per signal), and a fixed, counted number with one; the
cache of active subscriptions is dropped when one is saved or deleted."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connectors.subscribers.models import Subscription
from connectors.subscribers.receivers import receivers_connect
from connectors.subscribers.selectors import subscriptions_active
from connectors.subscribers.services import subscription_create
from fulfillment.signals import shipment_shipped, shipment_tracking_recorded
from inventory.signals import stock_levels_changed
from orders.services import order_capture
from orders.signals import order_events_recorded
from returns.signals import refund_issued, return_changed

pytestmark = pytest.mark.django_db
SIGNALS = [
    order_events_recorded,
    shipment_shipped,
    shipment_tracking_recorded,
    return_changed,
    refund_issued,
    stock_levels_changed,
]


@pytest.fixture
def capture(channel, stocked_product, order_input):
    emails = iter(range(1000))

    def run() -> list[str]:
        """Capture one clean order (allocated); the SQL it ran."""
        with CaptureQueriesContext(connection) as ctx:
            order = order_capture(
                channel=channel,
                data=order_input(lines=[("WIDGET-1", 1, "25.00")], email=f"q{next(emails)}@x.com"),
            )
        assert order.status == "allocated"
        return [q["sql"] for q in ctx.captured_queries]

    return run


def capture_without_subscribers(capture, monkeypatch) -> list[str]:
    """The same capture with the subscriber receivers gone (the baseline)."""
    for signal in SIGNALS:
        monkeypatch.setattr(
            signal,
            "receivers",
            [r for r in signal.receivers if not str(r[0][0]).startswith("connectors.subscribers")],
        )
        signal.sender_receivers_cache.clear()
    try:
        return capture()
    finally:
        monkeypatch.undo()
        for signal in SIGNALS:
            signal.sender_receivers_cache.clear()


def test_with_no_subscription_a_capture_runs_exactly_the_queries_it_ran_without_the_receivers(
    capture, monkeypatch
):
    capture()  # the first capture reads the (empty) list of subscriptions and caches it
    with_receivers = capture()
    baseline = capture_without_subscribers(capture, monkeypatch)
    assert len(with_receivers) == len(baseline), "\n".join(with_receivers)
    assert not [sql for sql in with_receivers if "connectors_" in sql]


def test_one_subscription_to_everything_adds_a_fixed_number_of_queries_to_a_capture(capture, monkeypatch):
    subscription_create(
        name="ERP",
        url="http://127.0.0.1:9/erp",
        event_types=Subscription.EventType.values,
        owner_email="erp@example.com",
    )
    capture()  # caches the subscription list
    baseline = capture_without_subscribers(capture, monkeypatch)
    first, second = capture(), capture()

    extra = [sql for sql in first if sql not in baseline or first.count(sql) > baseline.count(sql)]
    # order.created: its lines (1); two deliveries (created, allocated), each a SAVEPOINT, an
    # INSERT and a RELEASE (6); stock.low: the product's items with their marks (1).
    assert len(first) - len(baseline) == 8, "\n".join(extra)
    assert len(second) == len(first)  # the same for every capture: no per-event lookup


def test_the_cache_is_dropped_when_a_subscription_is_saved_or_deleted(db):
    assert not subscriptions_active()
    subscription, _ = subscription_create(
        name="ERP", url="http://127.0.0.1:9/erp", event_types=["order.created"], owner_email="e@x.com"
    )
    assert subscriptions_active().wanting("order.created") == (subscription.pk,)
    Subscription.objects.filter(pk=subscription.pk).first().delete()
    assert not subscriptions_active()


def test_receivers_connect_twice_is_harmless():
    before = [len(s.receivers) for s in SIGNALS]
    receivers_connect()
    assert [len(s.receivers) for s in SIGNALS] == before
