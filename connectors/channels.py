"""The channel connections as the delivery log and the stock hot path see them.

A `ChannelPlan` is what a signal receiver needs to know of a connection without reading it:
whether it is connected or paused, whether it takes stock levels, its safety buffer, and which
of our warehouses feed which of its stock locations. The plans of all connections are built in
a few queries and kept in the cache for PLANS_CACHE_SECONDS; saving a connection, its locations
or a warehouse forgets them (in a per-process cache other processes see it when it expires).
"""

from dataclasses import dataclass
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.outbox.registry import DeliveryTarget
from inventory.models import Warehouse

from .models import ShopifyConnection, WooCommerceConnection

PLANS_CACHE_KEY = "connectors:channel-plans:v1"
PLANS_CACHE_SECONDS = 60
SHOPIFY = "shopify"
WOOCOMMERCE = "woocommerce"


@dataclass(frozen=True)
class StockGroup:
    """Warehouses whose units one stock location of the shop shows ("" for a shop with one
    figure per SKU). `ships_last` is the largest priority number among them: the safety buffer
    is held back from the group that ships last first."""

    location: str
    warehouse_ids: frozenset[int]
    ships_last: int


@dataclass(frozen=True)
class ChannelPlan:
    channel_id: int
    kind: str
    name: str
    connected: bool
    paused: bool
    push_stock: bool
    safety_buffer: int
    groups: tuple[StockGroup, ...]

    @property
    def target(self) -> str:
        return f"channel:{self.channel_id}"

    @property
    def takes_stock(self) -> bool:
        """Stock levels are queued for it. Not while paused: a paused delivery is never coalesced,
        so every change would add one; saving new credentials queues what moved meanwhile."""
        return self.connected and not self.paused and self.push_stock and bool(self.groups)


def _groups(warehouses_by_location: dict[str, list[Warehouse]]) -> tuple[StockGroup, ...]:
    return tuple(
        StockGroup(
            location=location,
            warehouse_ids=frozenset(w.pk for w in warehouses),
            ships_last=max(w.priority for w in warehouses),
        )
        for location, warehouses in sorted(warehouses_by_location.items())
        if warehouses
    )


def _plans_build() -> dict[int, ChannelPlan]:
    plans = {}
    for conn in ShopifyConnection.objects.select_related("channel").prefetch_related("locations__warehouse"):
        by_location: dict[str, list[Warehouse]] = {}
        for mapping in conn.locations.all():
            if mapping.warehouse.is_active:
                by_location.setdefault(mapping.location_gid, []).append(mapping.warehouse)
        plans[conn.channel_id] = _plan(conn, SHOPIFY, _groups(by_location))
    active = None
    for conn in WooCommerceConnection.objects.select_related("channel").prefetch_related("warehouses"):
        chosen = [w for w in conn.warehouses.all() if w.is_active]
        if not chosen:
            active = active if active is not None else list(Warehouse.objects.filter(is_active=True))
            chosen = active
        plans[conn.channel_id] = _plan(conn, WOOCOMMERCE, _groups({"": chosen}))
    return plans


def _plan(conn, kind: str, groups) -> ChannelPlan:
    return ChannelPlan(
        channel_id=conn.channel_id,
        kind=kind,
        name=f"{conn.channel.name} ({conn._meta.verbose_name})",
        connected=conn.is_connected and conn.channel.is_active,
        paused=conn.credentials_refused_at is not None,
        push_stock=conn.push_stock,
        safety_buffer=conn.safety_buffer,
        groups=groups,
    )


def channel_plans() -> dict[int, ChannelPlan]:
    """Every channel connection's plan, by channel id (cached; see the module docstring)."""
    plans = cache.get(PLANS_CACHE_KEY)
    if plans is None:
        plans = _plans_build()
        cache.set(PLANS_CACHE_KEY, plans, PLANS_CACHE_SECONDS)
    return plans


def channel_plan(channel_id: int) -> ChannelPlan | None:
    return channel_plans().get(channel_id)


def channel_plans_forget(**kwargs) -> None:
    """Forget the cached plans now and again after commit (a reader in between may have cached
    the old rows). Connected as a receiver to the saves that change a plan."""
    cache.delete(PLANS_CACHE_KEY)
    transaction.on_commit(partial(cache.delete, PLANS_CACHE_KEY))


def connection_for(channel_id: int) -> ShopifyConnection | WooCommerceConnection | None:
    """The channel's connection row (fresh from the database: handlers use it to send)."""
    for model in (ShopifyConnection, WooCommerceConnection):
        connection = model.objects.select_related("channel").filter(channel_id=channel_id).first()
        if connection is not None:
            return connection
    return None


def _channel_id(target: str) -> int | None:
    try:
        return int(target.split(":", 1)[1])
    except (IndexError, ValueError):
        return None


def _target_name(target: str) -> str:
    plan = channel_plan(_channel_id(target) or 0)
    return plan.name if plan else target


def _target_paused(target: str) -> bool:
    plan = channel_plan(_channel_id(target) or 0)
    return bool(plan and plan.paused)


def _target_revoked(target: str, reason: str) -> None:
    """The shop refused our credentials: mark its connection, shown on its admin page."""
    channel_id = _channel_id(target)
    for model in (ShopifyConnection, WooCommerceConnection):
        model.objects.filter(channel_id=channel_id).update(
            credentials_refused_at=timezone.now(), credentials_refused_reason=reason[:2000]
        )
    channel_plans_forget()


CHANNEL_TARGET = DeliveryTarget(name=_target_name, is_paused=_target_paused, on_revoked=_target_revoked)
