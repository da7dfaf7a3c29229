"""reports.rollups.services: the KPI rollups equal the source tables after real service calls,
are kept up to date by the incremental refresh (old orders, estimates set without an order
event), rebuilt idempotently, refreshed within bounds for the dashboard, and safe when two
refreshes run at once."""

import datetime as dt
import io
import math
import threading
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F
from django.tasks import default_task_backend
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from fulfillment.tracking import shipment_record_tracking_event
from orders.backorders import backorders_allocate
from orders.models import Order, OrderEvent
from orders.services import order_cancel, order_capture
from reports.models import (
    KpiLeadTimeDay,
    KpiOrderDay,
    KpiReturnReasonDay,
    KpiShipmentDay,
    KpiSkuDay,
)
from reports.rollups import RefreshResult, kpi_days_refresh, kpi_rebuild, kpi_refresh
from reports.rollups import services as rollup_services
from reports.selectors import LeadBand
from reports.tasks import kpi_refresh_task
from returns.models import ReturnLine, ReturnRequest
from returns.services import return_request_approve, return_request_create, return_request_reject
from tests.conftest import make_order_input
from tests.factories import ChannelFactory, OrderFactory, ProductFactory, stock_put
from tests.races import start_in_thread

# The pinned clock (tests/conftest.py): every day below is the day it was computed for, and a lead
# time is its whole days and a few microseconds, however long the services take or when CI runs.
pytestmark = pytest.mark.usefixtures("clock")


# --- an independent reading of the source tables, in Python ---------------------------------
def _band(lead: dt.timedelta) -> int | None:
    seconds = math.floor(lead.total_seconds())
    hours = max(math.ceil(seconds / 3600), 1)
    if hours <= 72:
        return hours
    if hours <= 7 * 24:
        return math.ceil(hours / 6) * 6
    if hours <= 30 * 24:
        return math.ceil(hours / 24) * 24
    return None


def expected_rollups() -> dict[str, set]:
    """What every rollup table should hold, computed row by row from the source tables."""

    def day(moment):
        return timezone.localtime(moment, timezone.get_default_timezone()).date()

    orders, lead, reasons, skus, shipments = (defaultdict(lambda: [0, 0, 0, 0]) for _ in range(5))
    request_ids = defaultdict(set)
    names = defaultdict(str)
    for order in Order.objects.prefetch_related("lines", "events"):
        placed = day(order.placed_at)
        row = orders[(placed, order.channel_id)]
        row[0] += 1
        row[1] += any(e.kind == OrderEvent.Kind.BACKORDERED for e in order.events.all())
        row[2] += order.status == Order.Status.BACKORDERED
        row[3] += sum(line.quantity_shipped for line in order.lines.all())
        if order.shipped_at:
            lead[(placed, _band(order.shipped_at - order.created_at))][0] += 1
        for line in order.lines.all():
            if line.quantity_shipped:
                skus[(placed, line.sku)][0] += line.quantity_shipped
    active = ReturnLine.objects.select_related("return_request__order", "order_line").exclude(
        return_request__status__in=[ReturnRequest.Status.REJECTED, ReturnRequest.Status.CANCELLED]
    )
    for rl in active:
        placed = day(rl.return_request.order.placed_at)
        reasons[(placed, rl.return_request.reason)][0] += rl.quantity
        request_ids[(placed, rl.return_request.reason)].add(rl.return_request_id)
        skus[(placed, rl.order_line.sku)][1] += rl.quantity
        names[(placed, rl.order_line.sku)] = max(names[(placed, rl.order_line.sku)], rl.order_line.name)
    for s in Shipment.objects.filter(shipped_at__isnull=False):
        if s.estimated_delivery is None:
            outcome = "no_estimate"
        elif s.delivered_at is None:
            outcome = "undelivered"
        else:
            outcome = "on_time" if day(s.delivered_at) <= s.estimated_delivery else "late"
        shipments[(day(s.shipped_at), s.estimated_delivery, outcome)][0] += 1
    return {
        "orders": {(*k, *v) for k, v in orders.items()},
        "lead": {(*k, v[0]) for k, v in lead.items()},
        "reasons": {(*k, v[0], len(request_ids[k])) for k, v in reasons.items()},
        "skus": {(*k, v[0], v[1], names[k]) for k, v in skus.items()},
        "shipments": {(*k, v[0]) for k, v in shipments.items()},
    }


def stored_rollups() -> dict[str, set]:
    return {
        "orders": set(
            KpiOrderDay.objects.values_list(
                "day", "channel_id", "orders", "ever_backordered", "still_backordered", "shipped_units"
            )
        ),
        "lead": set(KpiLeadTimeDay.objects.values_list("day", "within_hours", "orders")),
        "reasons": set(KpiReturnReasonDay.objects.values_list("day", "reason", "units", "requests")),
        "skus": set(KpiSkuDay.objects.values_list("day", "sku", "shipped_units", "returned_units", "name")),
        "shipments": set(
            KpiShipmentDay.objects.values_list("day", "estimated_delivery", "outcome", "shipments")
        ),
    }


def assert_rollups_match_sources():
    expected, stored = expected_rollups(), stored_rollups()
    for table in expected:
        assert stored[table] == expected[table], table


def an_hour_passes():
    """Every change so far was made an hour before the last refresh (far outside its overlap)."""
    hour = dt.timedelta(hours=1)
    OrderEvent.objects.update(created_at=F("created_at") - hour)
    Shipment.objects.update(updated_at=F("updated_at") - hour)


# --- a small operation, driven through the services ------------------------------------------
class Shop:
    def __init__(self, warehouse):
        self.web = ChannelFactory(code="web", name="Web shop")
        self.phone = ChannelFactory(code="phone", name="Phone")
        self.warehouse = warehouse
        for sku, name in [("MUG", "Stoneware mug"), ("TEE", "Cotton tee")]:
            stock_put(ProductFactory(sku=sku, name=name, price=Decimal("10.00")), warehouse, 100)
        self.rare = ProductFactory(sku="RARE", name="Rare print", price=Decimal("10.00"))  # none in stock
        self.count = 0

    def order(self, channel, days_ago: float, lines) -> Order:
        self.count += 1
        data = make_order_input(
            lines=[(sku, qty, "10.00") for sku, qty in lines],
            email=f"buyer{self.count}@example.com",
            placed_at=timezone.now() - dt.timedelta(days=days_ago),
        )
        return order_capture(channel=channel, data=data)

    def ship(self, order) -> list[Shipment]:
        shipments = order_start_fulfillment(order_id=order.pk)
        for shipment in shipments:
            shipment_pack(shipment_id=shipment.pk)
            shipment_ship(shipment_id=shipment.pk, notify=False)
        return [Shipment.objects.get(pk=s.pk) for s in shipments]

    def deliver(self, order, at=None) -> Order:
        for shipment in self.ship(order):
            shipment_deliver(shipment_id=shipment.pk, at=at, notify=False)
        order.refresh_from_db()
        return order


@pytest.fixture
def shop(db, warehouse, service_level):
    return Shop(warehouse)


@pytest.fixture
def operation(shop):
    """Orders over ten days on two channels: delivered on time and late, under way, backordered
    (still, and released), cancelled, returned (accepted and rejected), and one just placed."""
    shop.deliver(shop.order(shop.web, 10, [("MUG", 2)]))  # on time: the estimate is days ahead
    late = shop.order(shop.phone, 10, [("TEE", 1)])
    (shipment,) = shop.ship(late)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    shipment_record_tracking_event(
        tracking_number=shipment.tracking_number,
        carrier_status="pre_transit",
        occurred_at=timezone.now(),
        estimated_delivery=yesterday,
    )
    shipment_deliver(shipment_id=shipment.pk, notify=False)  # today, after yesterday's estimate
    shop.ship(shop.order(shop.web, 9, [("MUG", 1), ("TEE", 1)]))  # under way
    released = shop.order(shop.phone, 9, [("RARE", 1)])
    assert shop.order(shop.web, 5, [("RARE", 1)]).status == Order.Status.BACKORDERED  # still waiting
    stock_put(shop.rare, shop.warehouse, 1)
    assert backorders_allocate(product_ids=[shop.rare.pk]) == [released.pk]  # the oldest first
    shop.deliver(Order.objects.get(pk=released.pk))
    order_cancel(order_id=shop.order(shop.web, 5, [("MUG", 1)]).pk, reason="Changed mind", notify=False)
    kept = shop.deliver(shop.order(shop.web, 2, [("MUG", 3)]))
    rr = return_request_create(
        order_id=kept.pk, quantities={kept.lines.get().pk: 2}, reason=ReturnRequest.Reason.DAMAGED
    )
    return_request_approve(return_id=rr.pk)
    refused = shop.deliver(shop.order(shop.phone, 2, [("TEE", 2)]))
    rr = return_request_create(
        order_id=refused.pk, quantities={refused.lines.get().pk: 1}, reason=ReturnRequest.Reason.DOES_NOT_FIT
    )
    return_request_reject(return_id=rr.pk, note="Worn")
    shop.order(shop.web, 0, [("TEE", 1)])
    # Captured when placed, so the lead times spread over the bands (hours to days).
    Order.objects.update(created_at=F("placed_at"))
    return shop


def test_rollups_equal_the_source_tables_after_real_service_calls(operation, manager_client):
    result = kpi_refresh()
    assert result.rebuilt
    assert_rollups_match_sources()
    stored = stored_rollups()
    # The operation reached every kind of row.
    assert {row[2] for row in stored["shipments"]} == {"on_time", "late", "undelivered"}
    assert {row[1] for row in stored["reasons"]} == {"damaged"}  # the rejected return doesn't count
    assert sum(row[3] for row in stored["orders"]) == 2  # two orders were backordered
    assert sum(row[4] for row in stored["orders"]) == 1  # one still is

    start = timezone.localdate() - dt.timedelta(days=10)
    response = manager_client.get(reverse("reports:dashboard"), {"start": start})
    ctx = response.context
    assert ctx["orders_total"] == 9
    assert (ctx["backorders"]["backordered"], ctx["backorders"]["still_backordered"]) == (2, 1)
    assert (ctx["on_time"]["on_time"], ctx["on_time"]["late"], ctx["on_time"]["pending"]) == (4, 1, 1)
    assert (ctx["returns"]["returned_units"], ctx["returns"]["shipped_units"]) == (2, 11)
    # Shipped just now after 2, 2, 9, 9, 10 and 10 days (and the clock's few microseconds, below
    # the whole seconds that count): the median is the third, in the band "more than 8 days,
    # within 9".
    assert ctx["lead_time"].orders == 6
    assert ctx["lead_time"].median == LeadBand(after=dt.timedelta(days=8), within=dt.timedelta(days=9))
    assert ctx["lead_time"].p90 == LeadBand(after=dt.timedelta(days=9), within=dt.timedelta(days=10))
    assert "within 9 d" in response.content.decode()


def test_further_changes_are_picked_up_by_the_next_refresh(operation):
    kpi_refresh()
    an_hour_passes()
    # Today: the backordered order is released and shipped, the under-way order is delivered.
    stock_put(operation.rare, operation.warehouse, 5)
    backorders_allocate(product_ids=[operation.rare.pk])
    operation.ship(Order.objects.get(status=Order.Status.ALLOCATED, lines__sku="RARE"))
    for shipment in Shipment.objects.filter(status=Shipment.Status.SHIPPED):
        shipment_deliver(shipment_id=shipment.pk, notify=False)

    result = kpi_refresh()

    assert not result.rebuilt
    assert result.placed_days == 2  # the days those two orders were placed (9 and 5 days ago)
    assert_rollups_match_sources()


def test_a_return_today_on_an_order_placed_40_days_ago_reaches_its_day(shop, manager_client):
    old = shop.deliver(shop.order(shop.web, 40, [("MUG", 2)]))
    shop.order(shop.web, 0, [("TEE", 1)])
    kpi_refresh()
    an_hour_passes()
    placed_on = timezone.localdate(old.placed_at)
    before = manager_client.get(reverse("reports:dashboard"), {"start": placed_on, "end": placed_on})
    assert before.context["returns"]["returned_units"] == 0

    rr = return_request_create(
        order_id=old.pk, quantities={old.lines.get().pk: 1}, reason=ReturnRequest.Reason.WRONG_ITEM
    )
    return_request_approve(return_id=rr.pk)
    result = kpi_refresh()

    assert (result.placed_days, result.shipped_days) == (1, 1)  # only that order's days, not history
    assert_rollups_match_sources()
    after = manager_client.get(reverse("reports:dashboard"), {"start": placed_on, "end": placed_on})
    returns = after.context["returns"]
    assert (returns["returned_units"], returns["rate"]) == (1, Decimal("50.0"))


def test_a_delivery_estimate_changed_without_an_order_event_is_picked_up(shop):
    (shipment,) = shop.ship(shop.order(shop.web, 1, [("MUG", 1)]))
    kpi_refresh()
    an_hour_passes()
    assert KpiShipmentDay.objects.get().outcome == "undelivered"
    events = OrderEvent.objects.count()

    last_week = timezone.localdate() - dt.timedelta(days=7)
    shipment_record_tracking_event(
        tracking_number=shipment.tracking_number,
        carrier_status="pre_transit",  # moves nothing: the estimate is the only change
        occurred_at=timezone.now(),
        estimated_delivery=last_week,
    )
    assert OrderEvent.objects.count() == events  # no order event to find
    kpi_refresh()
    assert KpiShipmentDay.objects.get().estimated_delivery == last_week

    an_hour_passes()
    shipment.refresh_from_db()
    shipment.estimated_delivery = last_week + dt.timedelta(days=1)
    shipment.save()  # as the shipment's admin page does
    kpi_refresh()
    assert KpiShipmentDay.objects.get().estimated_delivery == last_week + dt.timedelta(days=1)
    assert_rollups_match_sources()


def test_a_refresh_with_nothing_changed_recomputes_nothing(shop):
    shop.deliver(shop.order(shop.web, 3, [("MUG", 1)]))
    kpi_refresh()
    an_hour_passes()
    assert kpi_refresh() == RefreshResult()


def test_rebuild_is_idempotent_and_batch_size_does_not_matter(operation):
    kpi_rebuild()
    first = stored_rollups()
    assert first == expected_rollups()
    kpi_rebuild(batch_days=1)
    assert stored_rollups() == first
    kpi_days_refresh(days=[timezone.localdate() - dt.timedelta(days=d) for d in range(12)])
    assert stored_rollups() == first


def test_rebuild_drops_days_that_no_longer_have_data(shop):
    order = shop.order(shop.web, 3, [("MUG", 1)])
    kpi_rebuild()
    assert KpiOrderDay.objects.exists()
    OrderEvent.objects.all().delete()
    Order.objects.filter(pk=order.pk).delete()
    kpi_rebuild()
    assert not KpiOrderDay.objects.exists()


def test_first_refresh_builds_everything_for_data_loaded_around_the_services(db):
    """A restore or SQL import: orders without a single event. The first refresh finds no
    rollups at all and builds them."""
    web = ChannelFactory()
    for days in (400, 30, 1):
        OrderFactory(channel=web, placed_at=timezone.now() - dt.timedelta(days=days))
    result = kpi_refresh()
    assert result.rebuilt and result.placed_days == 400  # 400 days ago to yesterday
    assert KpiOrderDay.objects.count() == 3
    assert_rollups_match_sources()
    assert not kpi_refresh().rebuilt


def test_days_are_local_dates_and_a_new_time_zone_rebuilds(db):
    web = ChannelFactory()
    OrderFactory(channel=web, placed_at=dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC))
    kpi_refresh()
    assert KpiOrderDay.objects.get().day == dt.date(2026, 3, 2)
    with override_settings(TIME_ZONE="America/New_York"):  # 21:00 on 1 March there
        assert kpi_refresh().rebuilt
        assert KpiOrderDay.objects.get().day == dt.date(2026, 3, 1)
        assert_rollups_match_sources()


@pytest.mark.parametrize(
    "lead, within",
    [(dt.timedelta(0), 1), (dt.timedelta(minutes=59), 1), (dt.timedelta(hours=2), 2),
     (dt.timedelta(hours=2, milliseconds=999), 2), (dt.timedelta(hours=2, seconds=1), 3),
     (dt.timedelta(hours=72), 72), (dt.timedelta(hours=73), 78),
     (dt.timedelta(days=7), 168), (dt.timedelta(days=7, hours=1), 192), (dt.timedelta(days=30), 720),
     (dt.timedelta(days=30, seconds=1), None)],
)  # fmt: skip
def test_lead_times_fall_into_bands(db, lead, within):
    placed = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    order = OrderFactory(placed_at=placed, status="shipped", shipped_at=placed + lead)
    Order.objects.filter(pk=order.pk).update(created_at=placed)
    kpi_refresh()
    assert KpiLeadTimeDay.objects.get().within_hours == within


def test_commands_rebuild_and_queue_a_refresh(shop):
    shop.order(shop.web, 3, [("MUG", 1)])
    out = io.StringIO()
    call_command("kpi_rebuild", "--progress", "never", stdout=out)
    assert "KPI rollups rebuilt: 1 day in" in out.getvalue()
    assert KpiOrderDay.objects.get().orders == 1
    shop.order(shop.phone, 3, [("TEE", 1)])
    out = io.StringIO()
    call_command("kpi_refresh", stdout=out)  # the test settings run tasks immediately
    assert "KPI rollup refresh queued" in out.getvalue()
    assert sorted(KpiOrderDay.objects.values_list("channel__code", flat=True)) == ["phone", "web"]


def test_demo_data_shows_correct_figures_on_the_first_dashboard_view(manager_client, db):
    call_command("seed_demo", stdout=io.StringIO())
    assert_rollups_match_sources()
    today = timezone.localdate()
    response = manager_client.get(reverse("reports:dashboard"), {"start": today - dt.timedelta(days=365)})
    first = Order.objects.order_by("placed_at").first().placed_at
    assert response.context["orders_total"] == Order.objects.count() > 0
    assert timezone.localdate(first) >= today - dt.timedelta(days=365)
    assert response.context["returns"]["returned_units"] > 0
    assert_rollups_match_sources()


CATCHING_UP = 'id="kpi-catching-up"'


@pytest.fixture
def worker_not_run_yet(settings):
    """Tasks are queued, not run, as in production until the db_worker picks them up."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    return default_task_backend


def test_after_a_big_change_the_dashboard_shows_the_last_figures_and_queues_the_rest(
    shop, manager_client, settings, worker_not_run_yet
):
    settings.OMS = {**settings.OMS, "KPI_INLINE_REFRESH_DAYS": 4}
    shop.order(shop.web, 0, [("TEE", 1)])
    kpi_refresh()
    an_hour_passes()
    for days_ago in (3, 6, 9, 12, 15):  # a late import: an order on each of five past days
        shop.order(shop.phone, days_ago, [("MUG", 1)])
    url, month = reverse("reports:dashboard"), {"start": timezone.localdate() - dt.timedelta(days=20)}

    first = manager_client.get(url, month)
    again = manager_client.get(url, month)

    assert first.context["orders_total"] == again.context["orders_total"] == 1  # as of the last refresh
    html = first.content.decode()
    assert CATCHING_UP in html and "Orders on 5 days changed since then" in html
    assert [r.task for r in worker_not_run_yet.results] == [kpi_refresh_task]  # queued once
    assert KpiOrderDay.objects.count() == 1  # nothing recomputed in the request

    kpi_refresh_task.call()  # the worker runs it
    caught_up = manager_client.get(url, month)
    assert caught_up.context["orders_total"] == 6 and CATCHING_UP not in caught_up.content.decode()
    assert_rollups_match_sources()

    an_hour_passes()
    shop.order(shop.web, 1, [("MUG", 1)])  # a small change: counted before the page answers
    small = manager_client.get(url, month)
    assert small.context["orders_total"] == 7 and CATCHING_UP not in small.content.decode()
    assert len(worker_not_run_yet.results) == 1


def test_a_never_built_history_is_built_in_the_background(shop, manager_client, settings, worker_not_run_yet):
    settings.OMS = {**settings.OMS, "KPI_INLINE_REFRESH_DAYS": 4}
    for days_ago in (1, 30, 60):  # 60 days, 1 to 60 days ago
        shop.order(shop.web, days_ago, [("MUG", 1)])
    url, season = reverse("reports:dashboard"), {"start": timezone.localdate() - dt.timedelta(days=90)}

    response = manager_client.get(url, season)

    html = response.content.decode()
    assert response.context["orders_total"] == 0 and "counted for the first time (60 days of orders)" in html
    kpi_refresh_task.call()
    assert manager_client.get(url, season).context["orders_total"] == 3


# --- two refreshes at once (PostgreSQL: SQLite ignores row locks) -----------------------------
def _hold_first_refresh(monkeypatch):
    """The refresh running in the thread named "first" stops inside its recompute until released."""
    entered, release = threading.Event(), threading.Event()
    recompute = rollup_services._recompute

    def slow(**kwargs):
        if threading.current_thread().name == "first":
            entered.set()
            release.wait(10)
        return recompute(**kwargs)

    monkeypatch.setattr(rollup_services, "_recompute", slow)
    return entered, release


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", ["refresh", "days"])
def test_a_second_refresh_waits_for_the_first(monkeypatch, second, warehouse, service_level):
    shop = Shop(warehouse)
    shop.deliver(shop.order(shop.web, 3, [("MUG", 1)]))
    kpi_refresh()
    shop.order(shop.phone, 3, [("TEE", 1)])
    entered, release = _hold_first_refresh(monkeypatch)
    results = {}
    first = start_in_thread(kpi_refresh, results, "first")
    assert entered.wait(10)
    day = timezone.localdate() - dt.timedelta(days=3)
    other = kpi_refresh if second == "refresh" else lambda: kpi_days_refresh(days=[day])
    waiting = start_in_thread(other, results, "second")
    waiting.join(0.5)
    assert waiting.is_alive(), "the second refresh should wait for the lock"
    release.set()
    first.join(10)
    waiting.join(10)

    assert results["first"].placed_days >= 1
    if second == "refresh":
        assert results["second"] == RefreshResult(waited=True)  # nothing left to do
    else:
        assert results["second"] is None  # recomputed the day again, no duplicate rows
    assert_rollups_match_sources()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_does_not_wait_for_a_refresh_in_progress(monkeypatch, warehouse, service_level, client):
    from tests.factories import user_in_group

    client.force_login(user_in_group("manager", "Managers"))
    shop = Shop(warehouse)
    shop.order(shop.web, 3, [("MUG", 1)])
    kpi_refresh()
    an_hour_passes()
    shop.order(shop.phone, 3, [("TEE", 1)])
    entered, release = _hold_first_refresh(monkeypatch)
    results = {}
    first = start_in_thread(kpi_refresh, results, "first")
    assert entered.wait(10)
    try:
        response = client.get(reverse("reports:dashboard"))  # answered while the lock is held
    finally:
        release.set()
        first.join(10)

    html = response.content.decode()
    assert response.status_code == 200 and CATCHING_UP in html and "Newer changes" in html
    assert results["first"].placed_days == 1
    after = client.get(reverse("reports:dashboard"))
    assert CATCHING_UP not in after.content.decode() and after.context["orders_total"] == 2
