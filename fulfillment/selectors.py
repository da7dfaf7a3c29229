"""Reads of fulfilment: delivery estimates, pick list and packing pages, the late queue, the
counts on the staff home page."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, FilteredRelation, Prefetch, Q, QuerySet
from django.utils import timezone

from inventory.models import Warehouse
from orders.models import Order

from .estimates import estimate_delivery
from .models import PickList, Shipment, ShipmentLine
from .rules import parcel_for_items, service_level_choose

NOT_DELIVERED = [
    Shipment.Status.PENDING,
    Shipment.Status.PICKING,
    Shipment.Status.PACKED,
    *Shipment.ON_THE_WAY,
]
NO_ESTIMATE_STATES = [Order.Status.ON_HOLD, Order.Status.BACKORDERED, Order.Status.CANCELLED]


@dataclass(frozen=True)
class DeliveryEstimate:
    date: dt.date
    service: str  # e.g. "UPS Ground"
    basis: str  # "quote": before any shipment exists; "shipment": from the shipments' estimates
    delivered: bool = False
    is_late: bool = False


def order_get_delivery_estimate(order: Order, *, now: dt.datetime | None = None) -> DeliveryEstimate | None:
    """When the customer can expect the order, for the tracking page and e-mails.

    Once shipments exist: the latest estimate among the ones not delivered (the carrier's own
    estimate when it sent one), or the delivery day when all are delivered. Before that, from
    capture on: a quote from the service level the shipping rules would choose for the order's
    speed and parcel, shipping from now. None for held, backordered or cancelled orders (no date
    can be promised) and when no service can carry the parcel.

    Queries: reads `order.shipments` (prefetch `shipments__service_level__carrier` to make it
    free), else one for the lines and one for the service levels. No locks.
    """
    if order.status in NO_ESTIMATE_STATES:
        return None
    now = now or timezone.now()
    today = timezone.localdate(now)
    shipments = list(order.shipments.all())
    if shipments:
        open_ = [s for s in shipments if s.status != Shipment.Status.DELIVERED]
        if not open_:
            last = max(shipments, key=lambda s: s.delivered_at or now)
            day = timezone.localdate(last.delivered_at) if last.delivered_at else today
            return DeliveryEstimate(day, str(last.service_level or ""), "shipment", delivered=True)
        dated = [s for s in open_ if s.estimated_delivery]
        if not dated:
            return None
        latest = max(dated, key=lambda s: s.estimated_delivery)
        return DeliveryEstimate(
            latest.estimated_delivery,
            str(latest.service_level or ""),
            "shipment",
            is_late=latest.estimated_delivery < today,
        )
    country = order.shipping_address.country if order.shipping_address_id else ""
    lines = order.lines.select_related("product")
    parcel = parcel_for_items(((line.product, line.quantity) for line in lines), country)
    choice = service_level_choose(speed=order.shipping_speed, parcel=parcel)
    if choice.service_level is None:
        return None
    level = choice.service_level
    day = estimate_delivery(now, cutoff=level.cutoff_time, transit_days=level.transit_days)
    return DeliveryEstimate(day, str(level), "quote")


def shipment_list_late(*, today: dt.date | None = None, queryset: QuerySet | None = None) -> QuerySet:
    """Shipments past their estimated delivery day and not delivered, the most overdue first:
    the customer-service queue. `queryset` is the shipments to look in (default: all; the
    late-shipments admin passes its proxy model's)."""
    today = today or timezone.localdate()
    queryset = Shipment.objects.all() if queryset is None else queryset
    return (
        queryset.filter(status__in=NOT_DELIVERED, estimated_delivery__lt=today)
        .select_related("order", "warehouse", "service_level__carrier")
        .order_by("estimated_delivery", "pk")
    )


def pick_list_get_for_print(*, pick_list_id: int) -> PickList:
    """A pick list with its lines and shipments (with order, address and carrier) in a fixed
    number of queries, whatever its size."""
    return (
        PickList.objects.select_related("warehouse", "created_by")
        .prefetch_related(
            "lines",
            Prefetch(
                "shipments",
                queryset=Shipment.objects.select_related(
                    "order__shipping_address", "service_level__carrier"
                ).order_by("number"),
            ),
        )
        .get(pk=pick_list_id)
    )


def shipment_get_for_packing(*, shipment_id: int) -> Shipment:
    """A shipment with its lines, products, order and address in a fixed number of queries."""
    return (
        Shipment.objects.select_related(
            "order__shipping_address", "warehouse", "service_level__carrier", "pick_list"
        )
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ShipmentLine.objects.select_related("order_line__product").order_by("pk"),
            )
        )
        .get(pk=shipment_id)
    )


# --- counts for the staff home page (core.admin_home) ------------------------------------------
def shipment_count_ready_by_warehouse() -> list[Warehouse]:
    """Shipments ready to pick (pending, on no pick list yet) per warehouse, as `ready` on each
    active warehouse (0 included) and on any inactive one that still has some; priority order.

    One query: the outer join takes only the ready shipments (found through the status index),
    not every shipment a warehouse ever sent.
    """
    ready = FilteredRelation(
        "shipments",
        condition=Q(shipments__status=Shipment.Status.PENDING, shipments__pick_list__isnull=True),
    )
    return list(
        Warehouse.objects.annotate(ready_shipment=ready)
        .annotate(ready=Count("ready_shipment"))
        .filter(Q(is_active=True) | Q(ready__gt=0))
        .order_by("priority", "code")
    )


def pick_list_list_in_progress() -> list[dict]:
    """Pick lists with shipments still being picked (not packed yet), oldest first, as dicts of
    `pick_list_id`, `number`, `warehouse` (code) and `left` (shipments still to pack). One query."""
    rows = (
        Shipment.objects.filter(status=Shipment.Status.PICKING, pick_list__isnull=False)
        .values("pick_list_id", "pick_list__number", "warehouse__code")
        .annotate(left=Count("pk"))
        .order_by("pick_list_id")
    )
    return [
        {
            "pick_list_id": r["pick_list_id"],
            "number": r["pick_list__number"],
            "warehouse": r["warehouse__code"],
            "left": r["left"],
        }
        for r in rows
    ]


def shipment_count_packed() -> int:
    """Shipments packed and not shipped yet. One query (status index)."""
    return Shipment.objects.filter(status=Shipment.Status.PACKED).count()


def shipment_count_late(*, today: dt.date | None = None) -> int:
    """How many shipments `shipment_list_late` lists. One query."""
    return shipment_list_late(today=today).count()


def shipment_count_shipped_between(*, start: dt.datetime, end: dt.datetime) -> int:
    """Shipments handed to the carrier in [start, end). One query (shipped_at index)."""
    return Shipment.objects.filter(shipped_at__gte=start, shipped_at__lt=end).count()


def order_count_to_start() -> int:
    """Allocated orders whose fulfilment hasn't started: their stock is reserved and no shipment
    exists yet. One query ((status, placed_at) index)."""
    return Order.objects.filter(status=Order.Status.ALLOCATED).count()


def shipment_list_for_order(*, order_id: int) -> list[Shipment]:
    """An order's shipments with their warehouse, carrier service and pick list, oldest first: what
    the order's page says about its parcels. One query."""
    return list(
        Shipment.objects.filter(order_id=order_id)
        .select_related("warehouse", "service_level__carrier", "pick_list")
        .order_by("pk")
    )
