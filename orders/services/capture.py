"""Capture: an order from any channel becomes rows, is verified and, when clean, allocated."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.db import rows_insert
from core.money import ZERO, quantize
from inventory.models import Product
from inventory.services import stock_batch_lock, stock_batch_write

from ..advance import order_check_and_advance
from ..events import OrderWrites, order_event_record, order_transition, order_writes_flush_many
from ..exceptions import CaptureError, DuplicateOrder
from ..inputs import AddressInput, OrderInput
from ..models import Address, Channel, Order, OrderEvent, OrderHold, OrderLine
from ..verification import duplicate_index_build

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


def _address_build(data: AddressInput | None) -> Address | None:
    if data is None:
        return None
    return Address(
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


@dataclass
class _Draft:
    """One order of a batch, built in memory before the batch's inserts."""

    index: int  # its place among the batch's requests
    request: CaptureRequest
    order: Order
    lines: list[OrderLine]
    future_placed_at: dt.datetime | None


def _draft_build(index: int, req: CaptureRequest, products: dict[str, Product], now) -> _Draft:
    data, channel = req.data, req.channel
    placed_at = _aware(data.placed_at) or now
    future_placed_at = placed_at if placed_at > now + PLACED_AT_FUTURE_SLACK else None
    if future_placed_at is not None:
        placed_at = now
    subtotal = sum((quantize(ln.unit_price) * ln.quantity for ln in data.lines), ZERO)
    total = max(
        subtotal + quantize(data.shipping_total) + quantize(data.tax_total) - quantize(data.discount_total),
        ZERO,
    )
    order = Order(
        channel=channel,
        external_id=(data.external_id or "").strip(),
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
        shipping_address=_address_build(data.shipping_address),
        billing_address=_address_build(data.billing_address),
    )
    lines = [
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
    return _Draft(index=index, request=req, order=order, lines=lines, future_placed_at=future_placed_at)


def _captured_before(requests: list[tuple[int, CaptureRequest]]) -> dict[tuple[int, str], Order]:
    """The orders already captured under the batch's (channel, external id) pairs: one query."""
    wanted: dict[int, set[str]] = {}
    for _, req in requests:
        if external_id := (req.data.external_id or "").strip():
            wanted.setdefault(req.channel.pk, set()).add(external_id)
    if not wanted:
        return {}
    query = Q()
    for channel_id, external_ids in wanted.items():
        query |= Q(channel_id=channel_id, external_id__in=external_ids)
    return {(o.channel_id, o.external_id): o for o in Order.objects.filter(query)}


def _insert(drafts: list[_Draft]) -> list[_Draft]:
    """Insert the drafts' addresses, orders and lines: three statements for the batch.

    When another capture committed one of the batch's external ids since we looked (the unique
    index refuses the whole INSERT), the orders go in one by one, each in a savepoint, and the
    ones taken meanwhile are dropped from the batch (their requests answer as replays). Returns
    the drafts whose orders were inserted."""
    addresses = [a for d in drafts for a in (d.order.shipping_address, d.order.billing_address) if a]
    rows_insert(Address, addresses)
    orders = [d.order for d in drafts]
    try:
        with transaction.atomic():
            # Written in (channel, external id) order: a concurrent batch holding some of the same
            # orders (a redelivered burst, a CSV re-import) waits, then finds them taken, where
            # meeting them in another order would deadlock. Ids still follow arrival.
            rows_insert(Order, orders, lock_order=lambda o: (o.channel_id, o.external_id))
        inserted = drafts
    except IntegrityError:
        inserted = []
        for d in drafts:
            d.order.pk, d.order._state.adding = None, True  # a chunk inserted before the refusal
            try:
                with transaction.atomic():
                    d.order.save(force_insert=True)
                inserted.append(d)
            except IntegrityError:
                d.order.pk = None
    if any(d.order.pk is None for d in inserted):  # a database that can't return ids from a bulk insert
        raise RuntimeError("This database can't return the ids of bulk-inserted rows (SQLite 3.35+ can).")
    rows_insert(OrderLine, [line for d in inserted for line in d.lines])
    return inserted


def _walk(draft: _Draft, writes: OrderWrites, *, duplicates, stock) -> None:
    """Take one inserted order through capture's steps, in memory (its writes wait in `writes`):
    captured, the notes, then shipped elsewhere, or verified and held or allocated."""
    order, data, actor, channel = draft.order, draft.request.data, draft.request.actor, draft.request.channel
    order_event_record(
        order=order,
        kind=Kind.CAPTURED,
        actor=actor,
        visible=True,
        to_status=order.status,
        message=f"Order received from {channel.name}.",
        writes=writes,
    )
    if draft.future_placed_at is not None:
        order_event_record(
            order=order,
            kind=Kind.NOTE,
            actor=actor,
            message=f"{channel.name} said the order was placed at {draft.future_placed_at.isoformat()}, "
            "in the future: it is dated when it arrived instead.",
            writes=writes,
        )
    by = data.fulfilled_by or channel.name
    if note := _fulfilled_elsewhere_note(data, by):
        order_event_record(order=order, kind=Kind.NOTE, actor=actor, message=note, writes=writes)
    if all(ln.quantity_fulfilled_elsewhere == ln.quantity for ln in data.lines):
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
        return
    order_check_and_advance(
        order=order,
        actor=actor,
        extra_holds=data.extra_holds,
        lines=draft.lines,
        new=True,
        writes=writes,
        duplicates=duplicates,
        stock=stock,
    )
    writes.emails.append(("confirmation", None))


def orders_capture(requests: Sequence[CaptureRequest]) -> list[CaptureResult]:
    """Capture a batch of orders from any channels, in the order given: the one capture path (a
    single order is a batch of one, see order_capture). Each is verified and, when it passes,
    allocated, exactly as if they had arrived one after another.

    A clean order ends `allocated` (or `backordered` when no warehouse can fill it); one that
    fails a rule ends `on_hold` with every reason. Units the channel had already fulfilled itself
    (LineInput.quantity_fulfilled_elsewhere) are recorded as shipped and never reserved, so
    invariant 3 holds and only the rest is verified and allocated; an order with nothing left
    ends `shipped` (ship_elsewhere) without verification, allocation or a confirmation e-mail
    (the channel dealt with the customer). Either way the timeline says what was fulfilled where.

    Set-wise: the number of statements is fixed per batch, not per order. Products are read
    once, replays found in one query; addresses, orders and lines are inserted in one statement
    each; the customers' duplicate locks are taken and their recent orders read once; every
    stock item the batch needs is locked once, in primary-key order, and allocation is decided
    in memory in arrival order under those locks (each channel's strategy; backorders once stock
    runs out); then reservations, the stock update, holds, events, the orders' final states and
    one e-mail task (every confirmation, queued after commit) are written together. Address
    verification with a carrier and store-credit redemption still ask per order (outside
    systems or rare). One bad order never undoes the others: data that can't form an order comes
    back as an `error`, a (channel, external id) captured before as a result with `created`
    False. Runs in the caller's transaction, or its own.
    """
    results: list[CaptureResult | None] = [None] * len(requests)
    valid = []
    for i, req in enumerate(requests):
        errors = _validate_input(req.data)
        if errors:
            results[i] = CaptureResult(error=CaptureError(errors))
        else:
            valid.append((i, req))
    if not valid:
        return results
    with transaction.atomic():
        now = timezone.now()
        skus = {ln.sku for _, req in valid for ln in req.data.lines if ln.sku}
        products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
        # A single order asks the unique index on insert instead (a replay costs a rolled-back
        # insert, a first capture nothing); a batch asks once, so one replay doesn't send the whole
        # batch down the one-by-one path.
        before = _captured_before(valid) if len(valid) > 1 else {}
        drafts: list[_Draft] = []
        first_of: dict[tuple[int, str], _Draft] = {}
        repeats: list[tuple[int, _Draft]] = []
        for i, req in valid:
            key = (req.channel.pk, (req.data.external_id or "").strip())
            if key[1] and key in before:
                results[i] = CaptureResult(order=before[key], created=False)
            elif key[1] and key in first_of:
                repeats.append((i, first_of[key]))  # the same order twice in one batch
            else:
                draft = _draft_build(i, req, products, now)
                drafts.append(draft)
                if key[1]:
                    first_of[key] = draft
        inserted = _insert(drafts)
        taken = {id(d) for d in inserted}
        for d in drafts:
            if id(d) not in taken:  # captured by someone else a moment ago
                existing = Order.objects.get(channel=d.request.channel, external_id=d.order.external_id)
                results[d.index] = CaptureResult(order=existing, created=False)

        orders = [d.order for d in inserted]
        duplicates = duplicate_index_build(orders)
        product_ids = {line.product_id for d in inserted for line in d.lines if line.product_id}
        stock = stock_batch_lock(product_ids=product_ids)
        batch = []
        for draft in inserted:
            writes = OrderWrites(draft.order, emails=[])
            _walk(draft, writes, duplicates=duplicates, stock=stock)
            batch.append(writes)
            results[draft.index] = CaptureResult(order=draft.order, created=True)
        stock_batch_write(stock)
        order_writes_flush_many(batch)
        for i, first in repeats:
            results[i] = CaptureResult(order=results[first.index].order, created=False)
    return results


def order_capture(*, channel: Channel, data: OrderInput, actor=None) -> Order:
    """Capture one order: orders_capture with a batch of one. Raises CaptureError for data that
    can't form an order, DuplicateOrder when the channel's external id was captured before.
    Locks stock items (pk order) while allocating; the confirmation e-mail is queued after
    commit."""
    [result] = orders_capture([CaptureRequest(channel=channel, data=data, actor=actor)])
    if result.error is not None:
        raise result.error
    if not result.created:
        raise DuplicateOrder(result.order)
    return result.order
