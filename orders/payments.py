"""Payment methods the shop collects itself (store credit), as a hook declared here, upstream.

Most payments are facts a channel reports (a card authorised at the shop). A few are collected
by this system at capture: the order names the method and a reference (a store-credit code), and
the app that keeps those balances (returns) redeems the amount in the capture transaction.
Orders must not import that app, so it registers a `PaymentRedeemer` for its method in its
`AppConfig.ready`; capture, hold release and cancellation call the registered redeemers, through
`order_payment_collect` and `order_payments_give_back` below.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from core.money import ZERO

from .events import OrderWrites, order_event_record, order_fields_save
from .models import Order, OrderEvent, OrderHold

Kind = OrderEvent.Kind


@dataclass(frozen=True)
class RedemptionResult:
    """What a redeemer did for an order: `paid` (how much the order has redeemed in all, and
    `message`, a sentence for the timeline when it collected just now), or why not (`detail`, for
    staff and the channel, written on the payment hold)."""

    paid: bool
    amount: Decimal = ZERO
    message: str = ""
    detail: str = ""


class PaymentRedeemer(Protocol):
    def redeem(self, *, order, amount: Decimal, actor) -> RedemptionResult:
        """Collect `amount` for `order` from what `order.payment_reference` names.

        Called inside the capture (or release) transaction with the order row locked; may lock its
        own rows after it. Redeeming an order that was already redeemed must not collect twice.
        """
        ...

    def give_back(self, *, order, actor) -> str:
        """Give back everything collected for `order` (it is being cancelled), in the caller's
        transaction with the order row locked; return a sentence for the order's timeline, or ""
        when nothing had been collected."""
        ...


_redeemers: dict[str, PaymentRedeemer] = {}


def payment_redeemer_register(*, method: str, redeemer: PaymentRedeemer) -> None:
    """Let a downstream app collect payments of `method` (called from its AppConfig.ready)."""
    _redeemers[method.strip().lower()] = redeemer


def payment_redeemer_for(method: str) -> PaymentRedeemer | None:
    return _redeemers.get((method or "").strip().lower())


def payment_redeemers() -> list[PaymentRedeemer]:
    return list(_redeemers.values())


def order_payment_collect(*, order: Order, actor, writes: OrderWrites | None = None) -> list[tuple[str, str]]:
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
        order_fields_save(order, "payment_status", "payment_amount", writes=writes)
        if result.message:
            order_event_record(
                order=order, kind=Kind.NOTE, actor=actor, visible=True, message=result.message, writes=writes
            )
        return []
    # Nothing was collected, whatever the channel said about the payment.
    if order.payment_status != Order.PaymentStatus.PENDING:
        order.payment_status = Order.PaymentStatus.PENDING
        order_fields_save(order, "payment_status", writes=writes)
    return [(OrderHold.Reason.PAYMENT, detail)]


def order_payments_give_back(*, order: Order, actor) -> bool:
    """Give back whatever this system collected for the order (store credit), each with a
    customer-visible event. The caller holds the order lock. True when something was given back."""
    given = False
    for redeemer in payment_redeemers():
        message = redeemer.give_back(order=order, actor=actor)
        if message:
            given = True
            order_event_record(order=order, kind=Kind.REFUND, actor=actor, visible=True, message=message)
    return given
