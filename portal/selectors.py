"""What the customer's order page shows, read in a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch

from fulfillment.models import Shipment, ShipmentLine, TrackingEvent
from orders.models import Order, OrderEvent

STATUS_WORDS = {
    Order.Status.PENDING: "We have your order and are checking it.",
    Order.Status.ON_HOLD: "We are reviewing your order; we will be in touch if we need anything.",
    Order.Status.VERIFIED: "Your order is confirmed.",
    Order.Status.BACKORDERED: "Some items are on backorder; we will ship as soon as they arrive.",
    Order.Status.ALLOCATED: "Your order is confirmed and waiting to be picked.",
    Order.Status.PROCESSING: "We are preparing your order.",
    Order.Status.PARTIALLY_SHIPPED: "Part of your order is on its way.",
    Order.Status.SHIPPED: "Your order is on its way.",
    Order.Status.DELIVERED: "Your order has been delivered.",
    Order.Status.CANCELLED: "This order has been cancelled.",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str
    source: str  # "order" or "carrier"


def order_get_page(*, order: Order) -> dict:
    """Shipments (with lines, carrier and tracking events) and the customer timeline of an order:
    four queries whatever the number of lines, shipments or events."""
    shipments = list(
        Shipment.objects.filter(order=order)
        .exclude(status=Shipment.Status.CANCELLED)
        .select_related("service_level__carrier", "warehouse")
        .prefetch_related(
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line")),
            Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("-occurred_at", "-pk")),
        )
    )
    events = OrderEvent.objects.filter(order=order, visible_to_customer=True).order_by("created_at", "pk")
    timeline = [TimelineEntry(e.created_at, e.get_kind_display(), e.message, "order") for e in events]
    for shipment in shipments:
        for te in shipment.tracking_events.all():
            detail = " · ".join(p for p in [te.description, te.location] if p)
            timeline.append(TimelineEntry(te.occurred_at, te.get_status_display(), detail, "carrier"))
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    return {
        "order": order,
        "status_words": STATUS_WORDS.get(order.status, ""),
        "lines": list(order.lines.all()),
        "shipments": shipments,
        "timeline": timeline,
    }
