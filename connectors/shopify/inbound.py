"""Shopify orders (Admin API order / orders/* webhook body) to captures."""

from intake.mapping import (
    MappingError,
    country,
    id_text,
    lines_resolved,
    money,
    quantity,
    speed_from_title,
    text,
    total_mismatch_holds,
    when,
)
from orders.inputs import AddressInput, OrderInput
from orders.models import Order, OrderHold

PLATFORM = "Shopify"
# A fulfilment in any other state has shipped, or is being shipped by Shopify or its fulfilment
# service: we must not ship its units again.
NOT_FULFILLING = {"cancelled", "error", "failure"}
PAYMENT_STATUS = {
    "pending": Order.PaymentStatus.PENDING,
    "authorized": Order.PaymentStatus.AUTHORIZED,
    "partially_paid": Order.PaymentStatus.PENDING,
    "paid": Order.PaymentStatus.PAID,
    "partially_refunded": Order.PaymentStatus.PARTIALLY_REFUNDED,
    "refunded": Order.PaymentStatus.REFUNDED,
    "voided": Order.PaymentStatus.VOIDED,
}


def shopify_numeric_id(value) -> str:
    """Shopify's id as digits, from a JSON integer or a GraphQL GID (`gid://shopify/LineItem/1`,
    possibly with a query string): the one form we keep, whichever the payload carried."""
    text_id = id_text(value)
    if text_id.startswith("gid://"):
        text_id = text_id.split("?", 1)[0].rsplit("/", 1)[-1]
    return text_id if text_id.isdigit() else ""


def shopify_unwrap(payload) -> list[dict]:
    """The orders in a body: a bare order (webhooks), {"order": …} or {"orders": […]} (API)."""
    if isinstance(payload, dict) and isinstance(payload.get("order"), dict):
        return [payload["order"]]
    if isinstance(payload, dict) and isinstance(payload.get("orders"), list):
        return [o for o in payload["orders"] if isinstance(o, dict)]
    if isinstance(payload, list):
        return [o for o in payload if isinstance(o, dict)]
    if isinstance(payload, dict) and "id" in payload:
        return [payload]
    raise MappingError("The body holds no Shopify order.")


def _address(data) -> AddressInput | None:
    if not isinstance(data, dict) or not (data.get("address1") or data.get("city")):
        return None
    name = text(data.get("name")) or " ".join(
        p for p in [text(data.get("first_name")), text(data.get("last_name"))] if p
    )
    return AddressInput(
        name=name,
        company=text(data.get("company")),
        line1=text(data.get("address1")),
        line2=text(data.get("address2")),
        city=text(data.get("city")),
        region=text(data.get("province_code")) or text(data.get("province")),
        postal_code=text(data.get("zip")),
        country=country(data.get("country_code")) or country(data.get("country")),
        phone=text(data.get("phone")),
    )


def _amount_set(order: dict, name: str):
    value = order.get(name)
    if isinstance(value, dict):
        return (value.get("shop_money") or {}).get("amount")
    return None


def _count(value) -> int:
    try:
        return max(int(str(value)), 0)
    except (TypeError, ValueError):
        return 0


def _fulfilment_text(fulfillment: dict) -> str:
    """How a fulfilment shipped, for the timeline: "fulfillment #255858046, tracking 1Z2345 (UPS)"."""
    numbers = [text(n) for n in fulfillment.get("tracking_numbers") or [] if text(n)]
    numbers = numbers or [n for n in [text(fulfillment.get("tracking_number"))] if n]
    how = f"fulfillment #{id_text(fulfillment.get('id'))}"
    how += f", tracking {', '.join(numbers)}" if numbers else ""
    company = text(fulfillment.get("tracking_company"))
    return how + (f" ({company})" if company and company != "null" else "")


def _fulfilled_on_shopify(order: dict, items: list[dict]) -> tuple[list[tuple[int, str]], str]:
    """Per line item: (units Shopify already fulfilled, how), and a hold's detail when Shopify
    says part of the order was fulfilled without saying which part ("" otherwise).

    A line's units come from the order's fulfilments that aren't cancelled or failed (their line
    items, with the fulfilment's number and tracking), or, where those say nothing about it, from
    the line's `fulfillment_status: "fulfilled"` or the order's (every unit)."""
    units: dict[str, int] = {}
    hows: dict[str, list[str]] = {}
    for fulfillment in order.get("fulfillments") or []:
        if not isinstance(fulfillment, dict) or text(fulfillment.get("status")).lower() in NOT_FULFILLING:
            continue
        for item in fulfillment.get("line_items") or []:
            if isinstance(item, dict):
                key = id_text(item.get("id"))
                units[key] = units.get(key, 0) + _count(item.get("quantity"))
                hows.setdefault(key, []).append(_fulfilment_text(fulfillment))
    order_fulfilled = text(order.get("fulfillment_status")).lower()
    result = []
    for item in items:
        key, qty = id_text(item.get("id")), _count(item.get("quantity"))
        if units.get(key):
            result.append((min(units[key], qty), "; ".join(hows[key])))
        elif "fulfilled" in (text(item.get("fulfillment_status")).lower(), order_fulfilled):
            result.append((qty, f"{PLATFORM} marks it fulfilled"))
        else:
            result.append((0, ""))
    if order_fulfilled == "partial" and not any(n for n, _ in result):
        return result, (
            f"{PLATFORM} says part of this order was fulfilled there, but not which items: check "
            "before shipping any of it."
        )
    return result, ""


def shopify_order_input(*, channel, order: dict) -> OrderInput:
    """Map one Shopify order. Raises MappingError when it can't form an order (no id, no lines)."""
    external_id = id_text(order.get("id"))
    if not external_id:
        raise MappingError("The Shopify order has no id.")
    items = order.get("line_items")
    if not isinstance(items, list) or not items:
        raise MappingError(f"Shopify order {external_id} has no line items: nothing to capture.")
    raw_lines, line_ids = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise MappingError(f"Line {i + 1} of Shopify order {external_id} is not an object.")
        keys = [
            text(item.get("sku")),
            f"shopify-{id_text(item.get('variant_id'))}" if id_text(item.get("variant_id")) else "",
            f"shopify-{id_text(item.get('product_id'))}" if id_text(item.get("product_id")) else "",
        ]
        if not any(keys):
            keys = [f"shopify-line-{id_text(item.get('id'))}"]
        line_ids.append(
            shopify_numeric_id(item.get("id")) or shopify_numeric_id(item.get("admin_graphql_api_id"))
        )
        raw_lines.append(
            (
                keys,
                quantity(item.get("quantity"), f"Line {i + 1} quantity"),
                money(item.get("price"), f"Line {i + 1} price"),
                text(item.get("name")) or text(item.get("title")),
            )
        )
    lines = lines_resolved(channel=channel, raw_lines=raw_lines, external_line_ids=line_ids)
    fulfilled, unexplained = _fulfilled_on_shopify(order, items)
    for line, (units, how) in zip(lines, fulfilled, strict=True):
        line.quantity_fulfilled_elsewhere = min(units, line.quantity)
        line.fulfilled_elsewhere_detail = how[:500]

    customer = order.get("customer") if isinstance(order.get("customer"), dict) else {}
    shipping = _address(order.get("shipping_address"))
    billing = _address(order.get("billing_address"))
    shipping_lines = [s for s in order.get("shipping_lines") or [] if isinstance(s, dict)]
    shipping_total = money(_amount_set(order, "total_shipping_price_set"), "Shipping") or sum(
        (money(s.get("price"), "Shipping line price") for s in shipping_lines), money(0, "")
    )
    tax = money(order.get("total_tax"), "Total tax")
    discount = money(order.get("total_discounts"), "Total discounts")
    currency = text(order.get("currency"), 3).upper() or "USD"
    holds = total_mismatch_holds(
        platform=PLATFORM,
        stated=order.get("total_price"),
        what="Total price",
        lines=lines,
        shipping=shipping_total,
        tax=tax,
        discount=discount,
        currency=currency,
    )
    if unexplained:
        holds.append((OrderHold.Reason.INCOMPLETE, unexplained))
    if shipping is None and billing is not None:
        shipping = billing
    gateways = order.get("payment_gateway_names") or []
    return OrderInput(
        external_id=external_id,
        email=text(order.get("email")) or text(order.get("contact_email")) or text(customer.get("email")),
        customer_name=(shipping.name if shipping else "")
        or " ".join(p for p in [text(customer.get("first_name")), text(customer.get("last_name"))] if p),
        phone=text(order.get("phone")) or (shipping.phone if shipping else "") or text(customer.get("phone")),
        shipping_address=shipping,
        billing_address=billing,
        shipping_speed=speed_from_title(" ".join(text(s.get("title")) for s in shipping_lines)),
        currency=currency,
        lines=lines,
        shipping_total=shipping_total,
        tax_total=tax,
        discount_total=discount,
        payment_method=text(order.get("gateway"))
        or (text(gateways[0]) if isinstance(gateways, list) and gateways else ""),
        payment_status=PAYMENT_STATUS.get(text(order.get("financial_status")), Order.PaymentStatus.PENDING),
        payment_reference=text(order.get("name"), 100),
        payment_amount=money(order.get("total_price"), "Total price") if order.get("total_price") else None,
        placed_at=when(order.get("created_at")) or when(order.get("processed_at")),
        notes=text(order.get("note")),
        extra_holds=holds,
        fulfilled_by=PLATFORM,
    )


def shopify_is_cancellation(*, topic: str, order: dict) -> bool:
    return topic == "orders/cancelled" or bool(order.get("cancelled_at"))
