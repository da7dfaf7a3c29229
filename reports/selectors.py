"""Reads for the KPI dashboard. Every figure is aggregated in the database; no selector loops over
orders in Python, and each runs a fixed number of queries whatever the data size.

Date ranges are half-open [start, stop) in aware datetimes; the dashboard's cohort is "orders
placed in the range" (on-time shipping: "shipments shipped in the range").
"""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, models
from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from fulfillment.models import Shipment
from inventory.models import StockItem
from orders.models import Order, OrderEvent, OrderLine
from returns.models import ReturnLine, ReturnRequest

OPEN_STATUSES = [
    Order.Status.PENDING,
    Order.Status.ON_HOLD,
    Order.Status.VERIFIED,
    Order.Status.BACKORDERED,
    Order.Status.ALLOCATED,
    Order.Status.PROCESSING,
    Order.Status.PARTIALLY_SHIPPED,
]
AGE_BUCKETS = [("under_1d", "< 1 day", 0, 1), ("d1_3", "1–3 days", 1, 3), ("d3_7", "3–7 days", 3, 7)]
OLDEST_BUCKET = ("over_7d", "> 7 days", 7)
INACTIVE_RETURNS = [ReturnRequest.Status.REJECTED, ReturnRequest.Status.CANCELLED]


def rate(part: int, whole: int) -> Decimal | None:
    """part/whole as a percentage with one decimal, None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


class PercentileDisc(models.Aggregate):
    """PostgreSQL's nearest-rank percentile: the first value at or above the fraction."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def order_list_daily_counts_by_channel(*, start: dt.datetime, stop: dt.datetime) -> list[dict]:
    """[{day, channel, orders}] for orders placed in [start, stop), one query."""
    return list(
        Order.objects.filter(placed_at__gte=start, placed_at__lt=stop)
        .annotate(day=TruncDate("placed_at"))
        .values("day", "channel__name")
        .annotate(orders=Count("pk"))
        .order_by("day", "channel__name")
    )


def order_get_backlog(*, now: dt.datetime) -> list[dict]:
    """Open orders by status and age since placed: [{status, label, total, <bucket>: n}], one query."""
    buckets = {
        key: Count(
            "pk",
            filter=Q(placed_at__lte=now - dt.timedelta(days=lo), placed_at__gt=now - dt.timedelta(days=hi)),
        )
        for key, _, lo, hi in AGE_BUCKETS
    }
    buckets[OLDEST_BUCKET[0]] = Count(
        "pk", filter=Q(placed_at__lte=now - dt.timedelta(days=OLDEST_BUCKET[2]))
    )
    rows = {
        r["status"]: r
        for r in Order.objects.filter(status__in=OPEN_STATUSES)
        .values("status")
        .annotate(total=Count("pk"), **buckets)
        .order_by()
    }
    labels = dict(Order.Status.choices)
    empty = {"total": 0, **dict.fromkeys(buckets, 0)}
    return [{"status": s, "label": labels[s], **{**empty, **rows.get(s, {})}} for s in OPEN_STATUSES]


@dataclass(frozen=True)
class LeadTime:
    orders: int
    median: dt.timedelta | None
    p90: dt.timedelta | None


def order_get_lead_time(*, start: dt.datetime, stop: dt.datetime) -> LeadTime:
    """Capture (created_at) to first shipment (shipped_at) for shipped orders placed in the range.

    Nearest-rank percentiles: PERCENTILE_DISC in one query on PostgreSQL; elsewhere a count and
    one ordered, offset, single-row query per percentile.
    """
    shipped = Order.objects.filter(placed_at__gte=start, placed_at__lt=stop, shipped_at__isnull=False)
    lead = ExpressionWrapper(F("shipped_at") - F("created_at"), output_field=models.DurationField())
    if connection.vendor == "postgresql":
        got = shipped.aggregate(
            n=Count("pk"),
            median=PercentileDisc(lead, fraction=0.5, output_field=models.DurationField()),
            p90=PercentileDisc(lead, fraction=0.9, output_field=models.DurationField()),
        )
        return LeadTime(orders=got["n"], median=got["median"], p90=got["p90"])
    n = shipped.count()
    if not n:
        return LeadTime(orders=0, median=None, p90=None)
    ordered = shipped.annotate(lead=lead).order_by("lead").values_list("lead", flat=True)

    def at(fraction: float) -> dt.timedelta:
        return ordered[max(math.ceil(fraction * n) - 1, 0)]

    return LeadTime(orders=n, median=at(0.5), p90=at(0.9))


def shipment_get_on_time(*, start: dt.datetime, stop: dt.datetime, today: dt.date) -> dict:
    """Shipments shipped in the range, against their estimated delivery date. One query.

    on_time: delivered on or before the estimate; late: delivered after it; overdue: not
    delivered and the estimate has passed; pending: not delivered, estimate still ahead.
    """
    qs = Shipment.objects.filter(shipped_at__gte=start, shipped_at__lt=stop).exclude(
        status=Shipment.Status.CANCELLED
    )
    has_estimate = Q(estimated_delivery__isnull=False)
    delivered = Q(delivered_at__isnull=False)
    got = qs.aggregate(
        shipped=Count("pk"),
        no_estimate=Count("pk", filter=~has_estimate),
        on_time=Count(
            "pk", filter=has_estimate & delivered & Q(delivered_at__date__lte=F("estimated_delivery"))
        ),
        late=Count("pk", filter=has_estimate & delivered & Q(delivered_at__date__gt=F("estimated_delivery"))),
        overdue=Count("pk", filter=has_estimate & ~delivered & Q(estimated_delivery__lt=today)),
        pending=Count("pk", filter=has_estimate & ~delivered & Q(estimated_delivery__gte=today)),
    )
    got["rate"] = rate(got["on_time"], got["on_time"] + got["late"] + got["overdue"])
    return got


def order_get_backorder_rate(*, start: dt.datetime, stop: dt.datetime) -> dict:
    """Orders placed in the range that were ever backordered (have a backordered event).

    Two queries: the EXISTS goes in a WHERE of its own so PostgreSQL runs it as one semi-join
    (inside an aggregate FILTER it would be a subquery per order).
    """
    placed = Order.objects.filter(placed_at__gte=start, placed_at__lt=stop)
    got = placed.aggregate(
        orders=Count("pk"), still_backordered=Count("pk", filter=Q(status=Order.Status.BACKORDERED))
    )
    got["backordered"] = placed.filter(
        Exists(OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEvent.Kind.BACKORDERED))
    ).count()
    got["rate"] = rate(got["backordered"], got["orders"])
    return got


def _active_return_lines(*, start, stop):
    return ReturnLine.objects.filter(
        return_request__order__placed_at__gte=start, return_request__order__placed_at__lt=stop
    ).exclude(return_request__status__in=INACTIVE_RETURNS)


def return_get_summary(*, start: dt.datetime, stop: dt.datetime, top: int = 10) -> dict:
    """Returns of orders placed in the range against units shipped for them.

    - reasons: units returned per reason, as a share of all units shipped;
    - products: the `top` SKUs with most units returned, each against its own units shipped.
    Rejected and cancelled return requests don't count. Units shipped for all lines and for the
    top SKUs come from one pass over the order lines; a SKU's name is read from its returned
    lines (a few), not aggregated over every shipped line (text MAXes over a million lines
    cost more than the sums).
    """
    labels = dict(ReturnRequest.Reason.choices)
    by_reason = list(
        _active_return_lines(start=start, stop=stop)
        .values("return_request__reason")
        .annotate(units=Sum("quantity"), requests=Count("return_request", distinct=True))
        .order_by("-units", "return_request__reason")
    )
    by_sku = list(
        _active_return_lines(start=start, stop=stop)
        .values("order_line__sku")
        .annotate(returned=Sum("quantity"), name=models.Max("order_line__name"))
        .order_by("-returned", "order_line__sku")[:top]
    )
    per_sku = {}
    for i, row in enumerate(by_sku):
        per_sku[f"shipped_{i}"] = Sum("quantity_shipped", filter=Q(sku=row["order_line__sku"]))
    # The id bounds are redundant for correctness (every line of an order in the range has an
    # order id between them) but let PostgreSQL range-scan the lines' order_id index instead of
    # reading every line; ids grow with time, so the range is tight. Count() keeps the planner
    # from answering MIN/MAX by walking the primary key. Four queries in all.
    ids = Order.objects.filter(placed_at__gte=start, placed_at__lt=stop).aggregate(
        n=Count("pk"), lo=models.Min("pk"), hi=models.Max("pk")
    )
    shipped = OrderLine.objects.filter(
        order__placed_at__gte=start,
        order__placed_at__lt=stop,
        order_id__gte=ids["lo"] or 0,
        order_id__lte=ids["hi"] or 0,
    ).aggregate(units=Sum("quantity_shipped"), **per_sku)
    shipped_units = shipped["units"] or 0
    reasons = [
        {
            "reason": r["return_request__reason"],
            "label": labels.get(r["return_request__reason"], r["return_request__reason"]),
            "units": r["units"],
            "requests": r["requests"],
            "rate": rate(r["units"], shipped_units),
        }
        for r in by_reason
    ]
    products = [
        {
            "sku": row["order_line__sku"],
            "name": row["name"] or "",
            "returned": row["returned"],
            "shipped": shipped[f"shipped_{i}"] or 0,
            "rate": rate(row["returned"], shipped[f"shipped_{i}"] or 0),
        }
        for i, row in enumerate(by_sku)
    ]
    returned = sum(r["units"] for r in reasons)
    return {
        "shipped_units": shipped_units,
        "returned_units": returned,
        "rate": rate(returned, shipped_units),
        "reasons": reasons,
        "products": products,
    }


def stock_list_low(*, limit: int = 25) -> tuple[list[StockItem], int]:
    """Stock items whose available quantity (on hand - reserved) is at or below the reorder point,
    most short first, and how many there are in all. Two queries."""
    qs = (
        StockItem.objects.annotate(available_qty=F("on_hand") - F("reserved"))
        .filter(available_qty__lte=F("reorder_point"))
        .annotate(shortfall=F("reorder_point") - F("available_qty"))
    )
    items = list(
        qs.select_related("product", "warehouse").order_by("-shortfall", "product__sku", "warehouse__code")[
            :limit
        ]
    )
    return items, qs.count()


def dashboard_range(*, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in the current time zone."""
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )
