"""Matching order lines to products through the channel's SKU mappings."""

from django.db import transaction

from inventory.models import Product
from orders.events import order_event_record, order_lock
from orders.models import Channel, Order, OrderEvent, OrderLine
from orders.services import order_release_hold

from .models import SkuMapping


def sku_resolve(*, channel: Channel, keys_per_line: list[list[str]]) -> list[Product | None]:
    """For each line, the product named by the first of its keys that names one, or None.

    Each key is looked up in the channel's SKU mappings first, then among our products' SKUs:
    a mapping wins over a product whose SKU happens to equal the channel's key. Keys are tried
    in the order given (adapters pass the channel's SKU before the ids they derive keys from).
    Two queries for the whole order.
    """
    wanted = {k for keys in keys_per_line for k in keys if k}
    by_sku = {p.sku: p for p in Product.objects.filter(sku__in=wanted)}
    mapped = {
        m.external_key: m.product
        for m in SkuMapping.objects.filter(channel=channel, external_key__in=wanted).select_related("product")
    }
    result = []
    for keys in keys_per_line:
        product = None
        for key in keys:
            if not key:
                continue
            product = mapped.get(key) or by_sku.get(key)
            if product is not None:
                break
        result.append(product)
    return result


@transaction.atomic
def order_rematch_and_recheck(*, order_id: int, actor=None) -> Order:
    """Match an order's unmatched lines to products again (after staff added a SKU mapping or the
    product), then, if the order is on hold, release its holds so verification runs again.

    Locks the order. Raises OrderTransitionError (from the release) for orders not on hold whose
    lines changed nothing. Releasing counts review holds as reviewed, as the release button does.
    """
    order = order_lock(order_id)
    lines = [line for line in order.lines.select_related("product") if line.product is None]
    products = sku_resolve(channel=order.channel, keys_per_line=[[line.sku] for line in lines])
    changed = []
    for line, product in zip(lines, products, strict=True):
        if product is not None:
            changed.append(f"{line.sku} → {product.sku}")
            line.product = product
            line.sku = product.sku
            line.name = line.name or product.name
    if changed:
        OrderLine.objects.bulk_update(
            [ln for ln in lines if ln.product is not None], ["product", "sku", "name"]
        )
        order_event_record(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            actor=actor,
            message="Lines matched: " + ", ".join(changed),
        )
    if order.status == Order.Status.ON_HOLD:
        return order_release_hold(order_id=order.pk, actor=actor)
    return order
