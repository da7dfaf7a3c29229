"""What a customer gets back: the share of what they actually paid for the returned units, less
the return-shipping deduction and the restocking fee where the rules say so.

Rules (settings.OMS, each overridable from the environment):
- RETURN_SHIPPING_FEE: deducted once per return, unless the reason is our fault
  (FREE_RETURN_REASONS: damaged, wrong item, not as described).
- RESTOCKING_FEE_PERCENT of the units' net price, for the reasons in RESTOCKING_FEE_REASONS
  (by default only "no longer needed"); waived when the customer takes store credit.
The deductions never take the amount below zero. Order shipping is not refunded.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from core.money import ZERO, quantize, to_decimal

DEFAULT_FREE_RETURN_REASONS = ("damaged", "wrong_item", "not_as_described")
DEFAULT_RESTOCKING_FEE_REASONS = ("changed_mind",)


@dataclass(frozen=True)
class RefundQuote:
    merchandise: Decimal
    discount: Decimal
    tax: Decimal
    return_shipping_fee: Decimal
    restocking_fee: Decimal
    amount: Decimal

    @property
    def paid(self) -> Decimal:
        """What the customer paid for these units: merchandise less discount plus tax."""
        return self.merchandise - self.discount + self.tax

    def describe(self, currency: str) -> str:
        parts = [f"items {self.merchandise}"]
        if self.discount:
            parts.append(f"discount −{self.discount}")
        if self.tax:
            parts.append(f"tax +{self.tax}")
        if self.return_shipping_fee:
            parts.append(f"return shipping −{self.return_shipping_fee}")
        if self.restocking_fee:
            parts.append(f"restocking fee −{self.restocking_fee}")
        return f"{self.amount} {currency} (" + ", ".join(parts) + ")"


def _rules() -> dict:
    oms = settings.OMS
    return {
        "shipping_fee": quantize(oms.get("RETURN_SHIPPING_FEE", "0")),
        "restocking_percent": to_decimal(oms.get("RESTOCKING_FEE_PERCENT", "0")),
        "free_reasons": set(oms.get("FREE_RETURN_REASONS", DEFAULT_FREE_RETURN_REASONS)),
        "restocking_reasons": set(oms.get("RESTOCKING_FEE_REASONS", DEFAULT_RESTOCKING_FEE_REASONS)),
    }


def refund_quote_for(
    *,
    order,
    quantities: list[tuple[Decimal, int]],
    reason: str = "",
    store_credit: bool = False,
) -> RefundQuote:
    """The refund for units given as (unit_price, quantity) of `order`, returned for `reason`.

    The units' share of the order discount and tax is in proportion to their merchandise value.
    """
    merchandise = sum((unit_price * qty for unit_price, qty in quantities), ZERO)
    if order.subtotal <= 0 or merchandise <= 0:
        return RefundQuote(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)
    share = merchandise / order.subtotal
    discount = quantize(order.discount_total * share)
    tax = quantize(order.tax_total * share)
    paid = max(merchandise - discount + tax, ZERO)
    rules = _rules()
    shipping_fee = ZERO if reason in rules["free_reasons"] else rules["shipping_fee"]
    restocking = ZERO
    if reason in rules["restocking_reasons"] and not store_credit:
        restocking = quantize(max(merchandise - discount, ZERO) * rules["restocking_percent"] / 100)
    # Deductions are capped by what was paid, so the quote adds up and never goes negative.
    shipping_fee = min(shipping_fee, paid)
    restocking = min(restocking, paid - shipping_fee)
    return RefundQuote(
        merchandise=quantize(merchandise),
        discount=discount,
        tax=tax,
        return_shipping_fee=shipping_fee,
        restocking_fee=restocking,
        amount=quantize(paid - shipping_fee - restocking),
    )
