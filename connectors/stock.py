"""Stock levels for the channels: what each may sell, queued after every change, reconciled.

Available to sell on a channel = on hand − reserved over the warehouses that serve it, minus the
channel's safety buffer, never below zero; an inactive product has none. A Shopify shop is told
per location (the warehouses mapped to it); the buffer is held back once per SKU, from the
location whose warehouses ship last. A WooCommerce store is told one figure per SKU.

`stock_levels_queue` runs in the writer's transaction on every `stock_levels_changed`, the
capture path included, so it costs a fixed handful of queries: the plans come from the cache,
the levels in one query, the levels last queued in one, and each level that moved is one
coalesced delivery per (channel, SKU) plus one upsert for all of them. A level equal to the one
last queued queues nothing. The handler computes the level again when it sends (a change that
committed meanwhile is then included) and records what the channel took.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.outbox.services import delivery_enqueue
from inventory.models import Product

from .channels import ChannelPlan, channel_plan, channel_plans
from .models import StockListing


def _level(plan: ChannelPlan, available: dict[int, int], active: bool) -> dict:
    """The level one channel is told for one product: {"available": n} plus, for a shop with
    stock locations, {"locations": {location: n}}."""
    per_group = [
        (group, sum(available.get(w, 0) for w in group.warehouse_ids) if active else 0)
        for group in plan.groups
    ]
    held_back = plan.safety_buffer
    shown = {}
    for group, units in sorted(per_group, key=lambda gq: -gq[0].ships_last):
        take = min(units, held_back)
        held_back -= take
        shown[group.location] = max(units - take, 0)
    total = sum(shown.values())
    if list(shown) == [""]:
        return {"available": total}
    return {"available": total, "locations": dict(sorted(shown.items()))}


@dataclass
class Levels:
    skus: dict[int, str] = field(default_factory=dict)
    by_channel: dict[tuple[int, int], dict] = field(default_factory=dict)


def stock_levels_compute(*, plans: list[ChannelPlan], product_ids) -> Levels:
    """Each plan's level for each product, in one query (products without stock get 0)."""
    rows = (
        Product.objects.filter(pk__in=list(product_ids))
        .values("pk", "sku", "is_active", "stock_items__warehouse_id")
        .annotate(units=Sum(F("stock_items__on_hand") - F("stock_items__reserved")))
        .order_by()
    )
    available: dict[int, dict[int, int]] = defaultdict(dict)
    levels = Levels()
    active = {}
    for row in rows:
        levels.skus[row["pk"]] = row["sku"]
        active[row["pk"]] = row["is_active"]
        if row["stock_items__warehouse_id"] is not None:
            available[row["pk"]][row["stock_items__warehouse_id"]] = row["units"] or 0
    for plan in plans:
        for product_id in levels.skus:
            levels.by_channel[(plan.channel_id, product_id)] = _level(
                plan, available[product_id], active[product_id]
            )
    return levels


def stock_levels_queue(*, product_ids, channel_ids=None, force: bool = False) -> int:
    """Queue a push of each connected channel's level for these products where it moved (all of
    them with `force`: reconciliation's fix). Runs in the caller's transaction; returns how many
    deliveries were queued or updated."""
    plans = [
        plan
        for plan in channel_plans().values()
        if plan.takes_stock and (channel_ids is None or plan.channel_id in channel_ids)
    ]
    product_ids = list(product_ids)
    if not plans or not product_ids:
        return 0
    levels = stock_levels_compute(plans=plans, product_ids=product_ids)
    queued = {}
    if not force:
        queued = {
            (channel_id, product_id): level
            for channel_id, product_id, level in StockListing.objects.filter(
                channel_id__in=[p.channel_id for p in plans], product_id__in=product_ids
            ).values_list("channel_id", "product_id", "level_queued")
        }
    moved = []
    for plan in plans:
        for product_id, sku in levels.skus.items():
            level = levels.by_channel[(plan.channel_id, product_id)]
            if not force and queued.get((plan.channel_id, product_id)) == level:
                continue
            delivery_enqueue(
                target=plan.target,
                topic=f"{plan.kind}.stock",
                payload={"product_id": product_id, "sku": sku, "level": level},
                reference=sku,
                coalesce_key=f"stock:{plan.channel_id}:{product_id}",
            )
            moved.append(StockListing(channel_id=plan.channel_id, product_id=product_id, level_queued=level))
    if moved:
        StockListing.objects.bulk_create(
            moved, update_conflicts=True, unique_fields=["channel", "product"], update_fields=["level_queued"]
        )
    return len(moved)


def stock_levels_changed_receiver(sender, product_ids, **kwargs) -> None:
    """inventory.signals.stock_levels_changed → queue the channels' new levels."""
    stock_levels_queue(product_ids=product_ids)


def stock_level_now(*, channel_id: int, product_id: int) -> tuple[str, dict] | None:
    """The product's SKU and the level the channel should show right now (the handler sends
    this, not the level queued). None when the channel takes no stock any more."""
    plan = channel_plan(channel_id)
    if plan is None or not plan.groups:
        return None
    levels = stock_levels_compute(plans=[plan], product_ids=[product_id])
    if product_id not in levels.skus:
        return None
    return levels.skus[product_id], levels.by_channel[(channel_id, product_id)]


def stock_listing_pushed(*, channel_id: int, product_id: int, level: dict, **remote) -> None:
    """Record the level the channel took (and the ids it knows the SKU by). It is also the
    level a later change is compared with, so a change back to it is sent again."""
    StockListing.objects.update_or_create(
        channel_id=channel_id,
        product_id=product_id,
        defaults={"level_pushed": level, "level_queued": level, "pushed_at": timezone.now(), **remote},
    )


def stock_listing_remote(*, channel_id: int, product_id: int) -> StockListing | None:
    return StockListing.objects.filter(channel_id=channel_id, product_id=product_id).first()


def stock_listing_remember(*, channel_id: int, product_id: int, **remote) -> None:
    StockListing.objects.update_or_create(channel_id=channel_id, product_id=product_id, defaults=remote)


# --- reconciliation ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Drift:
    product_id: int
    sku: str
    ours: int
    theirs: int | None  # None: the shop doesn't track stock for it


@dataclass
class Reconciliation:
    channel_id: int
    drift: list[Drift]
    checked: int  # SKUs both sides know
    not_in_shop: int  # our active SKUs the shop doesn't list
    unknown_to_us: int  # SKUs in the shop that aren't ours


def stock_reconciliation(*, channel_id: int, theirs: dict[str, int | None]) -> Reconciliation:
    """Compare the levels a channel shows (`theirs`, by SKU, as read from it) with ours."""
    plan = channel_plan(channel_id)
    products = dict(Product.objects.filter(sku__in=list(theirs)).values_list("sku", "pk"))
    levels = stock_levels_compute(plans=[plan], product_ids=products.values()) if plan else Levels()
    drift = []
    for sku, product_id in sorted(products.items()):
        ours = levels.by_channel[(channel_id, product_id)]["available"]
        if theirs[sku] != ours:
            drift.append(Drift(product_id=product_id, sku=sku, ours=ours, theirs=theirs[sku]))
    in_shop = set(products)
    not_in_shop = Product.objects.filter(is_active=True).exclude(sku__in=in_shop).count()
    return Reconciliation(
        channel_id=channel_id,
        drift=drift,
        checked=len(products),
        not_in_shop=not_in_shop,
        unknown_to_us=len(set(theirs) - in_shop),
    )


@transaction.atomic
def stock_drift_fix(*, reconciliation: Reconciliation) -> int:
    """Queue a push of our level for every drifted SKU (sent by the worker after commit)."""
    return stock_levels_queue(
        product_ids=[d.product_id for d in reconciliation.drift],
        channel_ids={reconciliation.channel_id},
        force=True,
    )
