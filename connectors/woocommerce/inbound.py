"""WooCommerce orders (wc/v3 `order.*` webhook body, and the legacy v3 shape older stores
still send) to captures."""

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
from orders.models import Order

PLATFORM = "WooCommerce"
# Order statuses that mean the customer paid (bank transfers and cheques are paid before shipping).
PAID_STATUSES = {"processing", "completed"}
NOT_AN_ORDER_ANY_MORE = {"cancelled", "refunded", "failed", "trash"}
STATUS_TO_PAYMENT = {
    "pending": Order.PaymentStatus.PENDING,
    "on-hold": Order.PaymentStatus.PENDING,
    "failed": Order.PaymentStatus.FAILED,
    "refunded": Order.PaymentStatus.REFUNDED,
    "cancelled": Order.PaymentStatus.VOIDED,
}


def woocommerce_unwrap(payload) -> list[dict]:
    """The orders in a body: a bare wc/v3 order (webhooks), {"order": …} (legacy v3) or a list."""
    if isinstance(payload, dict) and isinstance(payload.get("order"), dict):
        return [payload["order"]]
    if isinstance(payload, list):
        return [o for o in payload if isinstance(o, dict)]
    if isinstance(payload, dict) and "id" in payload:
        if not any(k in payload for k in ("billing", "shipping", "billing_address", "line_items")):
            raise MappingError("The body is not a WooCommerce order (no billing, shipping or lines).")
        if "refunded_by" in payload or "refunded_payment" in payload:
            raise MappingError("The body is a WooCommerce refund, not an order.")
        return [payload]
    raise MappingError("The body holds no WooCommerce order.")


def _address(data) -> AddressInput | None:
    if not isinstance(data, dict) or not (text(data.get("address_1")) or text(data.get("city"))):
        return None
    return AddressInput(
        name=" ".join(p for p in [text(data.get("first_name")), text(data.get("last_name"))] if p),
        company=text(data.get("company")),
        line1=text(data.get("address_1")),
        line2=text(data.get("address_2")),
        city=text(data.get("city")),
        region=text(data.get("state")),
        postal_code=text(data.get("postcode")),
        country=country(data.get("country")),
        phone=text(data.get("phone")),
    )


def woocommerce_order_input(*, channel, order: dict) -> OrderInput:
    """Map one WooCommerce order (either shape). Raises MappingError when it can't form an order."""
    external_id = id_text(order.get("id"))
    if not external_id:
        raise MappingError("The WooCommerce order has no id.")
    legacy = "billing_address" in order or "payment_details" in order
    billing_raw = order.get("billing_address" if legacy else "billing")
    shipping_raw = order.get("shipping_address" if legacy else "shipping")
    items = order.get("line_items")
    if not isinstance(items, list) or not items:
        raise MappingError(f"WooCommerce order {external_id} has no line items: nothing to capture.")
    raw_lines, line_ids = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise MappingError(f"Line {i + 1} of WooCommerce order {external_id} is not an object.")
        variation = id_text(item.get("variation_id"))
        product = id_text(item.get("product_id"))
        keys = [
            text(item.get("sku")),
            f"woo-{variation}" if variation not in ("", "0") else "",
            f"woo-{product}" if product not in ("", "0") else "",
        ]
        if not any(keys):
            keys = [f"woo-line-{id_text(item.get('id'))}"]
        qty = quantity(item.get("quantity"), f"Line {i + 1} quantity")
        price = item.get("price")
        if price in (None, "") and qty:
            price = money(item.get("subtotal"), f"Line {i + 1} subtotal") / qty
        raw_lines.append((keys, qty, money(price, f"Line {i + 1} price"), text(item.get("name"))))
        line_ids.append(id_text(item.get("id")))
    lines = lines_resolved(channel=channel, raw_lines=raw_lines, external_line_ids=line_ids)

    billing = _address(billing_raw)
    shipping = _address(shipping_raw) or billing  # no shipping address: ship to the billing one
    billing_raw = billing_raw if isinstance(billing_raw, dict) else {}
    customer = order.get("customer") if isinstance(order.get("customer"), dict) else {}
    status = text(order.get("status")).lower()
    if legacy:
        details = order.get("payment_details") if isinstance(order.get("payment_details"), dict) else {}
        method = text(details.get("method_id"))
        paid = details.get("paid") is True
        shipping_total = money(order.get("total_shipping"), "Total shipping")
        discount = money(order.get("total_discount"), "Total discount")
        placed = when(order.get("created_at"))
    else:
        method = text(order.get("payment_method"))
        paid = bool(order.get("date_paid_gmt") or order.get("date_paid"))
        shipping_total = money(order.get("shipping_total"), "Shipping total")
        discount = money(order.get("discount_total"), "Discount total")
        placed = when(order.get("date_created_gmt")) or when(order.get("date_created"))
    if paid or status in PAID_STATUSES:
        payment_status = Order.PaymentStatus.PAID
    else:
        payment_status = STATUS_TO_PAYMENT.get(status, Order.PaymentStatus.PENDING)
    tax = money(order.get("total_tax"), "Total tax")
    currency = text(order.get("currency"), 3).upper() or "USD"
    holds = total_mismatch_holds(
        platform=PLATFORM,
        stated=order.get("total"),
        what="Total",
        lines=lines,
        shipping=shipping_total,
        tax=tax,
        discount=discount,
        currency=currency,
    )
    shipping_lines = [s for s in order.get("shipping_lines") or [] if isinstance(s, dict)]
    if status == "completed":
        # The shop completed (shipped) the order itself before it reached us: nothing to ship.
        for line in lines:
            line.quantity_fulfilled_elsewhere = line.quantity
            line.fulfilled_elsewhere_detail = "the order is completed there"
    return OrderInput(
        external_id=external_id,
        email=text(billing_raw.get("email")) or text(customer.get("email")),
        customer_name=(shipping.name if shipping else "") or (billing.name if billing else ""),
        phone=text(billing_raw.get("phone")),
        shipping_address=shipping,
        billing_address=billing,
        shipping_speed=speed_from_title(" ".join(text(s.get("method_title")) for s in shipping_lines)),
        currency=currency,
        lines=lines,
        shipping_total=shipping_total,
        tax_total=tax,
        discount_total=discount,
        payment_method=method,
        payment_status=payment_status,
        payment_reference=text(order.get("transaction_id"), 100),
        payment_amount=money(order.get("total"), "Total") if order.get("total") not in (None, "") else None,
        placed_at=placed,
        notes=text(order.get("customer_note")) or text(order.get("note")),
        extra_holds=holds,
        fulfilled_by=PLATFORM,
    )


def woocommerce_is_cancellation(*, topic: str, order: dict) -> bool:
    return topic == "order.deleted" or text(order.get("status")).lower() in NOT_AN_ORDER_ANY_MORE
