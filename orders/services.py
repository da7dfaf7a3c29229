"""Writes to orders: capture, verification, holds, allocation, cancellation, events.

Every state change goes through `order_transition`, which saves the order and writes its event
in the same transaction (invariant 7). Callers hold the order's row lock.
"""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django_fsm import can_proceed

from core.money import ZERO, quantize
from inventory.models import Product
from inventory.services import stock_release

from .allocation import order_allocate
from .events import (
    order_event_record,
    order_fields_save,
    order_lock,
    order_notify,
    order_transition,
    order_writes_deferred,
)
from .exceptions import CaptureError, DuplicateOrder, OrderTransitionError
from .inputs import AddressInput, OrderInput
from .models import Address, Channel, Order, OrderEvent, OrderHold, OrderLine
from .notifications import order_email_after_commit
from .payments import payment_redeemer_for, payment_redeemers
from .verification import order_run_verification

Kind = OrderEvent.Kind
# The largest amount a 12-digit money column holds.
MAX_ORDER_AMOUNT = Decimal("9999999999.99")
# When an order may say it was placed: historical imports go back years; a clock a little ahead
# is forgiven. Outside this a date is a mistake (and year 1 breaks the duplicate window's maths).
EARLIEST_PLACED_AT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
PLACED_AT_FUTURE_SLACK = dt.timedelta(days=1)


# --- capture ----------------------------------------------------------------------------------
def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A channel's time without a zone is taken as UTC, as the platforms' *_gmt fields are."""
    return moment.replace(tzinfo=dt.UTC) if moment is not None and timezone.is_naive(moment) else moment


def _validate_input(data: OrderInput) -> dict[str, str]:
    errors = {}
    if not data.lines:
        errors["lines"] = "An order needs at least one line."
    for i, line in enumerate(data.lines):
        if not isinstance(line.quantity, int) or line.quantity < 1:
            errors[f"lines[{i}].quantity"] = "Quantity must be a whole number of at least 1."
        if line.unit_price is None or line.unit_price < 0:
            errors[f"lines[{i}].unit_price"] = "Unit price must be zero or more."
        if len(line.sku or "") > 64:
            errors[f"lines[{i}].sku"] = "SKU is longer than 64 characters."
    for name in ["shipping_total", "tax_total", "discount_total"]:
        if getattr(data, name) < 0:
            errors[name] = "Must be zero or more."
    if not errors:
        subtotal = sum((quantize(ln.unit_price) * ln.quantity for ln in data.lines), ZERO)
        if subtotal + quantize(data.shipping_total) + quantize(data.tax_total) > MAX_ORDER_AMOUNT:
            errors["lines"] = f"The order's total is over {MAX_ORDER_AMOUNT}: it can't be stored."
    if not (len(data.currency) == 3 and data.currency.isalpha()):
        errors["currency"] = "Currency must be a 3-letter ISO 4217 code."
    if data.shipping_speed not in Order.ShippingSpeed.values:
        errors["shipping_speed"] = "Must be one of: " + ", ".join(Order.ShippingSpeed.values) + "."
    if data.payment_status not in Order.PaymentStatus.values:
        errors["payment.status"] = "Must be one of: " + ", ".join(Order.PaymentStatus.values) + "."
    placed = _aware(data.placed_at)
    if placed is not None and not EARLIEST_PLACED_AT <= placed <= timezone.now() + PLACED_AT_FUTURE_SLACK:
        errors["placed_at"] = "Must be a date and time between 1970 and tomorrow."
    return errors


def _address_create(data: AddressInput | None) -> Address | None:
    if data is None:
        return None
    address = Address(
        name=data.name.strip()[:200],
        company=data.company.strip()[:200],
        line1=data.line1.strip()[:255],
        line2=data.line2.strip()[:255],
        city=data.city.strip()[:100],
        region=data.region.strip()[:100],
        postal_code=data.postal_code.strip()[:20],
        country=data.country.strip().upper()[:2],
        phone=data.phone.strip()[:40],
    )
    address.save()
    return address


@transaction.atomic
def order_capture(*, channel: Channel, data: OrderInput, actor=None) -> Order:
    """Capture an order from any channel, verify it and, when it passes, allocate it.

    A clean order ends `allocated` (or `backordered` when no warehouse can fill it); one that
    fails a rule ends `on_hold` with every reason. Raises CaptureError for data that can't form
    an order at all, DuplicateOrder when the channel's external id was captured before.
    The confirmation e-mail is queued after commit.
    """
    errors = _validate_input(data)
    if errors:
        raise CaptureError(errors)
    # No look-up for an earlier capture first: the unique (channel, external id) index answers
    # that on insert below (a replay costs a rolled-back insert; a first capture costs nothing).
    external_id = (data.external_id or "").strip()

    now = timezone.now()
    products = {p.sku: p for p in Product.objects.filter(sku__in={ln.sku for ln in data.lines if ln.sku})}
    subtotal = sum((quantize(ln.unit_price) * ln.quantity for ln in data.lines), ZERO)
    total = max(
        subtotal + quantize(data.shipping_total) + quantize(data.tax_total) - quantize(data.discount_total),
        ZERO,
    )
    order = Order(
        channel=channel,
        external_id=external_id,
        email=(data.email or "").strip()[:254],
        customer_name=data.customer_name.strip()[:200],
        phone=data.phone.strip()[:40],
        shipping_speed=data.shipping_speed,
        currency=data.currency.upper(),
        subtotal=subtotal,
        shipping_total=quantize(data.shipping_total),
        tax_total=quantize(data.tax_total),
        discount_total=quantize(data.discount_total),
        total=total,
        payment_method=data.payment_method.strip()[:40],
        payment_status=data.payment_status,
        payment_reference=data.payment_reference[:100],
        payment_amount=quantize(data.payment_amount if data.payment_amount is not None else 0),
        placed_at=_aware(data.placed_at) or now,
        notes=data.notes,
    )
    order.shipping_address = _address_create(data.shipping_address)
    order.billing_address = _address_create(data.billing_address)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        # Another request captured the same (channel, external id) a moment ago.
        existing = Order.objects.filter(channel=channel, external_id=external_id).first()
        if existing is None:
            raise
        raise DuplicateOrder(existing) from None

    lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=products.get(ln.sku),
                sku=ln.sku[:64],
                name=(ln.name or getattr(products.get(ln.sku), "name", "") or ln.sku)[:255],
                unit_price=quantize(ln.unit_price),
                quantity=ln.quantity,
            )
            for ln in data.lines
        ]
    )
    if any(line.pk is None for line in lines):  # a backend that can't return ids from bulk inserts
        lines = None
    with order_writes_deferred(order):
        order_event_record(
            order=order,
            kind=Kind.CAPTURED,
            actor=actor,
            visible=True,
            to_status=order.status,
            message=f"Order received from {channel.name}.",
        )
        _order_check_and_advance(
            order=order, actor=actor, extra_holds=data.extra_holds, lines=lines, new=True
        )
    order_email_after_commit(order_id=order.pk, kind="confirmation")
    return order


def _order_check_and_advance(
    *, order: Order, actor, extra_holds=(), lines=None, new: bool = False, notify: bool = True
) -> None:
    """Run verification; hold with every reason, or verify and allocate. Caller holds the lock.

    `lines` (with their products) and `new` (no holds yet) spare the reads when the caller has
    just created the order."""
    payment_problems = _order_collect_payment(order=order, actor=actor)
    findings = [(f.reason, f.detail) for f in order_run_verification(order, lines=lines, new=new)]
    if payment_problems:
        # The collector's reason says more than "payment is pending" would.
        findings = [f for f in findings if f[0] != OrderHold.Reason.PAYMENT] + payment_problems
    findings.extend(extra_holds)
    if findings:
        OrderHold.objects.bulk_create(
            OrderHold(order=order, reason=reason, detail=detail[:500]) for reason, detail in findings
        )
        order_transition(
            order=order,
            name="hold",
            kind=Kind.HELD,
            actor=actor,
            message="; ".join(f"{OrderHold.Reason(reason).label}: {detail}" for reason, detail in findings),
        )
        return
    order_transition(
        order=order,
        name="verify",
        kind=Kind.VERIFIED,
        actor=actor,
        at=timezone.now(),
        update_fields=("verified_at",),
        message="Every verification rule passed.",
    )
    order_allocate(order=order, actor=actor, lines=lines, notify=notify)


def _order_collect_payment(*, order: Order, actor) -> list[tuple[str, str]]:
    """Collect the order's payment when its method is one this system collects (store credit,
    through the redeemer its app registered); return the payment hold it needs instead, if any.

    The caller holds the order lock; the redeemer locks its own rows after it (order first, as
    everywhere). A redeemer is asked again on every re-check and does not collect twice, so a
    released hold redeems once the payment was corrected. Other methods: nothing to do here.
    """
    redeemer = payment_redeemer_for(order.payment_method)
    if redeemer is None:
        return []
    amount = order.payment_amount if order.payment_amount > 0 else order.total
    if amount <= 0:
        return []  # nothing to collect: the usual payment rule decides
    if amount > order.total:
        result = None
        detail = (
            f"{order.payment_method} payment of {amount} {order.currency} is more than "
            f"the order total of {order.total} {order.currency}."
        )
    else:
        result = redeemer.redeem(order=order, amount=amount, actor=actor)
        detail = result.detail
    if result is not None and result.paid:
        order.payment_status = Order.PaymentStatus.PAID
        order.payment_amount = result.amount
        order_fields_save(order, "payment_status", "payment_amount")
        if result.message:
            order_event_record(order=order, kind=Kind.NOTE, actor=actor, visible=True, message=result.message)
        return []
    # Nothing was collected, whatever the channel said about the payment.
    if order.payment_status != Order.PaymentStatus.PENDING:
        order.payment_status = Order.PaymentStatus.PENDING
        order_fields_save(order, "payment_status")
    return [(OrderHold.Reason.PAYMENT, detail)]


def _order_give_back_payments(*, order: Order, actor) -> bool:
    """Give back whatever this system collected for the order (store credit), each with a
    customer-visible event. The caller holds the order lock. True when something was given back."""
    given = False
    for redeemer in payment_redeemers():
        message = redeemer.give_back(order=order, actor=actor)
        if message:
            given = True
            order_event_record(order=order, kind=Kind.REFUND, actor=actor, visible=True, message=message)
    return given


# --- holds ------------------------------------------------------------------------------------
@transaction.atomic
def order_hold(*, order_id: int, reason: str, detail: str = "", actor=None) -> Order:
    """Put an order on hold by hand (pending orders), or add a reason to one already held.

    Locks the order. Raises OrderTransitionError for orders past verification.
    """
    order = order_lock(order_id)
    if order.status not in (Order.Status.PENDING, Order.Status.ON_HOLD):
        raise OrderTransitionError(order=order, transition="hold")
    OrderHold.objects.create(order=order, reason=reason, detail=detail[:500])
    label = OrderHold.Reason(reason).label
    if order.status == Order.Status.PENDING:
        order_transition(order=order, name="hold", kind=Kind.HELD, actor=actor, message=f"{label}: {detail}")
    else:
        order_event_record(order=order, kind=Kind.HELD, actor=actor, message=f"{label}: {detail}")
    return order


@transaction.atomic
def order_release_hold(*, order_id: int, actor=None, notify: bool = True) -> Order:
    """Release every active hold and re-run verification.

    Locks the order. Review reasons (duplicate, limit, fraud, manual) count as reviewed by the
    release; data problems (address, payment, SKU) that are still there put the order straight
    back on hold. A clean order is verified and allocated. Raises OrderTransitionError unless
    the order is on hold. `notify=False` (staff's choice) sends no backorder e-mail.
    """
    order = order_lock(order_id)
    if not can_proceed(order.release):
        raise OrderTransitionError(order=order, transition="release")
    now = timezone.now()
    order.holds.filter(released_at__isnull=True).update(released_at=now, released_by=actor)
    order_transition(
        order=order,
        name="release",
        kind=Kind.RELEASED,
        actor=actor,
        message="Holds released; verification runs again.",
    )
    _order_check_and_advance(order=order, actor=actor, notify=notify)
    return order


# --- allocation and cancellation --------------------------------------------------------------
@transaction.atomic
def order_allocate_now(*, order_id: int, actor=None, notify: bool = True) -> Order:
    """Try to allocate a verified or backordered order now.

    Locks the order, then stock (pk order). Raises OrderTransitionError for other states.
    `notify=False` (staff's choice) sends no backorder e-mail.
    """
    order = order_lock(order_id)
    if order.status not in (Order.Status.VERIFIED, Order.Status.BACKORDERED):
        raise OrderTransitionError(order=order, transition="allocate")
    order_allocate(order=order, actor=actor, notify=notify)
    return order


@transaction.atomic
def order_cancel(*, order_id: int, actor=None, reason: str = "", notify: bool = True) -> Order:
    """Cancel an order that has not started fulfilment and release its stock.

    Locks the order, then its stock items. Raises OrderTransitionError if it can't be cancelled.
    E-mails the customer after commit.
    """
    order = order_lock(order_id)
    if not can_proceed(order.cancel):
        raise OrderTransitionError(order=order, transition="cancel")
    released = stock_release(reference=order.stock_reference)
    order.holds.filter(released_at__isnull=True).update(released_at=timezone.now(), released_by=actor)
    order_transition(
        order=order,
        name="cancel",
        kind=Kind.CANCELLED,
        actor=actor,
        visible=True,
        at=timezone.now(),
        reason=reason,
        update_fields=("cancelled_at", "cancel_reason"),
        message=(reason or "Order cancelled.")
        + (f" {released} reserved unit{pluralize(released)} released." if released else ""),
    )
    if _order_give_back_payments(order=order, actor=actor):
        order.payment_status = Order.PaymentStatus.REFUNDED
        order.save(update_fields=["payment_status", "updated_at"])
    order_notify(order=order, kind="cancelled", notify=notify, actor=actor)
    return order


@transaction.atomic
def order_payment_correct(*, order_id: int, method: str, reference: str, status: str, actor=None) -> Order:
    """Correct the payment of an order that is waiting on it (pending or on hold): the method,
    its reference (a store-credit code) and its status. Releasing the hold then checks it again.

    Locks the order. What this system had already collected under the old details (store credit)
    is given back first, so the re-check collects from the corrected ones. Raises
    OrderTransitionError past verification, CaptureError for an unknown status.
    """
    order = order_lock(order_id)
    if order.status not in (Order.Status.PENDING, Order.Status.ON_HOLD):
        raise OrderTransitionError(order=order, transition="correct the payment")
    if status not in Order.PaymentStatus.values:
        raise CaptureError({"payment_status": "Unknown payment status."})
    method, reference = method.strip()[:40], reference.strip()[:100]
    before = f"{order.payment_method or 'no method'} {order.payment_reference}".strip()
    if (method, reference) != (order.payment_method, order.payment_reference):
        _order_give_back_payments(order=order, actor=actor)
    order.payment_method, order.payment_reference, order.payment_status = method, reference, status
    order.save(update_fields=["payment_method", "payment_reference", "payment_status", "updated_at"])
    order_event_record(
        order=order,
        kind=Kind.NOTE,
        actor=actor,
        message=f"Payment corrected: {method} {reference} ({order.get_payment_status_display().lower()}),"
        f" was {before}.",
    )
    return order


@transaction.atomic
def order_note_add(*, order_id: int, message: str, actor=None, visible: bool = False):
    """Add a staff note to an order's timeline."""
    order = Order.objects.get(pk=order_id)
    return order_event_record(order=order, kind=Kind.NOTE, actor=actor, message=message, visible=visible)
