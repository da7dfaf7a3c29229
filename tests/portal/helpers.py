"""What the portal tests share: an order with everything its page shows, built from rows."""

import datetime as dt
from decimal import Decimal

from fulfillment.models import ShipmentLine
from orders.models import OrderEvent
from returns.models import StoreCredit
from tests.factories import (
    MessageFactory,
    OrderFactory,
    OrderLineFactory,
    ReturnLineFactory,
    ReturnRequestFactory,
    ServiceLevelFactory,
    ShipmentFactory,
    ThreadFactory,
    TrackingEventFactory,
)

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def full_order(lines: int = 2):
    """An order with everything its page shows: lines, a parcel with a carrier and scans, a
    public and an internal event, a resolved return with a replacement and store credit, and a
    thread."""
    order = OrderFactory(status="delivered", discount_total=Decimal("1.50"), total=Decimal("41.00"))
    order_lines = [
        OrderLineFactory(
            order=order,
            name=f"Item {i}",
            unit_price=Decimal("19.99"),
            quantity=2,
            quantity_shipped=2,
            quantity_returned=int(i == 0),  # the return below, received
        )
        for i in range(lines)
    ]
    parcel = ShipmentFactory(
        order=order,
        status="delivered",
        service_level=ServiceLevelFactory(),
        tracking_number=f"1ZPAGE{order.pk}",
        delivered_at=AT,
        estimated_delivery=dt.date(2026, 3, 3),
    )
    for line in order_lines:
        ShipmentLine.objects.create(shipment=parcel, order_line=line, quantity=2)
    TrackingEventFactory(
        shipment=parcel,
        tracking_number=f"1ZPAGE{order.pk}",
        description="Scan",
        location="Memphis",
        occurred_at=AT,
    )
    OrderEvent.objects.create(order=order, kind="shipped", message="On its way", visible_to_customer=True)
    OrderEvent.objects.create(order=order, kind="note", message="internal only")
    rr = ReturnRequestFactory(order=order, status="resolved", replacement_order=OrderFactory())
    ReturnLineFactory(return_request=rr, order_line=order_lines[0], quantity=1)
    StoreCredit.objects.create(
        email=order.email,
        order=order,
        return_request=rr,
        currency="USD",
        initial_amount=Decimal("19.99"),
        balance=Decimal("9.99"),
    )
    MessageFactory(thread=ThreadFactory(order=order), body="Where is it?")
    return order
