"""Reads for the KPI dashboard. Every figure is aggregated in the database; no selector loops over
orders in Python, and each runs a fixed number of queries whatever the data size.

Ranges are local days, both included. The cohort is "orders placed on those days" (on-time
shipping: "shipments shipped on those days"); those figures are read from the daily rollups
(reports.models Kpi*, kept up to date by reports.rollups), so a year costs a few thousand rows,
not a million orders. The backlog and low stock are "now" and read the live tables (open orders
and stock items only).
"""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Max, Q, Sum

from inventory.models import StockItem
from orders.models import Order
from returns.models import ReturnRequest

from .models import (
    KpiLeadTimeDay,
    KpiOrderDay,
    KpiPostageDay,
    KpiReturnReasonDay,
    KpiShipmentDay,
    KpiSkuDay,
)
from .rollups.sql import LEAD_BANDS

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
Outcome = KpiShipmentDay.Outcome


def rate(part: int, whole: int) -> Decimal | None:
    """part/whole as a percentage with one decimal, None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _days(start: dt.date, end: dt.date) -> Q:
    return Q(day__gte=start, day__lte=end)


def order_list_daily_counts_by_channel(*, start: dt.date, end: dt.date) -> list[dict]:
    """[{day, channel__name, orders}] for orders placed on [start, end], one query."""
    return list(
        KpiOrderDay.objects.filter(_days(start, end))
        .values("day", "channel__name")
        .annotate(orders=Sum("orders"))
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
class LeadBand:
    """One band of the lead-time histogram: more than `after`, at most `within` (None: no upper
    bound, the band past the last one)."""

    after: dt.timedelta
    within: dt.timedelta | None

    @classmethod
    def from_hours(cls, within_hours: int | None) -> "LeadBand":
        if within_hours is None:
            return cls(after=dt.timedelta(hours=LEAD_BANDS[-1][0]), within=None)
        width = next(w for upper, w in LEAD_BANDS if within_hours <= upper)
        return cls(
            after=dt.timedelta(hours=max(within_hours - width, 0)), within=dt.timedelta(hours=within_hours)
        )


@dataclass(frozen=True)
class LeadTime:
    orders: int
    median: LeadBand | None
    p90: LeadBand | None


def order_get_lead_time(*, start: dt.date, end: dt.date) -> LeadTime:
    """Capture (created_at) to first shipment (shipped_at) for shipped orders placed on [start, end].

    Nearest-rank median and 90th percentile over the merged daily histograms, so each is a band:
    to the hour up to 3 days, 6 hours up to a week, a day up to 30 days, then "over 30 days"
    (an exact percentile would sort every shipped order of the range). One query.
    """
    histogram = list(
        KpiLeadTimeDay.objects.filter(_days(start, end))
        .values_list("within_hours")
        .annotate(orders=Sum("orders"))
        .order_by(F("within_hours").asc(nulls_last=True))
    )
    total = sum(n for _, n in histogram)

    def at(fraction: float) -> LeadBand | None:
        rank, seen = max(math.ceil(fraction * total), 1), 0
        for within_hours, n in histogram:
            seen += n
            if seen >= rank:
                return LeadBand.from_hours(within_hours)
        return None

    return LeadTime(orders=total, median=at(0.5), p90=at(0.9))


def shipment_get_on_time(*, start: dt.date, end: dt.date, today: dt.date) -> dict:
    """Shipments shipped on [start, end], against their estimated delivery date. One query.

    on_time: delivered on or before the estimate; late: delivered after it; overdue: not
    delivered and the estimate has passed; pending: not delivered, estimate still ahead.
    """
    undelivered = Q(outcome=Outcome.UNDELIVERED)
    got = KpiShipmentDay.objects.filter(_days(start, end)).aggregate(
        shipped=Sum("shipments"),
        no_estimate=Sum("shipments", filter=Q(outcome=Outcome.NO_ESTIMATE)),
        on_time=Sum("shipments", filter=Q(outcome=Outcome.ON_TIME)),
        late=Sum("shipments", filter=Q(outcome=Outcome.LATE)),
        overdue=Sum("shipments", filter=undelivered & Q(estimated_delivery__lt=today)),
        pending=Sum("shipments", filter=undelivered & Q(estimated_delivery__gte=today)),
    )
    got = {key: value or 0 for key, value in got.items()}
    got["rate"] = rate(got["on_time"], got["on_time"] + got["late"] + got["overdue"])
    return got


def shipment_list_postage(*, start: dt.date, end: dt.date) -> list[dict]:
    """Shipments shipped on [start, end] per carrier, service and currency: label cost against
    what customers paid for shipping (their order's charge shared among its shipments), the
    difference, and the average label. One query.

    [{carrier, service, currency, shipments, labelled, postage, charged, margin, per_label}]
    """
    rows = list(
        KpiPostageDay.objects.filter(_days(start, end))
        .values("carrier", "service", "currency")
        .annotate(
            shipments=Sum("shipments"),
            labelled=Sum("labelled"),
            postage=Sum("postage"),
            charged=Sum("charged"),
        )
        .order_by("currency", "-postage", "carrier", "service")
    )
    cent = Decimal("0.01")
    for row in rows:
        row["postage"] = (row["postage"] or Decimal(0)).quantize(cent)
        row["charged"] = (row["charged"] or Decimal(0)).quantize(cent)
        row["margin"] = row["charged"] - row["postage"]
        row["per_label"] = (row["postage"] / row["labelled"]).quantize(cent) if row["labelled"] else None
    return rows


def order_get_backorder_rate(*, start: dt.date, end: dt.date) -> dict:
    """Orders placed on [start, end] that were ever backordered (have a backordered event), and
    how many still are. One query."""
    got = KpiOrderDay.objects.filter(_days(start, end)).aggregate(
        orders=Sum("orders"), backordered=Sum("ever_backordered"), still_backordered=Sum("still_backordered")
    )
    got = {key: value or 0 for key, value in got.items()}
    got["rate"] = rate(got["backordered"], got["orders"])
    return got


def return_get_summary(*, start: dt.date, end: dt.date, top: int = 10) -> dict:
    """Returns of orders placed on [start, end] against units shipped for them.

    - reasons: units returned per reason, as a share of all units shipped;
    - products: the `top` SKUs with most units returned, each against its own units shipped.
    Rejected and cancelled return requests don't count (the rollups leave them out). Four queries.
    """
    days = _days(start, end)
    labels = dict(ReturnRequest.Reason.choices)
    by_reason = list(
        KpiReturnReasonDay.objects.filter(days)
        .values("reason")
        .annotate(units=Sum("units"), requests=Sum("requests"))
        .order_by("-units", "reason")
    )
    by_sku = list(
        KpiSkuDay.objects.filter(days, returned_units__gt=0)
        .values("sku")
        .annotate(returned=Sum("returned_units"), name=Max("name"))
        .order_by("-returned", "sku")[:top]
    )
    shipped_by_sku = dict(
        KpiSkuDay.objects.filter(days, sku__in=[row["sku"] for row in by_sku])
        .values_list("sku")
        .annotate(shipped=Sum("shipped_units"))
        .order_by()
    )
    shipped_units = KpiOrderDay.objects.filter(days).aggregate(units=Sum("shipped_units"))["units"] or 0
    reasons = [
        {
            "reason": r["reason"],
            "label": labels.get(r["reason"], r["reason"]),
            "units": r["units"],
            "requests": r["requests"],
            "rate": rate(r["units"], shipped_units),
        }
        for r in by_reason
    ]
    products = [
        {
            "sku": row["sku"],
            "name": row["name"] or "",
            "returned": row["returned"],
            "shipped": shipped_by_sku.get(row["sku"], 0),
            "rate": rate(row["returned"], shipped_by_sku.get(row["sku"], 0)),
        }
        for row in by_sku
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
