"""What a customer gets back: the share of what they actually paid for the returned units."""

from decimal import Decimal

from core.money import ZERO, quantize


def refund_amount_for(*, order, quantities: list[tuple[Decimal, int]]) -> Decimal:
    """Refund for units given as (unit_price, quantity): their merchandise value, less their
    share of the order's discount, plus their share of its tax. Shipping is not refunded."""
    merchandise = sum((unit_price * qty for unit_price, qty in quantities), ZERO)
    if order.subtotal <= 0 or merchandise <= 0:
        return ZERO
    share = merchandise / order.subtotal
    amount = merchandise - order.discount_total * share + order.tax_total * share
    return max(quantize(amount), ZERO)
