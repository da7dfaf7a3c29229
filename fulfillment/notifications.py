"""What fulfilment adds to customer e-mails: the shipment, its carrier and tracking link, the
carrier's latest event and the delivery estimate (registered with orders.notifications)."""

from orders.models import Order

from .models import Shipment, TrackingEvent
from .selectors import order_get_delivery_estimate

WITH_ESTIMATE = {
    "confirmation",
    "backorder_released",
    "changed",
    "shipped",
    "out_for_delivery",
    "delivery_exception",
}


def order_email_context(order: Order, kind: str, extra: dict) -> dict:
    """Context for one e-mail; a few queries, whatever the order's size."""
    context = {}
    shipment_id = extra.get("shipment_id")
    if shipment_id:
        shipment = (
            Shipment.objects.select_related("service_level__carrier")
            .prefetch_related("lines__order_line")
            .filter(pk=shipment_id, order=order)
            .first()
        )
        if shipment is not None:
            context["shipment"] = shipment
            context["shipment_lines"] = list(shipment.lines.all())
            context["carrier_name"] = shipment.carrier.name if shipment.carrier else "our courier"
            context["carrier_tracking_url"] = shipment.tracking_url
    event_id = extra.get("event_id")
    if event_id:
        context["tracking_event"] = TrackingEvent.objects.filter(pk=event_id).first()
    if kind in WITH_ESTIMATE:
        context["estimate"] = order_get_delivery_estimate(order)
    return context
