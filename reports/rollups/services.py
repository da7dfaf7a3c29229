"""Writes of the KPI rollups (reports.models Kpi*): recompute days from the source tables, find
the days that changed since the last refresh, rebuild everything.

A day's rows are always recomputed whole from orders, lines, shipments and returns — deleted,
then inserted by one `INSERT … SELECT … GROUP BY` per table that the database runs — so a
refresh is idempotent and never drifts, whatever happened in between.

Which days changed: every change to an order, its shipments or its returns writes an
OrderEvent (orders.events.order_event_record), and a shipment's own changes (a delivery
estimate from a carrier event or an admin edit, which write no event) touch its `updated_at`.
A refresh reads the events and shipments written since the watermark, less REFRESH_OVERLAP
(an event is stamped before its transaction commits, so a slow transaction can commit an event
stamped before the previous refresh looked), and recomputes those orders' placed days and
their shipments' shipped days. Nothing is added to the paths that write orders.

Lock: the KpiRollupState row (select_for_update), taken by every write here, so two refreshes
never recompute the same day at once. SQLite ignores the lock; it serialises writers anyway.
"""

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from fulfillment.models import Shipment
from orders.models import Order, OrderEvent, OrderLine
from returns.models import ReturnLine, ReturnRequest

from ..models import (
    KpiLeadTimeDay,
    KpiOrderDay,
    KpiPostageDay,
    KpiReturnReasonDay,
    KpiRollupState,
    KpiShipmentDay,
    KpiSkuDay,
)
from .sql import (
    LeadSeconds,
    day_runs,
    days_between,
    days_in,
    grouped,
    insert_grouped,
    lead_band_expression,
    local_day,
    moments_in,
)

logger = logging.getLogger(__name__)

# Bump when what a rollup row means changes: the next refresh then rebuilds everything.
ROLLUP_VERSION = 2  # 2: postage per carrier and service (KpiPostageDay)
REFRESH_OVERLAP = dt.timedelta(minutes=5)
BATCH_DAYS = 31
STATE_PK = 1
INACTIVE_RETURNS = [ReturnRequest.Status.REJECTED, ReturnRequest.Status.CANCELLED]
PLACED_DAY_MODELS = [KpiOrderDay, KpiLeadTimeDay, KpiReturnReasonDay, KpiSkuDay]
SHIPPED_DAY_MODELS = [KpiShipmentDay, KpiPostageDay]


@dataclass(frozen=True)
class RefreshResult:
    placed_days: int = 0  # days whose placed-day rollups were recomputed
    shipped_days: int = 0  # days whose shipped-day rollups were recomputed
    rebuilt: bool = False  # everything was rebuilt (never built, new time zone or definitions)
    waited: bool = False  # another refresh was running; it did the work
    # kpi_refresh_within only: the rollups may miss changes (days left to a background
    # refresh, or another refresh was running), and whether it left the overlap unchecked.
    deferred_days: int = 0
    busy: bool = False
    overlap_left: bool = False

    @property
    def behind(self) -> bool:
        """The figures may miss changes a reader would want to know about."""
        return bool(self.deferred_days or self.busy)

    @property
    def unfinished(self) -> bool:
        """A background refresh must finish what this one left."""
        return bool(self.deferred_days or self.overlap_left)


def _lines_of(runs) -> Q:
    """Order lines of orders placed on the days of `runs`.

    Each run also bounds the lines' order ids by the lowest and highest id placed in it (one
    query): redundant for the result, but it lets PostgreSQL range-scan the lines' order_id
    index instead of reading every line into a hash join (an INSERT … SELECT gets no parallel
    workers). Ids grow with time, so the ranges are tight; when they don't, only speed suffers.
    """
    bounds = {
        row["kpi_day"]: (row["lo"], row["hi"])
        for row in Order.objects.filter(moments_in("placed_at", runs))
        .annotate(kpi_day=local_day("placed_at"))
        .values("kpi_day")
        .annotate(lo=models.Min("pk"), hi=models.Max("pk"))
        .order_by()
    }
    q = Q(pk__in=[])
    for first, last in runs:
        ids = [bounds[day] for day in days_between(first, last) if day in bounds]
        if ids:
            q |= Q(
                moments_in("order__placed_at", [(first, last)]),
                order_id__gte=min(lo for lo, _ in ids),
                order_id__lte=max(hi for _, hi in ids),
            )
    return q


# --- recomputing days --------------------------------------------------------------------------
def _recompute_placed(runs) -> None:
    """Rows of the placed-day rollups for orders placed on the days of `runs`."""
    placed = Order.objects.filter(moments_in("placed_at", runs))
    order_day = local_day("placed_at")
    line_day = local_day("order__placed_at")
    return_day = local_day("return_request__order__placed_at")
    shipped_lines = OrderLine.objects.filter(_lines_of(runs), quantity_shipped__gt=0)
    active_returns = ReturnLine.objects.filter(moments_in("return_request__order__placed_at", runs)).exclude(
        return_request__status__in=INACTIVE_RETURNS
    )
    backordered = OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.BACKORDERED)

    insert_grouped(
        KpiOrderDay,
        keys=["day", "channel_id"],
        sums=["orders", "ever_backordered", "still_backordered", "shipped_units"],
        parts=[
            grouped(
                placed,
                {"day": order_day, "channel_id": F("channel_id")},
                {
                    "orders": Count("pk"),
                    "still_backordered": Count("pk", filter=Q(status=Order.Status.BACKORDERED)),
                },
            ),
            # The EXISTS in a WHERE of its own: one semi-join, not a subquery per order.
            grouped(
                placed.filter(Exists(backordered)),
                {"day": order_day, "channel_id": F("channel_id")},
                {"ever_backordered": Count("pk")},
            ),
            grouped(
                shipped_lines,
                {"day": line_day, "channel_id": F("order__channel_id")},
                {"shipped_units": Sum("quantity_shipped")},
            ),
        ],
    )
    insert_grouped(
        KpiLeadTimeDay,
        keys=["day", "within_hours"],
        sums=["orders"],
        parts=[
            grouped(
                placed.filter(shipped_at__isnull=False).annotate(
                    lead=LeadSeconds("shipped_at", "created_at")
                ),
                {"day": order_day, "within_hours": lead_band_expression("lead")},
                {"orders": Count("pk")},
            )
        ],
    )
    insert_grouped(
        KpiReturnReasonDay,
        keys=["day", "reason"],
        sums=["units", "requests"],
        parts=[
            grouped(
                active_returns,
                {"day": return_day, "reason": F("return_request__reason")},
                {"units": Sum("quantity"), "requests": Count("return_request", distinct=True)},
            )
        ],
    )
    insert_grouped(
        KpiSkuDay,
        keys=["day", "sku"],
        sums=["shipped_units", "returned_units"],
        maxes=("name",),
        parts=[
            grouped(
                shipped_lines,
                {"day": line_day, "sku": F("sku")},
                {"shipped_units": Sum("quantity_shipped")},
            ),
            grouped(
                active_returns,
                {"day": return_day, "sku": F("order_line__sku")},
                {"returned_units": Sum("quantity"), "name": Max("order_line__name")},
            ),
        ],
    )


def _recompute_shipped(runs) -> None:
    """Rows of the shipped-day rollup for shipments shipped on the days of `runs`."""
    tz = timezone.get_default_timezone()
    outcome = Case(
        When(estimated_delivery__isnull=True, then=Value(KpiShipmentDay.Outcome.NO_ESTIMATE)),
        When(delivered_at__isnull=True, then=Value(KpiShipmentDay.Outcome.UNDELIVERED)),
        When(
            delivered_on__lte=F("estimated_delivery"),
            then=Value(KpiShipmentDay.Outcome.ON_TIME),
        ),
        default=Value(KpiShipmentDay.Outcome.LATE),
        output_field=models.CharField(),
    )
    shipped = Shipment.objects.filter(moments_in("shipped_at", runs)).annotate(
        delivered_on=TruncDate("delivered_at", tzinfo=tz)
    )
    insert_grouped(
        KpiShipmentDay,
        keys=["day", "estimated_delivery", "outcome"],
        sums=["shipments"],
        parts=[
            grouped(
                shipped,
                {
                    "day": local_day("shipped_at"),
                    "estimated_delivery": F("estimated_delivery"),
                    "outcome": outcome,
                },
                {"shipments": Count("pk")},
            )
        ],
    )


def _recompute_postage(runs) -> None:
    """Rows of the postage rollup for shipments shipped on the days of `runs`: label cost against
    the customer's shipping charge, shared evenly among the order's shipments."""
    money = DecimalField(max_digits=14, decimal_places=2)
    siblings = (
        Shipment.objects.filter(order_id=OuterRef("order_id"))
        .exclude(status=Shipment.Status.CANCELLED)
        .order_by()
        .values("order_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    shipped = (
        Shipment.objects.filter(moments_in("shipped_at", runs))
        .exclude(status=Shipment.Status.CANCELLED)
        .annotate(
            share=ExpressionWrapper(F("order__shipping_total") / Subquery(siblings), output_field=money)
        )
    )
    insert_grouped(
        KpiPostageDay,
        keys=["day", "carrier", "service", "currency"],
        sums=["shipments", "labelled", "postage", "charged"],
        parts=[
            grouped(
                shipped,
                {
                    "day": local_day("shipped_at"),
                    "carrier": Coalesce(F("service_level__carrier__code"), Value("")),
                    "service": Coalesce(F("service_level__code"), Value("")),
                    "currency": F("order__currency"),
                },
                {
                    "shipments": Count("pk"),
                    "labelled": Count("pk", filter=Q(postage_cost__isnull=False)),
                    "postage": Coalesce(Sum("postage_cost"), Value(0), output_field=money),
                    "charged": Coalesce(Sum("share"), Value(0), output_field=money),
                },
            )
        ],
    )


def _recompute(*, placed_days: Iterable[dt.date], shipped_days: Iterable[dt.date]) -> tuple[int, int]:
    """Delete and re-insert the rollup rows of these days. The caller holds the state lock."""
    placed_runs, shipped_runs = day_runs(placed_days), day_runs(shipped_days)
    if placed_runs:
        for model in PLACED_DAY_MODELS:
            model.objects.filter(days_in(placed_runs)).delete()
        _recompute_placed(placed_runs)
    if shipped_runs:
        for model in SHIPPED_DAY_MODELS:
            model.objects.filter(days_in(shipped_runs)).delete()
        _recompute_shipped(shipped_runs)
        _recompute_postage(shipped_runs)
    return sum((b - a).days + 1 for a, b in placed_runs), sum((b - a).days + 1 for a, b in shipped_runs)


def _state_lock() -> KpiRollupState:
    """The state row, locked until the transaction ends (waits for a refresh holding it)."""
    state = KpiRollupState.objects.select_for_update().filter(pk=STATE_PK).first()
    if state is None:
        KpiRollupState.objects.get_or_create(pk=STATE_PK)
        state = KpiRollupState.objects.select_for_update().get(pk=STATE_PK)
    return state


@transaction.atomic
def kpi_days_refresh(*, days: Iterable[dt.date], shipped_days: Iterable[dt.date] | None = None) -> None:
    """Recompute the rollup rows of these local days from the source tables, idempotently.

    `days` are placed days (orders, lead times, backorders, returns); `shipped_days` shipped
    days (on-time shipping), the same days when not given. Locks the state row, so it waits
    for a refresh in progress. One transaction: readers see the old rows or the new ones.
    """
    days = list(days)
    _state_lock()
    _recompute(placed_days=days, shipped_days=days if shipped_days is None else shipped_days)


# --- what changed ------------------------------------------------------------------------------
def _distinct_days(queryset, field: str) -> set[dt.date]:
    return set(
        queryset.annotate(kpi_day=local_day(field)).order_by().values_list("kpi_day", flat=True).distinct()
    )


def kpi_changed_days(*, since: dt.datetime) -> tuple[set[dt.date], set[dt.date]]:
    """(placed days, shipped days) touched by order events and shipment updates written at or
    after `since`. Four small queries, each driven by an index on the time written
    (orderevent.created_at, shipment.updated_at)."""
    events = OrderEvent.objects.filter(created_at__gte=since).values("order_id")
    moved = Shipment.objects.filter(updated_at__gte=since)
    placed = _distinct_days(Order.objects.filter(pk__in=events), "placed_at")
    placed |= _distinct_days(Order.objects.filter(pk__in=moved.values("order_id")), "placed_at")
    shipped = _distinct_days(
        Shipment.objects.filter(order_id__in=events, shipped_at__isnull=False), "shipped_at"
    )
    shipped |= _distinct_days(moved.filter(shipped_at__isnull=False), "shipped_at")
    return placed, shipped


def _data_bounds() -> tuple[dt.date, dt.date] | None:
    """First and last local day with an order placed or a shipment shipped; None without any."""
    orders = Order.objects.aggregate(first=models.Min("placed_at"), last=models.Max("placed_at"))
    shipments = Shipment.objects.aggregate(first=models.Min("shipped_at"), last=models.Max("shipped_at"))
    moments = [m for m in [*orders.values(), *shipments.values()] if m is not None]
    if not moments:
        return None
    tz = timezone.get_default_timezone()
    return timezone.localdate(min(moments), tz), timezone.localdate(max(moments), tz)


def _batches(bounds, batch_days: int) -> list[tuple[dt.date, dt.date]]:
    if bounds is None:
        return []
    first, last = bounds
    batches = []
    while first <= last:
        end = min(first + dt.timedelta(days=batch_days - 1), last)
        batches.append((first, end))
        first = end + dt.timedelta(days=1)
    return batches


def _clear_outside(bounds) -> None:
    """Drop rows of days that no longer have any data (all rows when there is no data)."""
    for model in [*PLACED_DAY_MODELS, *SHIPPED_DAY_MODELS]:
        stale = model.objects.all()
        if bounds is not None:
            stale = stale.filter(Q(day__lt=bounds[0]) | Q(day__gt=bounds[1]))
        stale.delete()


def _mark_built(state: KpiRollupState, *, watermark: dt.datetime) -> None:
    state.refreshed_at = watermark
    state.rebuilt_at = watermark
    state.time_zone = timezone.get_default_timezone_name()
    state.version = ROLLUP_VERSION
    state.save(update_fields=["refreshed_at", "rebuilt_at", "time_zone", "version"])


def kpi_rebuild(
    *, batch_days: int = BATCH_DAYS, progress: Callable[[int, int], None] | None = None
) -> RefreshResult:
    """Recompute every day that has orders or shipments, `batch_days` at a time.

    Each batch is its own transaction (holding the state lock only while it runs), so the
    dashboard stays readable and a long rebuild holds no lock for minutes. Changes made while it
    runs are picked up by the next refresh: the watermark is set to when the rebuild started.
    `progress(days_done, days_total)` is called after each batch.
    """
    started = timezone.now()
    bounds = _data_bounds()
    batches = _batches(bounds, batch_days)
    total = sum((b - a).days + 1 for a, b in batches)
    done = 0
    for first, last in batches:
        with transaction.atomic():
            _state_lock()
            days = days_between(first, last)
            _recompute(placed_days=days, shipped_days=days)
        done += len(days)
        if progress:
            progress(done, total)
    with transaction.atomic():
        state = _state_lock()
        _clear_outside(bounds)
        _mark_built(state, watermark=started)
    return RefreshResult(placed_days=total, shipped_days=total, rebuilt=True)


def _is_built(state: KpiRollupState) -> bool:
    return (
        state.refreshed_at is not None
        and state.version == ROLLUP_VERSION
        and state.time_zone == timezone.get_default_timezone_name()
    )


def _build(state: KpiRollupState, *, now: dt.datetime) -> RefreshResult:
    bounds = _data_bounds()
    days = days_between(*bounds) if bounds else []
    _recompute(placed_days=days, shipped_days=days)
    _clear_outside(bounds)
    _mark_built(state, watermark=now)
    logger.info("KPI rollups built: %s days.", len(days))
    return RefreshResult(placed_days=len(days), shipped_days=len(days), rebuilt=True)


def _advance(state: KpiRollupState, *, now: dt.datetime, placed, shipped) -> RefreshResult:
    placed_count, shipped_count = _recompute(placed_days=placed, shipped_days=shipped)
    state.refreshed_at = now
    state.save(update_fields=["refreshed_at"])
    return RefreshResult(placed_days=placed_count, shipped_days=shipped_count)


@transaction.atomic
def kpi_refresh() -> RefreshResult:
    """Bring the rollups up to date with what changed since the last refresh.

    Cost follows what changed (the days touched since the watermark, less the overlap), not the
    history. When the rollups were never built — a new database, data loaded around the services,
    another TIME_ZONE or ROLLUP_VERSION — everything is rebuilt, in this one transaction.

    Locks the state row. A refresh that finds another one running waits for it to finish and
    then does nothing: the other one has just done the work (what it missed has an event inside
    the overlap, so the next refresh finds it).
    """
    asked = KpiRollupState.objects.filter(pk=STATE_PK).values_list("refreshed_at", flat=True).first()
    state = KpiRollupState.objects.select_for_update(skip_locked=True).filter(pk=STATE_PK).first()
    if state is None:
        state = _state_lock()  # held by another refresh (or missing): wait for it
        if state.refreshed_at != asked and _is_built(state):
            return RefreshResult(waited=True)
    now = timezone.now()
    if not _is_built(state):
        return _build(state, now=now)
    placed, shipped = kpi_changed_days(since=state.refreshed_at - REFRESH_OVERLAP)
    return _advance(state, now=now, placed=placed, shipped=shipped)


@transaction.atomic
def kpi_refresh_within(*, day_limit: int) -> RefreshResult:
    """kpi_refresh for a reader that must answer quickly (the dashboard): never waits for another
    refresh and never recomputes more than `day_limit` days (placed and shipped days counted
    apart). What it leaves undone it says (see RefreshResult) for the caller to queue kpi_refresh:

    - another refresh holds the lock: nothing done (`busy`);
    - never built, or more than `day_limit` days changed since the watermark (a historical
      import): nothing done (`deferred_days`, the days changed);
    - only the overlap is big (a large change that the last refresh already counted, whose
      events are still inside REFRESH_OVERLAP): the days changed since the watermark are
      recomputed, and the watermark is left where it is (`overlap_left`), so the overlap is
      still checked, by the background refresh, for transactions that committed late.
    """
    state = KpiRollupState.objects.select_for_update(skip_locked=True).filter(pk=STATE_PK).first()
    if state is None:
        if KpiRollupState.objects.filter(pk=STATE_PK).exists():
            return RefreshResult(busy=True)
        state = _state_lock()
    now = timezone.now()
    if not _is_built(state):
        bounds = _data_bounds()
        days = (bounds[1] - bounds[0]).days + 1 if bounds else 0
        if 2 * days > day_limit:
            return RefreshResult(deferred_days=days)
        return _build(state, now=now)
    placed, shipped = kpi_changed_days(since=state.refreshed_at - REFRESH_OVERLAP)
    if len(placed) + len(shipped) <= day_limit:
        return _advance(state, now=now, placed=placed, shipped=shipped)
    placed, shipped = kpi_changed_days(since=state.refreshed_at)
    if len(placed) + len(shipped) > day_limit:
        return RefreshResult(deferred_days=len(placed | shipped))
    placed_count, shipped_count = _recompute(placed_days=placed, shipped_days=shipped)
    return RefreshResult(placed_days=placed_count, shipped_days=shipped_count, overlap_left=True)
