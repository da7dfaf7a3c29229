"""Writes to returns: request, approve or reject, receive (restock), refund.

Lock order: the order row, then the return request row, then stock items (inside inventory).
"""

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment.models import ShipmentLine
from inventory.models import StockMovement
from inventory.services import stock_receive
from orders.models import Order, OrderEvent, OrderLine
from orders.services import order_event_record, order_lock

from .exceptions import ReturnNotAllowed, ReturnTransitionError
from .models import Refund, ReturnLine, ReturnRequest
from .refunds import refund_amount_for

Kind = OrderEvent.Kind


def _transition(rr: ReturnRequest, name: str, *, update_fields=(), **kwargs):
    method = getattr(rr, name)
    if not can_proceed(method):
        raise ReturnTransitionError(return_request=rr, transition=name)
    method(**kwargs)
    rr.save(update_fields=["status", "updated_at", *update_fields])


def _lock(return_id: int) -> tuple[Order, ReturnRequest]:
    order_id = ReturnRequest.objects.values_list("order_id", flat=True).get(pk=return_id)
    order = order_lock(order_id)
    return order, ReturnRequest.objects.select_for_update().get(pk=return_id)


def returnable_quantities(order: Order) -> dict[int, int]:
    """Units of each order line that may still be returned: shipped, minus returned, minus
    those in open return requests."""
    open_statuses = [
        ReturnRequest.Status.REQUESTED,
        ReturnRequest.Status.APPROVED,
        ReturnRequest.Status.RECEIVED,
        ReturnRequest.Status.INSPECTED,
    ]
    pending = dict(
        ReturnLine.objects.filter(return_request__order=order, return_request__status__in=open_statuses)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    return {
        line.pk: line.quantity_shipped - line.quantity_returned - pending.get(line.pk, 0)
        for line in order.lines.select_related("product")
        if line.product is None or line.product.is_returnable
    }


@transaction.atomic
def return_request_create(
    *,
    order_id: int,
    quantities: dict[int, int],
    reason: str,
    comment: str = "",
    resolution: str = ReturnRequest.Resolution.REFUND,
    actor=None,
) -> ReturnRequest:
    """Open a return for some units of a delivered order.

    Locks the order. Raises ReturnNotAllowed when the order is not delivered, nothing is asked
    for, or a quantity is more than can be returned.
    """
    order = order_lock(order_id)
    if order.status != Order.Status.DELIVERED:
        raise ReturnNotAllowed("Only delivered orders can be returned.")
    wanted = {line_id: qty for line_id, qty in quantities.items() if qty}
    if not wanted:
        raise ReturnNotAllowed("Choose at least one item to return.")
    allowed = returnable_quantities(order)
    for line_id, qty in wanted.items():
        if qty < 0 or qty > allowed.get(line_id, 0):
            raise ReturnNotAllowed(f"At most {allowed.get(line_id, 0)} of that item can be returned.")
    rr = ReturnRequest.objects.create(order=order, reason=reason, comment=comment, resolution=resolution)
    ReturnLine.objects.bulk_create(
        ReturnLine(return_request=rr, order_line_id=line_id, quantity=qty) for line_id, qty in wanted.items()
    )
    order_event_record(
        order=order,
        kind=Kind.RETURN,
        actor=actor,
        visible=True,
        message=f"Return {rr.number} requested ({rr.get_reason_display().lower()}).",
    )
    return rr


@transaction.atomic
def return_request_approve(*, return_id: int, actor=None, note: str = "") -> ReturnRequest:
    """Approve a requested return. Locks order then return."""
    order, rr = _lock(return_id)
    _transition(rr, "approve", at=timezone.now(), note=note, update_fields=("approved_at", "decision_note"))
    order_event_record(
        order=order,
        kind=Kind.RETURN,
        actor=actor,
        visible=True,
        message=f"Return {rr.number} approved. " + (note or "Please send the items back."),
    )
    return rr


@transaction.atomic
def return_request_reject(*, return_id: int, note: str, actor=None) -> ReturnRequest:
    """Reject a requested return with a reason the customer will read. Locks order then return."""
    order, rr = _lock(return_id)
    _transition(rr, "reject", note=note, update_fields=("decision_note",))
    order_event_record(
        order=order,
        kind=Kind.RETURN,
        actor=actor,
        visible=True,
        message=f"Return {rr.number} declined: {note}",
    )
    return rr


def _warehouse_for(order_line_id: int):
    sl = (
        ShipmentLine.objects.filter(order_line_id=order_line_id)
        .select_related("shipment__warehouse")
        .order_by("pk")
        .first()
    )
    return sl.shipment.warehouse if sl else None


@transaction.atomic
def return_request_receive(
    *, return_id: int, actor=None, conditions: dict[int, str] | None = None
) -> ReturnRequest:
    """Receive the parcel and inspect it: resellable units go back into the ledger of the
    warehouse that shipped them; damaged and missing units do not.

    `conditions` maps return line id to a ReturnLine.Condition (default: resellable). Locks the
    order, the return, then stock items.
    """
    order, rr = _lock(return_id)
    now = timezone.now()
    _transition(rr, "receive", at=now, update_fields=("received_at",))
    conditions = conditions or {}
    restocked = 0
    for line in rr.lines.select_related("order_line__product"):
        condition = conditions.get(line.pk, ReturnLine.Condition.RESELLABLE)
        line.condition = condition
        line.disposition = {
            ReturnLine.Condition.RESELLABLE: ReturnLine.Disposition.RESTOCK,
            ReturnLine.Condition.DAMAGED: ReturnLine.Disposition.SCRAP,
            ReturnLine.Condition.MISSING: ReturnLine.Disposition.SCRAP,
        }[condition]
        warehouse = _warehouse_for(line.order_line_id)
        product = line.order_line.product
        if line.disposition == ReturnLine.Disposition.RESTOCK and warehouse and product:
            stock_receive(
                product=product,
                warehouse=warehouse,
                quantity=line.quantity,
                kind=StockMovement.Kind.RETURN_RESTOCK,
                reference=f"return:{rr.number}",
                actor=actor,
            )
            line.quantity_restocked = line.quantity
            restocked += line.quantity
        line.save(update_fields=["condition", "disposition", "quantity_restocked"])
        if condition != ReturnLine.Condition.MISSING:
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_returned=F("quantity_returned") + line.quantity
            )
    _transition(rr, "inspect")
    order_event_record(
        order=order,
        kind=Kind.RETURN,
        actor=actor,
        visible=True,
        message=f"Return {rr.number} received and inspected."
        + (f" {restocked} units back in stock." if restocked else ""),
    )
    return rr


@transaction.atomic
def return_request_refund(*, return_id: int, actor=None, amount=None, note: str = "") -> Refund:
    """Refund an inspected return (by default, what the customer paid for the received units)
    and resolve it. Locks order then return."""
    order, rr = _lock(return_id)
    if not can_proceed(rr.resolve):
        raise ReturnTransitionError(return_request=rr, transition="refund")
    lines = rr.lines.select_related("order_line").exclude(condition=ReturnLine.Condition.MISSING)
    computed = refund_amount_for(
        order=order, quantities=[(ln.order_line.unit_price, ln.quantity) for ln in lines]
    )
    amount = computed if amount is None else amount
    if amount <= 0:
        raise ReturnNotAllowed("Nothing to refund for this return.")
    refund = Refund.objects.create(
        order=order,
        return_request=rr,
        amount=amount,
        currency=order.currency,
        note=note,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    _transition(rr, "resolve", at=timezone.now(), update_fields=("resolved_at",))
    refunded = Refund.objects.filter(order=order).aggregate(s=Sum("amount"))["s"]
    order.payment_status = (
        Order.PaymentStatus.REFUNDED if refunded >= order.total else Order.PaymentStatus.PARTIALLY_REFUNDED
    )
    order.save(update_fields=["payment_status", "updated_at"])
    order_event_record(
        order=order,
        kind=Kind.REFUND,
        actor=actor,
        visible=True,
        message=f"Refund of {amount} {order.currency} issued for return {rr.number}.",
    )
    return refund
