"""Spending store credit and giving it back.

A credit is spent by an order whose payment method is `store_credit` with the code as its
reference: orders' capture (and hold release) calls `StoreCreditRedeemer.redeem` through the hook
declared in orders.payments, registered in ReturnsConfig.ready. Cancelling such an order gives the
credit back (`give_back`), and a refund of a return on it goes back to the credit
(`store_credit_give_back_for_refund`).

Every movement is a StoreCreditRedemption row written with the balance change, so a credit's
balance is always its initial amount less the sum of its redemptions. Lock order: the order row
(held by the caller), then credit rows in primary-key order, as everywhere else (no deadlocks).
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.money import ZERO, quantize
from orders.models import Order
from orders.payments import RedemptionResult

from .models import StoreCredit, StoreCreditRedemption

METHOD = "store_credit"


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None


def store_credit_net_by_credit(*, order: Order) -> dict[int, Decimal]:
    """What the order has spent, net of what it was given back, per credit id (positive only)."""
    rows = (
        StoreCreditRedemption.objects.filter(order=order)
        .values("credit_id")
        .annotate(net=Sum("amount"))
        .order_by("credit_id")
    )
    return {row["credit_id"]: quantize(row["net"]) for row in rows if row["net"] > 0}


def _refused(detail: str) -> RedemptionResult:
    return RedemptionResult(paid=False, detail=detail)


def store_credit_redeem(*, order: Order, amount: Decimal, actor=None) -> RedemptionResult:
    """Spend `amount` of the credit named by the order's payment reference on the order.

    The caller holds the order lock (capture or release transaction). Locks the credit row, then
    checks the code exists, belongs to the order's e-mail (any case), is in the order's currency
    and has the amount left; debits it with an F() expression (the CHECK constraint on the balance
    is the last line against an overdraft) and writes the redemption row. An order that has
    already spent credit is paid: nothing is collected twice. Refusals come back as a detail for
    the order's payment hold; nothing raises.
    """
    if amount <= 0:
        return _refused("Nothing to pay with store credit.")
    already = sum(store_credit_net_by_credit(order=order).values(), ZERO)
    if already > 0:
        return RedemptionResult(paid=True, amount=already)
    code = (order.payment_reference or "").strip().upper()
    if not code:
        return _refused("Paid with store credit but no code given: the code goes in the payment reference.")
    credit = StoreCredit.objects.select_for_update().filter(code=code).first()
    if credit is None:
        return _refused(f"Store credit code {code} does not exist.")
    if credit.email.strip().lower() != (order.email or "").strip().lower():
        return _refused(f"Store credit {code} belongs to another customer (issued to a different e-mail).")
    if credit.currency != order.currency:
        return _refused(f"Store credit {code} is in {credit.currency}; this order is in {order.currency}.")

    def short() -> RedemptionResult:
        return _refused(
            f"Store credit {code} has only {credit.balance} {credit.currency} left; "
            f"the order needs {amount} {order.currency}."
        )

    if credit.balance < amount:
        return short()
    try:
        with transaction.atomic():
            StoreCredit.objects.filter(pk=credit.pk).update(
                balance=F("balance") - amount, updated_at=timezone.now()
            )
    except IntegrityError:  # the balance CHECK: only if something wrote past the row lock
        credit.refresh_from_db(fields=["balance"])
        return short()
    StoreCreditRedemption.objects.create(credit=credit, order=order, amount=amount, actor=_actor(actor))
    credit.refresh_from_db(fields=["balance"])
    return RedemptionResult(
        paid=True,
        amount=amount,
        message=f"Paid {amount} {order.currency} with store credit {code}; "
        f"{credit.balance} {credit.currency} left on it.",
    )


def _give_back(
    *, order: Order, amount: Decimal | None, actor, note: str
) -> list[tuple[StoreCredit, Decimal]]:
    """Give back up to `amount` (None: everything) of what the order spent, credit by credit in
    primary-key order (the lock order). The caller holds the order lock. Never more than the order
    spent on a credit, so a balance never goes over its initial amount (also a CHECK)."""
    spent = store_credit_net_by_credit(order=order)
    if not spent:
        return []
    credits = StoreCredit.objects.select_for_update().filter(pk__in=spent).order_by("pk")
    left = amount
    given = []
    for credit in credits:
        back = spent[credit.pk] if left is None else min(spent[credit.pk], left)
        if back <= 0:
            break
        StoreCredit.objects.filter(pk=credit.pk).update(
            balance=F("balance") + back, updated_at=timezone.now()
        )
        StoreCreditRedemption.objects.create(
            credit=credit, order=order, amount=-back, note=note[:255], actor=_actor(actor)
        )
        credit.refresh_from_db(fields=["balance"])
        given.append((credit, back))
        if left is not None:
            left -= back
    return given


def store_credit_give_back_for_refund(
    *, order: Order, amount: Decimal, actor=None, note: str = ""
) -> list[tuple[StoreCredit, Decimal]]:
    """Refund up to `amount` of a store-credit-paid order back to its credit(s) instead of money.

    The caller holds the order lock. Returns (credit, amount given back) pairs; empty when the
    order spent no credit (or has had it all back)."""
    return _give_back(order=order, amount=amount, actor=actor, note=note)


class StoreCreditRedeemer:
    """The `store_credit` payment method, for orders' capture, release and cancellation."""

    def redeem(self, *, order, amount, actor) -> RedemptionResult:
        return store_credit_redeem(order=order, amount=amount, actor=actor)

    def give_back(self, *, order, actor) -> str:
        given = _give_back(order=order, amount=None, actor=actor, note="Order cancelled.")
        return " ".join(
            f"{back} {credit.currency} given back to store credit {credit.code} "
            f"(now {credit.balance} {credit.currency})."
            for credit, back in given
        )
