"""Writes to returns: request, approve or reject, receive, inspect (restock), and resolve by
refund, exchange or store credit.

Lock order: the order row, then the return request row, then stock items (inside inventory).
Every step writes a customer-visible event on the order's timeline in the same transaction and
e-mails the customer after commit.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Sum
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django_fsm import can_proceed

from core.fsm import fsm_transition
from core.money import ZERO
from fulfillment.models import ShipmentLine
from inventory.models import Product, StockMovement
from inventory.services import stock_lock_products, stock_receive
from orders.events import order_event_record, order_lock
from orders.inputs import AddressInput, LineInput, OrderInput
from orders.models import Order, OrderEvent, OrderLine
from orders.services import order_capture

from .credit import store_credit_give_back_for_refund
from .exceptions import ReturnNotAllowed, ReturnTransitionError
from .models import Refund, ReturnLine, ReturnRequest, StoreCredit
from .notifications import return_email_after_commit
from .refunds import RefundQuote, refund_quote_for
from .selectors import product_list_exchange_options, return_list_returnable_lines
from .signals import refund_issued, return_changed

Kind = OrderEvent.Kind
Condition = ReturnLine.Condition
Disposition = ReturnLine.Disposition


def _return_transition(
    *,
    order: Order,
    rr: ReturnRequest,
    name: str,
    message: str,
    actor=None,
    kind: str = Kind.RETURN,
    update_fields: tuple[str, ...] = (),
    **kwargs,
) -> None:
    """Run one transition of the return, save it and write the customer-visible order event
    saying so. The caller holds the order and return locks (_lock). Raises
    ReturnTransitionError if the return's state does not allow the transition."""
    before, after = fsm_transition(
        obj=rr,
        name=name,
        refused=lambda: ReturnTransitionError(return_request=rr, transition=name),
        update_fields=update_fields,
        **kwargs,
    )
    order_event_record(order=order, kind=kind, actor=actor, visible=True, message=message)
    return_changed.send(
        sender=ReturnRequest, return_request=rr, order=order, from_status=before, to_status=after
    )


def _lock(return_id: int) -> tuple[Order, ReturnRequest]:
    # The order first, as every order service does, so returns and shipments can't deadlock.
    order_id = ReturnRequest.objects.values_list("order_id", flat=True).get(pk=return_id)
    order = order_lock(order_id)
    return order, ReturnRequest.objects.select_for_update().get(pk=return_id)


@transaction.atomic
def return_request_create(
    *,
    order_id: int,
    quantities: dict[int, int],
    reason: str,
    comment: str = "",
    resolution: str = ReturnRequest.Resolution.REFUND,
    exchange_products: dict[int, int] | None = None,
    actor=None,
) -> ReturnRequest:
    """Open a return for some delivered units of an order.

    `quantities` maps order line id to units; `exchange_products` maps order line id to the
    product id wanted instead (only for an exchange; default the same product). Locks the order.
    Raises ReturnNotAllowed when nothing is asked for, a quantity is more than can be returned
    (not delivered, not returnable, outside the window, already returned), or the reason,
    resolution or exchange item is not valid. E-mails the customer after commit.
    """
    order = order_lock(order_id)
    if reason not in ReturnRequest.Reason.values:
        raise ReturnNotAllowed("Choose a reason for the return.")
    if resolution not in ReturnRequest.Resolution.values:
        raise ReturnNotAllowed("Choose how you would like us to resolve the return.")
    wanted = {int(line_id): int(qty) for line_id, qty in quantities.items() if qty}
    if not wanted:
        raise ReturnNotAllowed("Choose at least one item to return.")
    allowed = {r.order_line.pk: r for r in return_list_returnable_lines(order=order)}
    for line_id, qty in wanted.items():
        info = allowed.get(line_id)
        if info is None or qty < 0 or qty > info.returnable:
            limit = info.returnable if info else 0
            name = info.order_line.name if info else "that item"
            raise ReturnNotAllowed(
                f"At most {limit} of {name} can be returned." + (f" {info.why_not}" if info else "")
            )
    exchange = {}
    if resolution == ReturnRequest.Resolution.EXCHANGE:
        options = product_list_exchange_options(
            products=[allowed[line_id].order_line.product for line_id in wanted]
        )
        for line_id in wanted:
            product = allowed[line_id].order_line.product
            choice = (exchange_products or {}).get(line_id) or product.pk
            valid = {p.pk: p for p in options.get(product.pk, [product])}
            if int(choice) not in valid:
                raise ReturnNotAllowed(f"We can't exchange {product.name} for that item.")
            exchange[line_id] = int(choice)
    rr = ReturnRequest.objects.create(
        order=order, reason=reason, comment=comment[:2000], resolution=resolution
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(
            return_request=rr, order_line_id=line_id, quantity=qty, exchange_product_id=exchange.get(line_id)
        )
        for line_id, qty in wanted.items()
    )
    order_event_record(
        order=order,
        kind=Kind.RETURN,
        actor=actor,
        visible=True,
        message=f"Return {rr.number} requested ({rr.get_reason_display().lower()}).",
    )
    return_changed.send(
        sender=ReturnRequest, return_request=rr, order=order, from_status="", to_status=rr.status
    )
    return_email_after_commit(return_id=rr.pk, kind="requested")
    return rr


@transaction.atomic
def return_request_approve(*, return_id: int, actor=None, note: str = "") -> ReturnRequest:
    """Approve a requested return. Locks order then return. Raises ReturnTransitionError unless
    requested. E-mails the customer the return instructions after commit; when the shop pays the
    way back and the order's carrier buys labels, a prepaid return label is bought after commit
    and e-mailed on its own (returns.labels)."""
    from .labels import return_label_enqueue

    order, rr = _lock(return_id)
    _return_transition(
        order=order,
        rr=rr,
        name="approve",
        at=timezone.now(),
        note=note,
        update_fields=("approved_at", "decision_note"),
        actor=actor,
        message=f"Return {rr.number} approved. " + (note or "Please send the items back."),
    )
    return_label_enqueue(rr=rr)
    return_email_after_commit(return_id=rr.pk, kind="approved")
    return rr


@transaction.atomic
def return_request_reject(*, return_id: int, note: str, actor=None) -> ReturnRequest:
    """Reject a requested return with a reason the customer will read. Locks order then return.
    Raises ReturnNotAllowed without a reason, ReturnTransitionError unless requested. E-mails
    the customer after commit."""
    if not (note or "").strip():
        raise ReturnNotAllowed("Give the customer a reason for the rejection.")
    order, rr = _lock(return_id)
    _return_transition(
        order=order,
        rr=rr,
        name="reject",
        note=note.strip(),
        update_fields=("decision_note",),
        actor=actor,
        message=f"Return {rr.number} declined: {note.strip()}",
    )
    return_email_after_commit(return_id=rr.pk, kind="rejected")
    return rr


@transaction.atomic
def return_request_cancel(*, return_id: int, actor=None) -> ReturnRequest:
    """Cancel a return that has not been received (customer changed their mind). Locks order
    then return. Raises ReturnTransitionError once the parcel is in."""
    order, rr = _lock(return_id)
    _return_transition(
        order=order, rr=rr, name="cancel", actor=actor, message=f"Return {rr.number} cancelled."
    )
    return rr


@transaction.atomic
def return_request_receive(*, return_id: int, actor=None) -> ReturnRequest:
    """Log the parcel of an approved return as arrived (scanned at the returns desk); nothing
    goes back into stock until inspection. Locks order then return. Raises
    ReturnTransitionError unless approved."""
    order, rr = _lock(return_id)
    _return_transition(
        order=order,
        rr=rr,
        name="receive",
        at=timezone.now(),
        update_fields=("received_at",),
        actor=actor,
        message=f"Return {rr.number} arrived at our warehouse; we are checking the items.",
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


DEFAULT_DISPOSITION = {
    Condition.RESELLABLE: Disposition.RESTOCK,
    Condition.DAMAGED: Disposition.SCRAP,
    Condition.MISSING: Disposition.SCRAP,
}


@transaction.atomic
def return_request_inspect(
    *, return_id: int, actor=None, results: dict[int, tuple[str, str]] | None = None
) -> ReturnRequest:
    """Record each line's condition and disposition; restocked units go back into the ledger of
    the warehouse that shipped them, refurbished and scrapped ones do not.

    `results` maps return line id to (condition, disposition); a missing line defaults to
    resellable + restock, an empty disposition to the condition's usual one. Missing units are
    not counted as returned (and are not refunded). Locks order, return, then stock items.
    Raises ReturnNotAllowed for an unknown value or a missing unit marked anything but scrap,
    ReturnTransitionError unless received.
    """
    order, rr = _lock(return_id)
    if not can_proceed(rr.inspect):
        raise ReturnTransitionError(return_request=rr, transition="inspect")
    results = results or {}
    restocked = 0
    lines = list(rr.lines.select_related("order_line__product"))
    # Lock every stock item these lines may restock, all at once in pk order, before the first
    # movement: restocking line by line would lock in line order and could deadlock against an
    # allocation locking the same items in pk order.
    stock_lock_products(product_ids=[ln.order_line.product_id for ln in lines if ln.order_line.product_id])
    for line in lines:
        condition, disposition = results.get(line.pk, (Condition.RESELLABLE, ""))
        if condition not in Condition.values:
            raise ReturnNotAllowed(f"Unknown condition “{condition}” for {line.order_line.sku}.")
        disposition = disposition or DEFAULT_DISPOSITION[condition]
        if disposition not in Disposition.values:
            raise ReturnNotAllowed(f"Unknown disposition “{disposition}” for {line.order_line.sku}.")
        if condition == Condition.MISSING and disposition != Disposition.SCRAP:
            raise ReturnNotAllowed(f"{line.order_line.sku} is missing: there is nothing to restock.")
        line.condition, line.disposition = condition, disposition
        warehouse = _warehouse_for(line.order_line_id)
        product = line.order_line.product
        if disposition == Disposition.RESTOCK and warehouse and product:
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
        if condition != Condition.MISSING:
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_returned=F("quantity_returned") + line.quantity
            )
    _return_transition(
        order=order,
        rr=rr,
        name="inspect",
        actor=actor,
        message=f"Return {rr.number} inspected."
        + (f" {restocked} unit{pluralize(restocked)} back in stock." if restocked else ""),
    )
    return rr


def return_quote(*, return_request: ReturnRequest, store_credit: bool = False) -> RefundQuote:
    """What resolving this return by refund (or store credit) would pay: units that arrived
    (all asked-for units before inspection), at what the customer paid, less the fees."""
    lines = [ln for ln in return_request.lines.all() if ln.condition != Condition.MISSING]
    return refund_quote_for(
        order=return_request.order,
        quantities=[(ln.order_line.unit_price, ln.quantity) for ln in lines],
        reason=return_request.reason,
        store_credit=store_credit,
    )


def _order_update_refunded(order: Order) -> None:
    # Returns' refunds against the order's total; an order edit's refunds (no return) already
    # lowered that total, so counting them too would call a partial refund a full one.
    returned = Refund.objects.filter(order=order, return_request__isnull=False)
    refunded = returned.aggregate(s=Sum("amount"))["s"] or ZERO
    order.payment_status = (
        Order.PaymentStatus.REFUNDED if refunded >= order.total else Order.PaymentStatus.PARTIALLY_REFUNDED
    )
    order.save(update_fields=["payment_status", "updated_at"])


def _resolve(*, order: Order, rr: ReturnRequest, resolution: str, actor, message: str, kind: str) -> None:
    rr.resolution = resolution
    _return_transition(
        order=order,
        rr=rr,
        name="resolve",
        at=timezone.now(),
        update_fields=("resolved_at", "resolution"),
        actor=actor,
        kind=kind,
        message=message,
    )


def _refund_create(*, order, rr, amount, method: str, note: str, actor, reference: str = "") -> Refund:
    refund = Refund.objects.create(
        order=order,
        return_request=rr,
        amount=amount,
        currency=order.currency,
        method=method,
        reference=reference,
        note=note[:500],
        actor=actor if getattr(actor, "pk", None) else None,
    )
    refund_issued.send(sender=Refund, refund=refund, order=order)
    return refund


def _refund_and_resolve(
    *,
    order,
    rr,
    amount,
    method: str,
    note: str,
    actor,
    message: str,
    email_kind: str,
    reference: str = "",
    resolution: str = "",
) -> Refund:
    """Write the refund row (original payment or store credit), resolve the return, update the
    order's payment status, record the customer-visible event and e-mail after commit. The caller
    holds the order and return locks."""
    refund = _refund_create(
        order=order, rr=rr, amount=amount, method=method, note=note, actor=actor, reference=reference
    )
    resolution = resolution or (
        ReturnRequest.Resolution.STORE_CREDIT
        if method == Refund.Method.STORE_CREDIT
        else ReturnRequest.Resolution.REFUND
    )
    _order_update_refunded(order)
    _resolve(order=order, rr=rr, resolution=resolution, actor=actor, kind=Kind.REFUND, message=message)
    return_email_after_commit(return_id=rr.pk, kind=email_kind)
    return refund


@transaction.atomic
def return_request_refund(*, return_id: int, actor=None, amount=None, note: str = "") -> Refund:
    """Refund an inspected return and resolve it: to the original payment method, or, for an
    order paid with store credit, back to that credit (up to what the order spent on it; any
    rest goes to the original payment).

    By default the amount is the quote (what the customer paid for the units that arrived, less
    return shipping and restocking fee). Locks order then return, then the credit. Raises
    ReturnTransitionError unless inspected, ReturnNotAllowed when there is nothing to refund.
    E-mails after commit. Returns the (last) refund row.
    """
    order, rr = _lock(return_id)
    if not can_proceed(rr.resolve):
        raise ReturnTransitionError(return_request=rr, transition="refund")
    quote = return_quote(return_request=rr)
    amount = quote.amount if amount is None else amount
    if amount <= 0:
        raise ReturnNotAllowed("Nothing to refund for this return.")
    note = note or quote.describe(order.currency)
    given = store_credit_give_back_for_refund(
        order=order, amount=amount, actor=actor, note=f"Refund for return {rr.number}."
    )
    if given:
        return _refund_to_credit(order=order, rr=rr, amount=amount, given=given, note=note, actor=actor)
    return _refund_and_resolve(
        order=order,
        rr=rr,
        amount=amount,
        method=Refund.Method.ORIGINAL_PAYMENT,
        note=note,
        actor=actor,
        message=f"Refund of {amount} {order.currency} issued for return {rr.number}.",
        email_kind="refunded",
    )


def _refund_to_credit(*, order, rr, amount, given, note: str, actor) -> Refund:
    """Book a refund that went back to store credit (`given`: credit and amount pairs), plus the
    rest, if the order spent less credit than the refund, to the original payment."""
    rest = amount - sum((back for _, back in given), ZERO)
    parts = [f"{back} {order.currency} back on store credit {credit.code}" for credit, back in given]
    if rest > 0:
        _refund_create(
            order=order, rr=rr, amount=rest, method=Refund.Method.ORIGINAL_PAYMENT, note=note, actor=actor
        )
        parts.append(f"{rest} {order.currency} to the original payment")
    *earlier, (last_credit, last_back) = given
    for credit, back in earlier:
        _refund_create(
            order=order,
            rr=rr,
            amount=back,
            method=Refund.Method.STORE_CREDIT,
            reference=credit.code,
            note=note,
            actor=actor,
        )
    return _refund_and_resolve(
        order=order,
        rr=rr,
        amount=last_back,
        method=Refund.Method.STORE_CREDIT,
        reference=last_credit.code,
        resolution=ReturnRequest.Resolution.REFUND,
        note=note,
        actor=actor,
        message=f"Refund of {amount} {order.currency} for return {rr.number}: " + ", ".join(parts) + ".",
        email_kind="refunded",
    )


@transaction.atomic
def return_request_store_credit(*, return_id: int, actor=None) -> StoreCredit:
    """Resolve an inspected return with store credit: a code worth the quote without the
    restocking fee, and a store-credit refund row for the books. Locks order then return.
    Raises ReturnTransitionError unless inspected, ReturnNotAllowed when the credit would be
    zero. E-mails the code after commit."""
    order, rr = _lock(return_id)
    if not can_proceed(rr.resolve):
        raise ReturnTransitionError(return_request=rr, transition="issue store credit")
    quote = return_quote(return_request=rr, store_credit=True)
    if quote.amount <= 0:
        raise ReturnNotAllowed("Nothing to credit for this return.")
    credit = StoreCredit.objects.create(
        email=order.email,
        order=order,
        return_request=rr,
        currency=order.currency,
        initial_amount=quote.amount,
        balance=quote.amount,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    _refund_and_resolve(
        order=order,
        rr=rr,
        amount=quote.amount,
        method=Refund.Method.STORE_CREDIT,
        reference=credit.code,
        note=quote.describe(order.currency),
        actor=actor,
        message=f"Store credit of {quote.amount} {order.currency} issued for return {rr.number}.",
        email_kind="store_credit",
    )
    return credit


@dataclass
class _ExchangeLine:
    product: Product
    quantity: int


@transaction.atomic
def return_request_exchange(*, return_id: int, actor=None) -> Order:
    """Resolve an inspected return by sending replacements: a new, zero-priced, paid order in
    the original channel through the capture service (verified and allocated like any other),
    linked from the return. Units that did not arrive are not replaced.

    Locks order then return, then (inside capture) stock. Raises ReturnTransitionError unless
    inspected, ReturnNotAllowed when nothing arrived or an item is no longer sold. The customer
    gets the exchange e-mail and the new order's confirmation after commit.
    """
    order, rr = _lock(return_id)
    if not can_proceed(rr.resolve):
        raise ReturnTransitionError(return_request=rr, transition="exchange")
    wanted = [
        _ExchangeLine(ln.exchange_product or ln.order_line.product, ln.quantity)
        for ln in rr.lines.select_related("exchange_product", "order_line__product")
        if ln.condition != Condition.MISSING
    ]
    if not wanted:
        raise ReturnNotAllowed("None of the items arrived: there is nothing to exchange.")
    for item in wanted:
        if item.product is None or not item.product.is_active:
            raise ReturnNotAllowed("An exchange item is no longer sold; refund or credit instead.")
    data = OrderInput(
        email=order.email,
        external_id=f"exchange:{rr.number}",
        customer_name=order.customer_name,
        phone=order.phone,
        shipping_address=AddressInput.from_model(order.shipping_address),
        shipping_speed=order.shipping_speed,
        currency=order.currency,
        lines=[LineInput(sku=i.product.sku, quantity=i.quantity, unit_price=ZERO) for i in wanted],
        payment_method="exchange",
        payment_status=Order.PaymentStatus.PAID,
        payment_reference=rr.number,
        notes=f"Replacement for return {rr.number} of order {order.number}.",
    )
    replacement = order_capture(channel=order.channel, data=data, actor=actor)
    rr.replacement_order = replacement
    rr.save(update_fields=["replacement_order", "updated_at"])
    _resolve(
        order=order,
        rr=rr,
        resolution=ReturnRequest.Resolution.EXCHANGE,
        actor=actor,
        kind=Kind.RETURN,
        message=f"Return {rr.number} exchanged: replacement order {replacement.number} is on its way.",
    )
    return_email_after_commit(return_id=rr.pk, kind="exchanged")
    return replacement
