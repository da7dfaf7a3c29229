"""Capture: an order from any channel becomes rows, is verified and, when clean, allocated."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.money import ZERO, quantize
from inventory.models import Product

from ..advance import order_check_and_advance
from ..events import OrderWrites, order_event_record, order_transition
from ..exceptions import CaptureError, DuplicateOrder
from ..inputs import AddressInput, OrderInput
from ..models import Address, Channel, Order, OrderEvent, OrderHold, OrderLine
from ..notifications import order_email_after_commit

Kind = OrderEvent.Kind
# The largest amount a 12-digit money column holds.
MAX_ORDER_AMOUNT = Decimal("9999999999.99")
# When an order may say it was placed: historical imports go back years (to 1970 in any time
# zone); earlier is a mistake (and year 1 breaks the duplicate window's maths). A clock a little
# ahead is forgiven; a time further ahead is taken as the time the order arrived, and said so.
EARLIEST_PLACED_AT = dt.datetime(1969, 12, 31, tzinfo=dt.UTC)
PLACED_AT_FUTURE_SLACK = dt.timedelta(days=1)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A channel's time in UTC; one without a zone is taken as UTC, as the platforms' *_gmt fields
    are. (PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 and Python allow.)"""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if timezone.is_naive(moment) else moment.astimezone(dt.UTC)


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
        elsewhere = line.quantity_fulfilled_elsewhere
        if not isinstance(elsewhere, int) or not 0 <= elsewhere <= (line.quantity or 0):
            errors[f"lines[{i}].quantity_fulfilled_elsewhere"] = "Must be between 0 and the line's quantity."
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
    if placed is not None and placed < EARLIEST_PLACED_AT:
        errors["placed_at"] = "Must be a date and time from 1970 on."
    return errors


def _fulfilled_elsewhere_note(data: OrderInput, by: str) -> str:
    """The timeline's account of the units the channel had fulfilled itself ("" when none)."""
    parts = [
        f"{ln.quantity_fulfilled_elsewhere} × {ln.sku} fulfilled on {by}"
        + (f" ({ln.fulfilled_elsewhere_detail})" if ln.fulfilled_elsewhere_detail else "")
        for ln in data.lines
        if ln.quantity_fulfilled_elsewhere
    ]
    return "; ".join(parts) + "; not shipped from our warehouses." if parts else ""


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


@dataclass
class CaptureRequest:
    """One order to capture in a batch: the channel it came from, its data and who sent it."""

    channel: Channel
    data: OrderInput
    actor: Any = None


@dataclass
class CaptureResult:
    """What became of one CaptureRequest: a new `order` (`created`), the order captured before
    under the same (channel, external id) (`created` False), or the `error` that kept the data
    from forming an order (then `order` is None). One result per request, in the same order."""

    order: Order | None = None
    created: bool = False
    error: CaptureError | None = None

    @property
    def duplicate(self) -> bool:
        return self.order is not None and not self.created


def orders_capture(requests: Sequence[CaptureRequest]) -> list[CaptureResult]:
    """Capture a batch of orders, in the order given: the one capture path (a single order is a
    batch of one, see order_capture). One bad order never undoes the others: data that can't
    form an order and replays come back as results, not exceptions. Runs in the caller's
    transaction (or its own)."""
    results = []
    with transaction.atomic():
        for req in requests:
            try:
                with transaction.atomic():
                    order = _order_capture_one(channel=req.channel, data=req.data, actor=req.actor)
                results.append(CaptureResult(order=order, created=True))
            except CaptureError as exc:
                results.append(CaptureResult(error=exc))
            except DuplicateOrder as dup:
                results.append(CaptureResult(order=dup.order, created=False))
    return results


def order_capture(*, channel: Channel, data: OrderInput, actor=None) -> Order:
    """Capture one order: orders_capture with a batch of one. Raises CaptureError for data that
    can't form an order, DuplicateOrder when the channel's external id was captured before."""
    [result] = orders_capture([CaptureRequest(channel=channel, data=data, actor=actor)])
    if result.error is not None:
        raise result.error
    if not result.created:
        raise DuplicateOrder(result.order)
    return result.order


def _order_capture_one(*, channel: Channel, data: OrderInput, actor=None) -> Order:
    """Capture an order from any channel, verify it and, when it passes, allocate it.

    A clean order ends `allocated` (or `backordered` when no warehouse can fill it); one that
    fails a rule ends `on_hold` with every reason. Units the channel had already fulfilled itself
    (LineInput.quantity_fulfilled_elsewhere) are recorded as shipped and never reserved, so
    invariant 3 holds and only the rest is verified and allocated; an order with nothing left
    ends `shipped` (ship_elsewhere) without verification, allocation or a confirmation e-mail
    (the channel dealt with the customer). Either way the timeline says what was fulfilled where.
    Raises CaptureError for data that can't form an order at all, DuplicateOrder when the
    channel's external id was captured before. Locks stock items (pk order) while allocating.
    The confirmation e-mail is queued after commit.
    """
    errors = _validate_input(data)
    if errors:
        raise CaptureError(errors)
    # No look-up for an earlier capture first: the unique (channel, external id) index answers
    # that on insert below (a replay costs a rolled-back insert; a first capture costs nothing).
    external_id = (data.external_id or "").strip()

    now = timezone.now()
    placed_at = _aware(data.placed_at) or now
    future_placed_at = placed_at if placed_at > now + PLACED_AT_FUTURE_SLACK else None
    if future_placed_at is not None:
        placed_at = now
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
        placed_at=placed_at,
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
                external_line_id=(ln.external_line_id or "")[:100],
                unit_price=quantize(ln.unit_price),
                quantity=ln.quantity,
                quantity_shipped=ln.quantity_fulfilled_elsewhere,
                quantity_fulfilled_elsewhere=ln.quantity_fulfilled_elsewhere,
            )
            for ln in data.lines
        ]
    )
    if any(line.pk is None for line in lines):  # a backend that can't return ids from bulk inserts
        lines = None
    # The new order walks through several states in this call: its writes go out together.
    writes = OrderWrites(order)
    order_event_record(
        order=order,
        kind=Kind.CAPTURED,
        actor=actor,
        visible=True,
        to_status=order.status,
        message=f"Order received from {channel.name}.",
        writes=writes,
    )
    if future_placed_at is not None:
        order_event_record(
            order=order,
            kind=Kind.NOTE,
            actor=actor,
            message=f"{channel.name} said the order was placed at {future_placed_at.isoformat()}, "
            "in the future: it is dated when it arrived instead.",
            writes=writes,
        )
    by = data.fulfilled_by or channel.name
    if note := _fulfilled_elsewhere_note(data, by):
        order_event_record(order=order, kind=Kind.NOTE, actor=actor, message=note, writes=writes)
    done_elsewhere = all(ln.quantity_fulfilled_elsewhere == ln.quantity for ln in data.lines)
    if done_elsewhere:
        order_transition(
            order=order,
            name="ship_elsewhere",
            kind=Kind.SHIPPED,
            actor=actor,
            visible=True,
            message=f"Shipped by {by}.",
            writes=writes,
        )
        if data.extra_holds:
            order_event_record(
                order=order,
                kind=Kind.NOTE,
                actor=actor,
                message="Not held, nothing is left to ship: "
                + "; ".join(
                    f"{OrderHold.Reason(reason).label}: {detail}" for reason, detail in data.extra_holds
                ),
                writes=writes,
            )
    else:
        order_check_and_advance(
            order=order, actor=actor, extra_holds=data.extra_holds, lines=lines, new=True, writes=writes
        )
    writes.flush()
    if not done_elsewhere:
        order_email_after_commit(order_id=order.pk, kind="confirmation")
    return order
