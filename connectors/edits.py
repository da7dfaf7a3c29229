"""Order updates from shop platforms (Shopify `orders/updated`, WooCommerce `order.updated`),
applied to the order captured from them through orders' edit service, as customer service's edits.

A platform sends an update for every change of an order: a tag, a payment, the fulfilment we
reported. So an update is compared with what the platform said the last time (the last delivery
kept for that order in the inbound log), and only what the platform changed since is applied:
lines (by SKU, with the platform's totals), the shipping address, the speed, shipping, tax and
discount. Most updates change nothing and are acknowledged as such; a change made here by staff
is not undone by the next unrelated update.

While the order can still change, the edit runs (stock, checks, unpicked shipments and money
follow; the platform charged or paid back the difference itself, so no refund is recorded twice).
When it can't (a shipment is being picked or packed, or everything has shipped) or the change
can't be made (a SKU we don't know), the delivery is kept as failed for a person, with the
difference spelled out on it and on the order's timeline; "Re-process" tries it again.
"""

import json

from core.exceptions import DomainError
from core.money import quantize
from intake.inbound import Outcome
from intake.models import InboundRequest
from orders.edits import LineEdit, OrderEdit, edit_difference
from orders.exceptions import EditInvalid, OrderNotEditable
from orders.inputs import OrderInput
from orders.models import Order
from orders.services import order_edit, order_note_add

# Deliveries whose platform state is the order's last known one: captured, applied or unchanged.
KNOWN = [Outcome.CAPTURED, Outcome.HELD, Outcome.DUPLICATE, Outcome.EDITED, Outcome.IGNORED]
PAID = {Order.PaymentStatus.AUTHORIZED, Order.PaymentStatus.PAID}


class UpdateNotApplied(DomainError):
    """The platform changed an order in a way that can't be applied here now."""


def webhook_order_update(*, platform, channel, raw: dict, inbound: InboundRequest, actor=None):
    """Apply one platform order (as it stands after a change) to the order captured from it.

    Returns (order, outcome), or None when this order was never captured (the caller captures
    it). Raises UpdateNotApplied, with the difference, when the change can't be applied now.
    """
    external_id = str(raw.get("id", "")).strip()
    order = Order.objects.filter(channel=channel, external_id=external_id).first()
    if order is None:
        return None
    if order.status == Order.Status.CANCELLED:
        return order, Outcome.IGNORED
    current = platform.order_input(channel=channel, order=platform.current(raw))
    previous = _previous_input(platform=platform, channel=channel, order=order, inbound=inbound)
    changes = update_changes(current=current, previous=previous, platform_name=platform.name)
    if changes is None:
        return order, Outcome.IGNORED
    try:
        result = order_edit(
            order_id=order.pk, changes=changes, actor=actor, reason=f"Changed in {platform.name}"
        )
    except (OrderNotEditable, EditInvalid) as exc:
        plan = edit_difference(order=order, changes=changes)
        if isinstance(exc, OrderNotEditable) and not plan.changed:
            return order, Outcome.IGNORED  # nothing differs from what we have
        detail = (
            f"{platform.name} changed order {order.number}, but the change can't be made here: {exc} "
            f"What {platform.name} changed: " + " ".join(plan.texts() or ["its totals."])
        )
        order_note_add(
            order_id=order.pk, message=detail + " Apply it by hand, or agree another with the customer."
        )
        raise UpdateNotApplied(detail) from None
    return result.order, Outcome.EDITED if result.changed else Outcome.IGNORED


def update_changes(
    *, current: OrderInput, previous: OrderInput | None, platform_name: str
) -> OrderEdit | None:
    """The edit that brings what the platform changed since `previous` (everything, without it);
    None when it changed nothing we keep."""

    def differs(name: str) -> bool:
        return previous is None or getattr(current, name) != getattr(previous, name)

    def line_set(data: OrderInput):
        return sorted((ln.sku, ln.quantity, quantize(ln.unit_price)) for ln in data.lines)

    lines_changed = previous is None or line_set(current) != line_set(previous)
    totals = {
        name: quantize(getattr(current, name)) if lines_changed or differs(name) else None
        for name in ["shipping_total", "tax_total", "discount_total"]
    }
    changes = OrderEdit(
        lines=[LineEdit(sku=ln.sku, quantity=ln.quantity, unit_price=ln.unit_price) for ln in current.lines]
        if lines_changed
        else None,
        match_lines_by_sku=True,
        shipping_address=current.shipping_address if differs("shipping_address") else None,
        shipping_speed=current.shipping_speed if differs("shipping_speed") else None,
        **totals,
        payment_collected=current.payment_status in PAID,
        refunded_by=platform_name,
    )
    unchanged = (
        changes.lines is None
        and changes.shipping_address is None
        and changes.shipping_speed is None
        and all(value is None for value in totals.values())
    )
    return None if unchanged else changes


def _previous_input(*, platform, channel, order: Order, inbound: InboundRequest) -> OrderInput | None:
    """What the platform said about this order the last time (its last delivery we captured,
    applied or found unchanged), mapped as now; None when there is none we can read."""
    earlier = (
        InboundRequest.objects.filter(source=platform.source, channel=channel, order=order, outcome__in=KNOWN)
        .exclude(pk=inbound.pk)
        .order_by("-pk")
        .only("body")
    )
    for row in earlier[:3]:
        try:
            for raw in platform.unwrap(json.loads(row.body)):
                if str(raw.get("id", "")).strip() == order.external_id:
                    return platform.order_input(channel=channel, order=platform.current(raw))
        except (ValueError, RecursionError, DomainError):
            continue
    return None
