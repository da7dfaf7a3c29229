"""Our rows as subscribers see them: build each event's payload (payloads.py) from the domain's
models. Called only when some active subscription wants the event, inside the writer's
transaction, so what is read is what the change left."""

import uuid

from django.utils import timezone

from core.money import quantize
from fulfillment.models import Shipment, TrackingEvent
from inventory.models import StockItem
from orders.models import Address, Order, OrderEvent, OrderHold
from returns.models import Refund, ReturnRequest

from . import payloads as p


def event_id_new() -> str:
    return f"evt_{uuid.uuid4().hex}"


def _money(value) -> str:
    return str(quantize(value))


def _address(address: Address | None) -> p.Address | None:
    if address is None:
        return None
    return p.Address(
        name=address.name,
        company=address.company,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        region=address.region,
        postal_code=address.postal_code,
        country=address.country,
        phone=address.phone,
    )


def order_summary(order: Order, *, status: str = "") -> p.Order:
    return p.Order(
        number=order.number,
        external_id=order.external_id,
        channel=order.channel.code,
        status=status or order.status,
        placed_at=order.placed_at,
        currency=order.currency,
        total=_money(order.total),
        email=order.email,
        customer_name=order.customer_name,
    )


def order_detail(order: Order, *, status: str = "") -> p.OrderDetail:
    """The order with its lines (one query) and addresses."""
    return p.OrderDetail(
        **order_summary(order, status=status).model_dump(),
        shipping_speed=order.shipping_speed,
        subtotal=_money(order.subtotal),
        shipping_total=_money(order.shipping_total),
        tax_total=_money(order.tax_total),
        discount_total=_money(order.discount_total),
        payment_status=order.payment_status,
        shipping_address=_address(order.shipping_address),
        billing_address=_address(order.billing_address),
        lines=[
            p.OrderLine(
                sku=line.sku, name=line.name, quantity=line.quantity, unit_price=_money(line.unit_price)
            )
            for line in order.lines.order_by("pk")
        ],
    )


def order_event_payload(*, order: Order, event: OrderEvent, event_type: str) -> p.Event:
    """The payload of an order event of `event_type` (see receivers.ORDER_EVENT_TYPES)."""
    envelope = {"id": event_id_new(), "occurred_at": event.created_at or timezone.now()}
    status = event.to_status or order.status
    if event_type == "order.created":
        return p.OrderCreated(**envelope, data=p.OrderCreatedData(order=order_detail(order, status=status)))
    summary = order_summary(order, status=status)
    if event_type == "order.held":
        holds = [
            p.Hold(reason=hold.reason, label=hold.get_reason_display(), detail=hold.detail)
            for hold in OrderHold.objects.filter(order=order, released_at__isnull=True).order_by("pk")
        ]
        return p.OrderHeld(**envelope, data=p.OrderHeldData(order=summary, holds=holds))
    if event_type == "order.cancelled":
        return p.OrderCancelled(
            **envelope, data=p.OrderCancelledData(order=summary, reason=order.cancel_reason)
        )
    if event_type == "order.delivered":
        delivered_at = order.delivered_at or envelope["occurred_at"]
        return p.OrderDelivered(
            **envelope, data=p.OrderDeliveredData(order=summary, delivered_at=delivered_at)
        )
    model = {
        "order.released": p.OrderReleased,
        "order.allocated": p.OrderAllocated,
        "order.backordered": p.OrderBackordered,
    }[event_type]
    return model(**envelope, data=p.OrderData(order=summary))


def _shipment(shipment: Shipment) -> dict:
    level = shipment.service_level
    carrier = level.carrier if level is not None else None
    return {
        "number": shipment.number,
        "status": shipment.status,
        "warehouse": shipment.warehouse.code,
        "carrier": carrier.code if carrier else "",
        "service_level": level.code if level else "",
        "tracking_number": shipment.tracking_number,
        "tracking_url": carrier.tracking_url(shipment.tracking_number) if carrier else "",
        "shipped_at": shipment.shipped_at,
        "estimated_delivery": shipment.estimated_delivery,
    }


def order_shipped_payload(*, order: Order, shipment: Shipment) -> p.OrderShipped:
    """One shipment handed to the carrier, with its lines (one query)."""
    lines = [
        p.ShipmentLine(sku=line.order_line.sku, quantity=line.quantity)
        for line in shipment.lines.select_related("order_line").order_by("pk")
    ]
    return p.OrderShipped(
        id=event_id_new(),
        occurred_at=shipment.shipped_at or timezone.now(),
        data=p.OrderShippedData(
            order=order_summary(order), shipment=p.ShippedShipment(**_shipment(shipment), lines=lines)
        ),
    )


def shipment_tracking_payload(
    *, shipment: Shipment, event: TrackingEvent, moved_to: str
) -> p.ShipmentTrackingUpdated:
    order_number = Order.objects.values_list("number", flat=True).get(pk=shipment.order_id)
    return p.ShipmentTrackingUpdated(
        id=event_id_new(),
        occurred_at=event.created_at or timezone.now(),
        data=p.ShipmentTrackingData(
            order_number=order_number,
            shipment=p.Shipment(**_shipment(shipment)),
            tracking=p.Tracking(
                status=event.status,
                carrier_status=event.carrier_status,
                description=event.description,
                location=event.location,
                occurred_at=event.occurred_at,
            ),
            moved_to=moved_to or None,
        ),
    )


def _return_request(rr: ReturnRequest, order: Order) -> p.ReturnRequest:
    return p.ReturnRequest(
        number=rr.number,
        order_number=order.number,
        status=rr.status,
        reason=rr.reason,
        comment=rr.comment,
        resolution=rr.resolution,
        requested_at=rr.created_at,
        received_at=rr.received_at,
        lines=[
            p.ReturnLine(sku=line.order_line.sku, name=line.order_line.name, quantity=line.quantity)
            for line in rr.lines.select_related("order_line").order_by("pk")
        ],
    )


def return_payload(*, return_request: ReturnRequest, order: Order, event_type: str) -> p.Event:
    """return.requested or return.received, with the return's lines (one query)."""
    model = {"return.requested": p.ReturnRequested, "return.received": p.ReturnReceived}[event_type]
    return model(
        id=event_id_new(),
        occurred_at=timezone.now(),
        data=p.ReturnData(return_request=_return_request(return_request, order)),
    )


def return_refunded_payload(*, refund: Refund, order: Order) -> p.ReturnRefunded:
    return p.ReturnRefunded(
        id=event_id_new(),
        occurred_at=refund.created_at or timezone.now(),
        data=p.ReturnRefundedData(
            return_request=_return_request(refund.return_request, order),
            refund=p.Refund(
                id=refund.pk,
                amount=_money(refund.amount),
                currency=refund.currency,
                method=refund.method,
                reference=refund.reference,
                created_at=refund.created_at,
            ),
        ),
    )


def stock_low_payload(*, item: StockItem) -> p.StockLow:
    """`item` with its product and warehouse loaded."""
    return p.StockLow(
        id=event_id_new(),
        occurred_at=timezone.now(),
        data=p.StockLowData(
            stock_item=p.StockLevel(
                sku=item.product.sku,
                name=item.product.name,
                warehouse=item.warehouse.code,
                bin_location=item.bin_location,
                on_hand=item.on_hand,
                reserved=item.reserved,
                available=item.available,
                reorder_point=item.reorder_point,
                reorder_quantity=item.reorder_quantity,
            )
        ),
    )


def webhook_test_payload(*, subscription_name: str) -> p.WebhookTest:
    return p.WebhookTest(
        id=event_id_new(),
        occurred_at=timezone.now(),
        data=p.TestData(
            subscription=subscription_name,
            message="A test event from the OMS: if its signature verifies, the subscription works.",
        ),
    )
