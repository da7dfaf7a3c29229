"""Money back for order edits: returns' side of orders.edit_hooks (registered in
ReturnsConfig.ready()).

An edit that takes units off a paid order pays their share back as refund rows with no return
request, as a return's refund does: back to the store credit the order was paid with (as far as
it spent it), the rest to the original payment, or, when staff choose it, as new store credit
(a code for the order's e-mail, which the customer's e-mail about the change names).

Lock order: the order row (held by the edit), then credit rows in primary-key order (returns.credit).
"""

from decimal import Decimal

from core.money import ZERO
from orders.models import Order

from .credit import store_credit_give_back_for_refund
from .models import Refund, StoreCredit
from .signals import refund_issued


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None


def _refund(*, order: Order, amount: Decimal, method: str, reference: str, note: str, actor) -> Refund:
    refund = Refund.objects.create(
        order=order,
        amount=amount,
        currency=order.currency,
        method=method,
        reference=reference,
        note=note[:500],
        actor=_actor(actor),
    )
    refund_issued.send(sender=Refund, refund=refund, order=order)
    return refund


def order_edit_refund(
    *, order: Order, amount: Decimal, to_store_credit: bool, actor=None, note: str = ""
) -> str:
    """Pay back `amount` for what an edit took off `order` (see the module's docstring). The
    caller holds the order lock. Returns the sentence for the timeline and the customer."""
    currency = order.currency
    parts = []
    given = store_credit_give_back_for_refund(order=order, amount=amount, actor=actor, note=note)
    for credit, back in given:
        _refund(
            order=order,
            amount=back,
            method=Refund.Method.STORE_CREDIT,
            reference=credit.code,
            note=note,
            actor=actor,
        )
        left = f"now {credit.balance} {currency}"
        parts.append(f"{back} {currency} back on store credit {credit.code} ({left})")
    rest = amount - sum((back for _, back in given), ZERO)
    if rest > 0 and to_store_credit:
        credit = StoreCredit.objects.create(
            email=order.email,
            order=order,
            currency=currency,
            initial_amount=rest,
            balance=rest,
            actor=_actor(actor),
        )
        _refund(
            order=order,
            amount=rest,
            method=Refund.Method.STORE_CREDIT,
            reference=credit.code,
            note=note,
            actor=actor,
        )
        parts.append(f"{rest} {currency} as store credit {credit.code}, to spend on a later order")
    elif rest > 0:
        _refund(
            order=order,
            amount=rest,
            method=Refund.Method.ORIGINAL_PAYMENT,
            reference=order.payment_reference,
            note=note,
            actor=actor,
        )
        parts.append(f"{rest} {currency} to the original payment")
    return f"Refund of {amount} {currency}: " + "; ".join(parts) + "."


class EditRefunder:
    """orders.edit_hooks.EditRefunder for refunds and store credit."""

    def refund(self, *, order, amount, to_store_credit, actor, note) -> str:
        return order_edit_refund(
            order=order, amount=amount, to_store_credit=to_store_credit, actor=actor, note=note
        )
