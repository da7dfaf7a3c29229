"""Matching order lines to products through the channel's SKU mappings."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

from inventory.models import Product
from orders.events import order_event_record, order_lock
from orders.models import Channel, Order, OrderEvent, OrderLine
from orders.services import order_release_hold

from .models import SkuMapping

# While a batch is mapped: what each (channel, key) resolved to (a product or None), so a
# thousand orders of the same thirty SKUs ask the database about each key once.
_batch_known: ContextVar[dict | None] = ContextVar("sku_batch_known", default=None)


@contextmanager
def sku_resolve_batch() -> Iterator[None]:
    """Within this block, sku_resolve looks each (channel, key) up once: the intake worker and
    the CSV import map a batch of orders inside one, in the batch's transaction (mappings and
    products read at its start hold for it)."""
    token = _batch_known.set({})
    try:
        yield
    finally:
        _batch_known.reset(token)


def sku_resolve_prefetch(*, channel: Channel, keys: Iterable[str]) -> None:
    """Inside sku_resolve_batch: look these keys up now, in one go (a batch's SKUs, before its
    orders are mapped one by one). Outside a batch it does nothing."""
    batch = _batch_known.get()
    if batch is None:
        return
    known = batch.setdefault(channel.pk, {})
    unknown = {k for k in keys if k} - known.keys()
    if unknown:
        _lookup(channel, unknown, known)


def sku_resolve(*, channel: Channel, keys_per_line: list[list[str]]) -> list[Product | None]:
    """For each line, the product named by the first of its keys that names one, or None.

    Each key is looked up in the channel's SKU mappings first, then among our products' SKUs:
    a mapping wins over a product whose SKU happens to equal the channel's key. Keys are tried
    in the order given (adapters pass the channel's SKU before the ids they derive keys from).
    Two queries per round of keys for the whole order (usually one round: the SKUs); inside
    sku_resolve_batch, none for keys already looked up.
    """
    batch = _batch_known.get()
    known = batch.setdefault(channel.pk, {}) if batch is not None else {}
    result: list[Product | None] = [None] * len(keys_per_line)
    waiting = [(i, [k for k in keys if k]) for i, keys in enumerate(keys_per_line)]
    # Round by round: every waiting line's next key at once, so a line's later keys (a shop's
    # variant and product ids) are looked up only when its earlier ones (its SKU) named nothing.
    while waiting:
        unknown = {keys[0] for _, keys in waiting if keys} - known.keys()
        if unknown:
            _lookup(channel, unknown, known)
        still = []
        for i, keys in waiting:
            if not keys:
                continue
            product = known.get(keys[0])
            if product is not None:
                result[i] = product
            else:
                still.append((i, keys[1:]))
        waiting = still
    return result


def _lookup(channel: Channel, keys: set[str], known: dict) -> None:
    """What each key names (a mapping before a product of that SKU), or None, into `known`."""
    by_sku = {p.sku: p for p in Product.objects.filter(sku__in=keys)}
    mapped = {
        m.external_key: m.product
        for m in SkuMapping.objects.filter(channel=channel, external_key__in=keys).select_related("product")
    }
    for key in keys:
        known[key] = mapped.get(key) or by_sku.get(key)


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
