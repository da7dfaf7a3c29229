"""Payment methods the shop collects itself (store credit), as a hook declared here, upstream.

Most payments are facts a channel reports (a card authorised at the shop). A few are collected
by this system at capture: the order names the method and a reference (a store-credit code), and
the app that keeps those balances (returns) redeems the amount in the capture transaction.
Orders must not import that app, so it registers a `PaymentRedeemer` for its method in its
`AppConfig.ready`; capture, hold release and cancellation call the registered redeemers.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from core.money import ZERO


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
