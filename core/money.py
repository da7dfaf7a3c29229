"""Money helpers: Decimal only, one rounding rule (ROUND_HALF_UP to the cent)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_decimal(value) -> Decimal:
    """Parse a money amount from a string, int, Decimal or JSON number without float arithmetic."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = str(value)  # a JSON number: use its shortest repr, never binary arithmetic
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{value!r} is not a valid amount") from exc
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a valid amount")
    return result


def quantize(value) -> Decimal:
    """Round an amount to the cent, half up."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
