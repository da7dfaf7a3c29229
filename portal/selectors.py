"""What the customer's order page shows, read in a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch

from fulfillment.models import Shipment, ShipmentLine, TrackingEvent
from orders.models import Order, OrderEvent
from returns.selectors import order_get_return_state, return_list_for_order
from support.models import Message, Thread

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


RETURN_STATUS_WORDS = {
    "requested": "We have your request and will reply within one working day.",
    "approved": "Approved: please send the items back with the return number on the parcel.",
    "in_transit": "Your parcel is on its way back to us.",
    "delivered": "Your parcel was delivered to our warehouse; we will check it soon.",
    "rejected": "We could not accept this return.",
    "received": "Your parcel has arrived; we are checking the items.",
    "inspected": "Checked; we are sorting out your refund, exchange or credit.",
    "resolved": "Done.",
    "cancelled": "Cancelled.",
}

# Orders whose parcels may have been delivered (a return needs at least one delivered parcel).
MAY_HAVE_DELIVERIES = [Order.Status.PARTIALLY_SHIPPED, Order.Status.SHIPPED, Order.Status.DELIVERED]


def order_get_page(*, order: Order) -> dict:
    """Everything the customer's order page shows: shipments (with lines, carrier and tracking
    events), the customer timeline, returns and the message thread. A fixed number of queries
    whatever the number of lines, shipments, events, returns or messages."""
    shipments = list(
        Shipment.objects.filter(order=order)
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
    lines = list(order.lines.all())
    thread = (
        Thread.objects.filter(order=order)
        .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("created_at", "pk")))
        .first()
    )
    returns = return_list_for_order(order=order)
    return {
        "order": order,
        "status_words": STATUS_WORDS.get(order.status, ""),
        "lines": lines,
        "shipments": shipments,
        "timeline": timeline,
        "returns": [(rr, RETURN_STATUS_WORDS.get(rr.status, "")) for rr in returns],
        "return_state": order_get_return_state(lines=lines),
        "may_return": order.status in MAY_HAVE_DELIVERIES
        and any(line.quantity_returned < line.quantity_shipped for line in lines),
        "thread": thread,
        "thread_messages": list(thread.messages.all()) if thread else [],
    }
