"""What an order waits for in the warehouse and on the road, on the order's admin page (added with
admin_extend(Order, next_steps=...) from apps.py): the warehouse taking it in, then one line per
parcel, in plain words."""

from collections.abc import Iterable

from django.urls import reverse
from django.utils import timezone

from core.admin_extensions import NextStep, PageLink, object_action_link
from orders.models import Order
from orders.selectors import order_list_reserving_warehouses

from .models import Shipment
from .selectors import shipment_list_for_order

SS = Shipment.Status
DONE_WITH = {SS.DELIVERED, SS.CANCELLED}


def _parcel(shipment: Shipment, today) -> tuple[str, str]:
    """(text, tone) for one shipment."""
    where = shipment.warehouse.code
    by = f" with {shipment.service_level}" if shipment.service_level_id else ""
    if shipment.status == SS.PENDING:
        return f"Ready to pick at {where}.", "wait"
    if shipment.status == SS.PICKING:
        on = f" on pick list {shipment.pick_list.number}" if shipment.pick_list_id else ""
        return f"Being picked at {where}{on}.", "wait"
    if shipment.status == SS.PACKED:
        return f"Packed at {where}; waiting to be handed to the carrier{by}.", "wait"
    if shipment.status == SS.EXCEPTION:
        return f"Delivery problem{by}: see the carrier's tracking.", "act"
    if shipment.status in (SS.SHIPPED, SS.IN_TRANSIT, SS.OUT_FOR_DELIVERY):
        text = f"{shipment.get_status_display()}{by}"
        if shipment.estimated_delivery:
            late = shipment.estimated_delivery < today
            text += f"; {'was due' if late else 'due'} {shipment.estimated_delivery:%a %d %b}"
            if late:
                return f"{text}: late.", "act"
        return f"{text}.", "wait"
    if shipment.status == SS.DELIVERED:
        when = f" {timezone.localtime(shipment.delivered_at):%d %b}" if shipment.delivered_at else ""
        return f"Delivered{when}.", "done"
    return f"{shipment.get_status_display()}.", "done"


def order_parcel_steps(request, order: Order) -> Iterable[NextStep]:
    """An allocated order: where its stock waits for fulfilment to start. Then a line per
    shipment, and "Shipped n of m parcels" when there are several. One query."""
    if order.status == Order.Status.ALLOCATED:
        where = ", ".join(order_list_reserving_warehouses(order=order)) or "the warehouse"
        start = object_action_link(request, order, "start_fulfillment")
        yield NextStep(
            f"Ready for the warehouse: stock reserved at {where}; fulfilment not started yet.",
            (start,) if start else (),
            "act" if start else "wait",
            order=30,
        )
        return
    shipments = [s for s in shipment_list_for_order(order_id=order.pk) if s.status != SS.CANCELLED]
    if not shipments:
        return
    today = timezone.localdate()
    may_open = request.user.has_perm("fulfillment.view_shipment")
    sent = [s for s in shipments if s.shipped_at is not None]
    if len(shipments) > 1 and sent:
        tone = "done" if all(s.status in DONE_WITH for s in shipments) else "wait"
        yield NextStep(f"Shipped {len(sent)} of {len(shipments)} parcels.", tone=tone, order=40)
    for shipment in shipments:
        text, tone = _parcel(shipment, today)
        if len(shipments) > 1:
            text = f"{shipment.number}: {text}"
        links = []
        if may_open:
            url = reverse("admin:fulfillment_shipment_change", args=[shipment.pk])
            links.append(PageLink("Shipment", url))
        if shipment.tracking_number and shipment.status not in DONE_WITH:
            if url := shipment.tracking_url:
                links.append(PageLink(f"Track {shipment.tracking_number}", url))
            else:
                text += f" Tracking number {shipment.tracking_number}."
        yield NextStep(text, tuple(links), tone, order=41)
