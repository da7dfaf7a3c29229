"""Helpers the channel adapters share: text, ids, money and dates as platforms send them."""

import datetime as dt
import html
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.exceptions import DomainError
from core.money import ZERO, quantize, to_decimal
from orders.inputs import LineInput
from orders.models import Order, OrderHold

from .countries import country_code
from .rematch import sku_resolve


class MappingError(DomainError):
    """The platform's payload can't be turned into an order."""


def text(value, limit: int | None = None) -> str:
    """A platform string as we store it: None → "", HTML entities decoded, NUL removed."""
    if value is None or isinstance(value, dict | list):
        return ""
    result = html.unescape(str(value)).replace("\x00", "").strip()
    return result[:limit] if limit else result


def id_text(value) -> str:
    """A platform id as text. JSON integers arrive as exact Python ints (64-bit ids stay exact)."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value).strip()


def money(value, what: str) -> Decimal:
    """An amount sent as a decimal string or a JSON number, rounded half up to the cent."""
    if value in (None, ""):
        return ZERO
    try:
        return quantize(to_decimal(value))
    except (ValueError, ArithmeticError):
        raise MappingError(f"{what} “{value}” is not an amount.") from None


def quantity(value, what: str) -> int:
    if isinstance(value, bool):
        raise MappingError(f"{what} “{value}” is not a quantity.")
    try:
        result = int(to_decimal(value))
    except (ValueError, ArithmeticError):
        raise MappingError(f"{what} “{value}” is not a quantity.") from None
    if result != to_decimal(value):
        raise MappingError(f"{what} “{value}” is not a whole number.")
    return result


def when(value) -> dt.datetime | None:
    """A platform timestamp; one without a zone is taken as UTC (WooCommerce's *_gmt fields)."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def country(value) -> str:
    """ISO code from a code or a name; "" when it names no country (verification then holds it)."""
    return country_code(text(value)) or ""


def speed_from_title(title: str) -> str:
    title = title.lower()
    if any(w in title for w in ("overnight", "next day", "next-day")):
        return Order.ShippingSpeed.OVERNIGHT
    if any(w in title for w in ("express", "priority", "expedited")):
        return Order.ShippingSpeed.EXPRESS
    return Order.ShippingSpeed.STANDARD


def lines_resolved(
    *,
    channel,
    raw_lines: list[tuple[list[str], int, Decimal, str]],
    external_line_ids: list[str] | None = None,
) -> list[LineInput]:
    """LineInputs whose SKU is our product's when a key (channel SKU, then mapped ids) matches;
    otherwise the first key, so the hold names what staff must map. `external_line_ids` (one per
    raw line) are the platform's own line ids, kept on the order lines."""
    products = sku_resolve(channel=channel, keys_per_line=[keys for keys, *_ in raw_lines])
    line_ids = external_line_ids or [""] * len(raw_lines)
    lines = []
    for (keys, qty, price, name), product, line_id in zip(raw_lines, products, line_ids, strict=True):
        sku = product.sku if product else next((k for k in keys if k), "")
        lines.append(
            LineInput(
                sku=sku[:64], quantity=qty, unit_price=price, name=name[:255], external_line_id=line_id[:100]
            )
        )
    return lines


def total_mismatch_holds(
    *, platform: str, stated, what: str, lines, shipping, tax, discount, currency
) -> list[tuple[str, str]]:
    """A payment hold when the platform states a total (`stated`, raw) that differs from what
    its own lines, shipping, tax and discounts add up to; no hold when it states none."""
    if stated in (None, ""):
        return []
    stated = money(stated, what)
    computed = sum((ln.unit_price * ln.quantity for ln in lines), ZERO) + shipping + tax - discount
    computed = max(computed, ZERO)
    if stated == computed:
        return []
    return [
        (
            OrderHold.Reason.PAYMENT,
            f"{platform} says the total is {stated} {currency}, but its lines, shipping, tax and "
            f"discounts add up to {computed} {currency}: check the order in {platform} before shipping.",
        )
    ]
