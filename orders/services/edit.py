"""Edits: an open order's lines, address, speed or shipping price change after capture, or some of
its units are cancelled (short-ship), in one transaction that leaves it as if it had been placed so.

What follows an edit, for an order past verification: its stock is released and reserved again
for the new lines by the channel's allocation strategy (or it waits as backordered), verification
runs again on the result (a new address, a value over the limit or money still to collect hold
it), its shipments not yet picked are rebuilt (fulfillment's hook), and the money difference is
recorded: to collect (the payment goes back to pending until staff record it) or paid back (a
refund record through returns' hook). An order on hold is only changed: its holds' release checks
it again. One `edited` event carries the difference, who made it and why; the customer gets one
e-mail saying what changed, unless staff choose not to tell them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from core.money import ZERO
from inventory.models import Product
from inventory.services import stock_lock_products, stock_release

from ..allocation import allocation_reserve
from ..edit_hooks import edit_refund, edit_shipments_lock, edit_shipments_rebuild
from ..edits import ADDRESS_FIELDS, TOTALS, EditPlan, LineEdit, OrderEdit, edit_plan, edit_skus
from ..events import order_event_record, order_lock, order_transition
from ..exceptions import EditInvalid, OrderNotEditable
from ..models import Address, Order, OrderEvent, OrderHold, OrderLine
from ..notifications import order_email_after_commit
from ..verification import DEFERRED_PAYMENT_METHODS, REVIEW_REASONS, order_run_verification

S = Order.Status
Kind = OrderEvent.Kind
Reason = OrderHold.Reason
PaymentStatus = Order.PaymentStatus

# Past verification: stock, holds and shipments follow the edit at once.
CHECKED = [S.VERIFIED, S.BACKORDERED, S.ALLOCATED, S.PROCESSING, S.PARTIALLY_SHIPPED]
# Payments that took money: what an edit takes off is paid back.
REFUNDABLE = [PaymentStatus.AUTHORIZED, PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED]
NOT_EDITABLE = {
    S.PENDING: "it is being checked; try again in a moment.",
    S.SHIPPED: "every item has left the warehouse.",
    S.DELIVERED: "it has been delivered.",
    S.CANCELLED: "it is cancelled.",
}
TARGETS = {
    "hold_after_edit": S.ON_HOLD,
    "ship_after_edit": S.SHIPPED,
    "allocate": S.ALLOCATED,
    "backorder": S.BACKORDERED,
    "backorder_after_edit": S.BACKORDERED,
}


@dataclass(frozen=True)
class EditMoney:
    """The money an edit moves: `difference` (new total less old), what is left to `collect`
    (the payment is pending until staff record it) and what is paid back (`refund`)."""

    currency: str
    difference: Decimal = ZERO
    collect: Decimal = ZERO
    refund: Decimal = ZERO
    text: str = ""

    def as_json(self) -> dict:
        return {
            "currency": self.currency,
            "difference": str(self.difference),
            "collect": str(self.collect),
            "refund": str(self.refund),
            "text": self.text,
        }


@dataclass
class EditResult:
    """What an edit did (or, from order_edit_preview, would do)."""

    order: Order
    plan: EditPlan
    status_before: str
    money: EditMoney
    reason: str = ""
    outcome: list[str] = field(default_factory=list)  # what followed, for staff
    refund_text: str = ""
    notified: bool = False
    event: OrderEvent | None = None

    @property
    def changed(self) -> bool:
        return self.plan.changed

    def as_json(self) -> dict:
        """The difference as the `edited` event keeps it (and the API shows it)."""
        return {
            "reason": self.reason,
            **self.plan.as_json(),
            "money": {**self.money.as_json(), "refund_text": self.refund_text},
            "status": [self.status_before, self.order.status],
            "outcome": self.outcome,
            "notified": self.notified,
        }

    def for_customer(self) -> dict:
        """What the customer's e-mail says (no staff reasons, warehouses or hold details)."""
        before, after = self.plan.totals["total"]
        return {
            "changes": self.plan.texts(),
            "total": [str(before), str(after)],
            "currency": self.order.currency,
            "collect": str(self.money.collect),
            "refund": str(self.money.refund),
            "refund_text": self.refund_text,
            "status": self.order.status,
        }


@transaction.atomic
def order_edit(
    *, order_id: int, changes: OrderEdit, actor=None, reason: str = "", notify: bool = True
) -> EditResult:
    """Change an open order's lines, shipping address, speed or shipping price.

    Locks the order, then its shipments (fulfillment's hook), then (past verification) every
    stock item of its old and new products at once, in pk order; a store credit last. Raises
    OrderNotEditable when the order can't change now (shipped, delivered, cancelled, or a shipment
    is being picked or packed), EditInvalid for what it can't become. An edit that changes
    nothing writes nothing. After commit: one e-mail to the customer, unless `notify` is False
    (said on the event); freed stock is announced to backorders.
    """
    return _edit(
        order_id=order_id,
        changes_for=lambda order, lines: changes,
        actor=actor,
        reason=reason,
        notify=notify,
        preview=False,
    )


def order_edit_preview(*, order_id: int, changes: OrderEdit, actor=None, reason: str = "") -> EditResult:
    """What order_edit would do now, without doing it: the edit runs in a transaction that is
    rolled back (same locks, for that moment), so the difference, the money, the holds and the
    backorders shown are exactly the ones it would make. Pays nothing back and e-mails no one.
    Raises what order_edit raises."""
    with transaction.atomic():
        result = _edit(
            order_id=order_id,
            changes_for=lambda order, lines: changes,
            actor=actor,
            reason=reason,
            notify=False,
            preview=True,
        )
        transaction.set_rollback(True)
    return result


@transaction.atomic
def order_lines_cancel(
    *,
    order_id: int,
    quantities: dict[int, int],
    actor=None,
    reason: str = "",
    notify: bool = True,
    refund_to_store_credit: bool = False,
) -> EditResult:
    """Cancel some units not yet shipped (short-ship): `quantities` per line id, the rest of the
    order goes on. An edit (order_edit: same locks, refusals, event and e-mail) whose lines lose
    those units. Raises EditInvalid for a line that isn't the order's or more units than are left
    to ship."""
    return _edit(
        order_id=order_id,
        changes_for=partial(_cancel_changes, quantities=quantities, to_store_credit=refund_to_store_credit),
        actor=actor,
        reason=reason,
        notify=notify,
        preview=False,
    )


def order_lines_cancel_preview(
    *, order_id: int, quantities: dict[int, int], actor=None, reason: str = "", refund_to_store_credit=False
) -> EditResult:
    """What order_lines_cancel would do now, rolled back (see order_edit_preview)."""
    with transaction.atomic():
        result = _edit(
            order_id=order_id,
            changes_for=partial(
                _cancel_changes, quantities=quantities, to_store_credit=refund_to_store_credit
            ),
            actor=actor,
            reason=reason,
            notify=False,
            preview=True,
        )
        transaction.set_rollback(True)
    return result


def _cancel_changes(order: Order, lines: list[OrderLine], *, quantities, to_store_credit) -> OrderEdit:
    by_id = {line.pk: line for line in lines}
    errors = {}
    for line_id, units in quantities.items():
        line = by_id.get(line_id)
        if line is None:
            errors[f"lines[{line_id}]"] = f"Order {order.number} has no line {line_id}."
        elif not 0 <= units <= line.quantity - line.quantity_shipped:
            left = line.quantity - line.quantity_shipped
            errors[f"lines[{line_id}]"] = f"{line.sku}: at most {left} not yet shipped can be cancelled."
    if not errors and not any(quantities.values()):
        errors["lines"] = "Say how many units of which lines to cancel."
    if errors:
        raise EditInvalid(errors)
    return OrderEdit(
        lines=[LineEdit(line_id=ln.pk, quantity=ln.quantity - quantities.get(ln.pk, 0)) for ln in lines],
        refund_to_store_credit=to_store_credit,
    )


def _edit(
    *,
    order_id: int,
    changes_for: Callable[[Order, list[OrderLine]], OrderEdit],
    actor,
    reason: str,
    notify: bool,
    preview: bool,
) -> EditResult:
    order = order_lock(order_id)
    if not can_proceed(order.edit):
        raise OrderNotEditable(order=order, detail=NOT_EDITABLE.get(order.status, "not in this state."))
    shipments = edit_shipments_lock(order=order)
    if shipments.busy:
        raise OrderNotEditable(order=order, detail=shipments.busy)
    lines = list(order.lines.select_related("product").order_by("pk"))
    products_before = {line.product_id for line in lines if line.product_id}
    changes = changes_for(order, lines)
    skus = edit_skus(changes)
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {}
    plan = edit_plan(order=order, lines=lines, changes=changes, products=products)
    if plan.errors:
        raise EditInvalid(plan.errors)
    before = order.status
    reason = (reason or "").strip()
    money = _money(order=order, plan=plan, changes=changes)
    result = EditResult(order=order, plan=plan, status_before=before, money=money, reason=reason)
    if not plan.changed:
        return result

    _apply(order=order, plan=plan, money=money)
    checked = before in CHECKED
    # Before any stock lock: the duplicate rule takes the customer's advisory lock, which capture
    # takes before its stock locks too (one order of locks for everyone).
    findings = _findings(order=order, plan=plan, money=money) if checked else []
    if checked:
        # One lock of every item the release and the new reservation touch, in pk order: taken
        # apart, the second would lock items below the first's and could deadlock with capture.
        products_after = {line.product_id for line in plan.lines if line.product_id}
        stock_lock_products(product_ids=products_before | products_after)
        stock_release(reference=order.stock_reference)
    _write_lines(plan)

    transition = ""
    if plan.nothing_left_to_ship:
        transition = "ship_after_edit"
        result.outcome.append("Nothing is left to ship: the order is complete with what has shipped.")
        if before == S.ON_HOLD:
            order.holds.filter(released_at__isnull=True).update(
                released_at=timezone.now(), released_by=actor if getattr(actor, "pk", None) else None
            )
    elif before == S.ON_HOLD:
        result.outcome.append("Still on hold: verification runs again when its holds are released.")
    elif findings:
        OrderHold.objects.bulk_create(
            OrderHold(order=order, reason=reason_, detail=detail[:500]) for reason_, detail in findings
        )
        transition = "hold_after_edit"
        result.outcome.append(
            "On hold, holding no stock: "
            + "; ".join(f"{OrderHold.Reason(r).label}: {d}" for r, d in findings)
        )
    else:
        reserved = allocation_reserve(order=order, lines=plan.lines)
        if reserved.reserved:
            transition = "allocate" if before in (S.VERIFIED, S.BACKORDERED) else ""
            result.outcome.append("Stock reserved again. " + reserved.message)
        else:
            transition = {S.VERIFIED: "backorder", S.BACKORDERED: ""}.get(before, "backorder_after_edit")
            result.outcome.append("Backordered: " + reserved.message)
    if shipments.rebuild:
        result.outcome.extend(edit_shipments_rebuild(order=order, actor=actor))
    if plan.deleted:
        # After the shipments let go of them (their lines point here).
        OrderLine.objects.filter(pk__in=[line.pk for line in plan.deleted]).delete()

    if money.refund:
        if changes.refunded_by:
            result.refund_text = f"{money.refund} {order.currency} paid back by {changes.refunded_by}."
        elif preview:
            result.refund_text = "It goes back " + (
                "as new store credit."
                if changes.refund_to_store_credit
                else "to the payment (or the store credit the order was paid with)."
            )
        else:
            result.refund_text = edit_refund(
                order=order,
                amount=money.refund,
                to_store_credit=changes.refund_to_store_credit,
                actor=actor,
                note=f"Order {order.number} changed" + (f": {reason}" if reason else "."),
            )
    result.notified = bool(notify and order.email)
    _record(order=order, result=result, transition=transition, actor=actor)
    if transition == "ship_after_edit" and shipments.delivered:
        order_transition(
            order=order,
            name="deliver",
            kind=Kind.DELIVERED,
            actor=actor,
            visible=True,
            at=timezone.now(),
            update_fields=("delivered_at",),
            message="Your order has been delivered.",
        )
    if result.notified and not preview:
        order_email_after_commit(order_id=order.pk, kind="changed", extra={"edit": result.for_customer()})
    return result


def _money(*, order: Order, plan: EditPlan, changes: OrderEdit) -> EditMoney:
    difference = plan.difference
    currency = order.currency
    if difference > 0:
        if changes.payment_collected:
            return EditMoney(currency, difference, text=f"{difference} {currency} more, paid with the edit.")
        if (order.payment_method or "").strip().lower() in DEFERRED_PAYMENT_METHODS:
            return EditMoney(
                currency,
                difference,
                text=f"{difference} {currency} more, to be paid with the rest ({order.payment_method}).",
            )
        return EditMoney(
            currency,
            difference,
            collect=difference,
            text=f"{difference} {currency} more to collect: the payment is pending until staff record it.",
        )
    if difference < 0:
        back = -difference
        if order.payment_status in REFUNDABLE:
            return EditMoney(currency, difference, refund=back, text=f"{back} {currency} to pay back.")
        text = f"{back} {currency} less to collect (nothing was paid yet)."
        return EditMoney(currency, difference, text=text)
    return EditMoney(currency)


def _apply(*, order: Order, plan: EditPlan, money: EditMoney) -> None:
    """The order's own fields and address as the plan has them (in memory: verification reads
    them before anything is written)."""
    if plan.speed is not None:
        order.shipping_speed = plan.speed[1]
    for name in TOTALS:
        setattr(order, name, plan.totals[name][1])
    if money.collect:
        order.payment_status = PaymentStatus.PENDING
    if plan.address is not None:
        if order.shipping_address is None:
            order.shipping_address = Address(**plan.address)
        else:
            for name in ADDRESS_FIELDS:
                setattr(order.shipping_address, name, plan.address[name])


def _findings(*, order: Order, plan: EditPlan, money: EditMoney) -> list[tuple[str, str]]:
    """Verification of the order as edited. Review reasons staff released stay reviewed, except
    that a change of the lines or the total asks again about limits and duplicates (the review
    was of other contents). The payment was judged at verification; only money the edit leaves
    to collect holds it now."""
    released = order.holds.filter(released_at__isnull=False, reason__in=REVIEW_REASONS)
    reviewed = set(released.values_list("reason", flat=True))
    if plan.lines_changed or plan.difference:
        reviewed -= {Reason.LIMIT, Reason.DUPLICATE}
    findings = [
        (f.reason, f.detail)
        for f in order_run_verification(order, lines=plan.lines, new=True)
        if f.reason not in reviewed and f.reason != Reason.PAYMENT
    ]
    if money.collect:
        findings.append(
            (
                Reason.PAYMENT,
                f"{money.collect} {order.currency} more to collect after an edit (total now {order.total} "
                f"{order.currency}): record the payment (“Correct the payment”), then release the hold.",
            )
        )
    return findings


def _write_lines(plan: EditPlan) -> None:
    if plan.updated:
        OrderLine.objects.bulk_update(plan.updated, ["product", "sku", "name", "quantity", "unit_price"])
    if plan.created:
        OrderLine.objects.bulk_create(plan.created)


def _record(*, order: Order, result: EditResult, transition: str, actor) -> None:
    """Save the order and write the edit's one event (the transition's, when its state changes)."""
    plan = result.plan
    if plan.address is not None:
        address = order.shipping_address
        if address.pk is None:
            address.save()
        else:
            address.save(update_fields=ADDRESS_FIELDS)
    fields = ("shipping_speed", "shipping_address", "payment_status", *TOTALS)
    message = _message(result)
    if transition:
        changes = {**result.as_json(), "status": [result.status_before, TARGETS[transition]]}
        extra = {}
        if transition == "ship_after_edit":
            extra, fields = {"at": timezone.now()}, (*fields, "shipped_at")
        elif transition == "allocate":
            extra, fields = {"at": timezone.now()}, (*fields, "allocated_at")
        result.event = order_transition(
            order=order,
            name=transition,
            kind=Kind.EDITED,
            actor=actor,
            message=message,
            update_fields=fields,
            changes=changes,
            **extra,
        )
    else:
        order.save(update_fields=[*fields, "updated_at"])
        result.event = order_event_record(
            order=order, kind=Kind.EDITED, actor=actor, message=message, changes=result.as_json()
        )


def _message(result: EditResult) -> str:
    plan, money, order = result.plan, result.money, result.order
    before, after = plan.totals["total"]
    lines = [f"Order changed: {result.reason}" if result.reason else "Order changed."]
    lines += [f"• {text}" for text in plan.texts()]
    total = f"Total {before} → {after} {order.currency}" if before != after else ""
    unchanged = f"Total unchanged ({after} {order.currency})."
    lines.append("; ".join(p for p in [total, money.text] if p) or unchanged)
    if result.refund_text:
        lines.append(result.refund_text)
    lines += result.outcome
    if not result.notified:
        lines.append("Customer not e-mailed" + (": staff chose not to notify." if order.email else "."))
    return "\n".join(lines)
