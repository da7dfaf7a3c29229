"""What the returns tests share: a delivered order built through the real services (capture,
fulfil, ship, deliver), a return received and inspected, and store credit issued as the returns
desk would, without walking a whole return, and spent by an order."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from fulfillment.services import order_start_fulfillment, shipment_deliver, shipment_pack, shipment_ship
from orders.models import Order
from orders.services import order_capture
from returns.models import StoreCredit
from returns.services import (
    return_request_approve,
    return_request_create,
    return_request_inspect,
    return_request_receive,
)


def delivered_order(
    channel, order_input, *, lines=(("WIDGET-1", 2, "25.00"),), delivered_at=None, **overrides
):
    overrides.setdefault("placed_at", timezone.now() - dt.timedelta(days=3))
    order = order_capture(channel=channel, data=order_input(lines=list(lines), **overrides))
    assert order.status == Order.Status.ALLOCATED, order.status
    for shipment in order_start_fulfillment(order_id=order.pk):
        shipment_pack(shipment_id=shipment.pk)
        shipment_ship(shipment_id=shipment.pk, tracking_number=f"1Z{shipment.pk:08d}", notify=False)
        shipment_deliver(shipment_id=shipment.pk, at=delivered_at, notify=False)
    order.refresh_from_db()
    return order


def credit_issue(*, order, amount="50.00", currency="USD", email="ada@example.com") -> StoreCredit:
    return StoreCredit.objects.create(
        email=email,
        order=order,
        currency=currency,
        initial_amount=Decimal(amount),
        balance=Decimal(amount),
    )


def balance_of(credit: StoreCredit) -> Decimal:
    credit.refresh_from_db()
    return credit.balance


def pay_with(channel, order_input, code, *, lines=(("WIDGET-1", 1, "25.00"),), **overrides):
    overrides.setdefault("payment_status", "pending")
    return order_capture(
        channel=channel,
        data=order_input(
            lines=list(lines), payment_method="store_credit", payment_reference=code, **overrides
        ),
    )


def received_return(order, qty=1, reason="damaged"):
    rr = return_request_create(order_id=order.pk, quantities={order.lines.get().pk: qty}, reason=reason)
    return_request_approve(return_id=rr.pk)
    return_request_receive(return_id=rr.pk)
    return_request_inspect(return_id=rr.pk)
    return rr
