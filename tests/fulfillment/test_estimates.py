"""Delivery estimates around cutoffs, weekends and time zones; the customer's estimate from
capture on; the late-shipment queue."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.estimates import estimate_delivery
from fulfillment.models import Shipment
from fulfillment.selectors import order_get_delivery_estimate, shipment_list_late
from fulfillment.services import shipment_pack, shipment_ship
from orders.models import Order
from tests.factories import OrderFactory

from .conftest import at

CUTOFF = dt.time(15, 0)

# 2024-08-02 is a Friday.
CASES = [
    ("2024-08-02", "14:59", 3, "2024-08-07"),  # before the cutoff: leaves Friday
    ("2024-08-02", "15:00", 3, "2024-08-08"),  # at the cutoff: leaves Monday
    ("2024-08-03", "10:00", 3, "2024-08-08"),  # Saturday: leaves Monday
    ("2024-08-04", "23:59", 3, "2024-08-08"),  # Sunday night: leaves Monday
    ("2024-08-05", "09:00", 3, "2024-08-08"),  # Monday morning
    ("2024-08-07", "16:00", 2, "2024-08-12"),  # Wednesday late: Thursday + 2 skips the weekend
    ("2024-08-02", "14:00", 1, "2024-08-05"),  # overnight from Friday lands Monday
    ("2024-08-02", "16:00", 0, "2024-08-05"),  # same-day courier after cutoff: Monday
    ("2024-08-09", "08:00", 5, "2024-08-16"),  # a full business week
]


@pytest.mark.parametrize(("day", "time", "transit", "expected"), CASES)
def test_estimate_around_cutoffs_and_weekends(day, time, transit, expected):
    got = estimate_delivery(at(day, time), cutoff=CUTOFF, transit_days=transit)
    assert got == dt.date.fromisoformat(expected)
    assert got.weekday() < 5


def test_cutoff_is_read_in_the_warehouse_time_zone(settings):
    moment = at("2024-08-02", "18:30")  # 14:30 in New York, 18:30 in UTC
    settings.TIME_ZONE = "America/New_York"
    assert estimate_delivery(moment, cutoff=CUTOFF, transit_days=1) == dt.date(2024, 8, 5)
    assert estimate_delivery(moment, cutoff=CUTOFF, transit_days=3) == dt.date(2024, 8, 7)
    settings.TIME_ZONE = "UTC"
    assert estimate_delivery(moment, cutoff=CUTOFF, transit_days=3) == dt.date(2024, 8, 8)


@pytest.mark.django_db
def test_customer_gets_a_quote_from_capture_then_the_shipment_estimate(
    warehouse, catalog, service_level, ready_shipment, channel, order_input
):
    from orders.services import order_capture

    order = order_capture(channel=channel, data=order_input(lines=[("MUG-1", 1, "10.00")]))
    assert order.status == Order.Status.ALLOCATED
    quote = order_get_delivery_estimate(order, now=at("2024-08-02", "16:00"))
    assert (quote.date, quote.basis, quote.service) == (dt.date(2024, 8, 8), "quote", "UPS Ground")

    shipment = ready_shipment([("TEA-1", 1)])
    Shipment.objects.filter(pk=shipment.pk).update(estimated_delivery=dt.date(2024, 8, 9))
    estimate = order_get_delivery_estimate(shipment.order, now=at("2024-08-02", "16:00"))
    assert (estimate.date, estimate.basis, estimate.is_late) == (dt.date(2024, 8, 9), "shipment", False)
    assert order_get_delivery_estimate(shipment.order, now=at("2024-08-12", "09:00")).is_late


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Order.Status.BACKORDERED, Order.Status.ON_HOLD, Order.Status.CANCELLED])
def test_no_date_is_promised_for_orders_that_may_not_ship(service_level, status):
    assert order_get_delivery_estimate(OrderFactory(status=status)) is None


@pytest.mark.django_db
def test_estimate_query_count_is_fixed(
    service_level, catalog, channel, order_input, django_assert_num_queries
):
    from orders.services import order_capture

    for size in (1, 3):
        lines = [(sku, 1, "10.00") for sku in ["MUG-1", "TEA-1", "POT-1"][:size]]
        order = order_capture(channel=channel, data=order_input(lines=lines))
        order = (
            Order.objects.select_related("shipping_address")
            .prefetch_related("shipments__service_level__carrier")
            .get(pk=order.pk)
        )
        with django_assert_num_queries(2):  # lines with products, service levels
            assert order_get_delivery_estimate(order) is not None


@pytest.mark.django_db
def test_late_shipments_reach_the_customer_service_queue(
    warehouse, catalog, service_level, ready_shipment, staff_client
):
    today = timezone.localdate()
    on_time = ready_shipment([("MUG-1", 1)])
    late = ready_shipment([("TEA-1", 1)])
    delivered = ready_shipment([("POT-1", 1)])
    for s in (late, delivered):
        shipment_pack(shipment_id=s.pk)
        shipment_ship(shipment_id=s.pk, tracking_number=f"T-{s.pk}")
    Shipment.objects.filter(pk__in=[late.pk, delivered.pk]).update(
        estimated_delivery=today - dt.timedelta(days=2)
    )
    Shipment.objects.filter(pk=on_time.pk).update(estimated_delivery=today + dt.timedelta(days=1))
    from fulfillment.services import shipment_deliver

    shipment_deliver(shipment_id=delivered.pk)

    assert [s.number for s in shipment_list_late()] == [late.number]
    url = reverse("admin:fulfillment_lateshipment_changelist")
    response = staff_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert late.number in page and on_time.number not in page and delivered.number not in page

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx)

    small = count()
    for _ in range(3):
        more = ready_shipment([("MUG-1", 1)])
        Shipment.objects.filter(pk=more.pk).update(estimated_delivery=today - dt.timedelta(days=1))
    assert count() == small
