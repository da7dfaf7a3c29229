"""Writes: subscriptions (create, edit, rotate the secret, switch off and on, test) and the events
they are owed.

An event is written as one delivery per subscription that wants it (core.outbox), in the
transaction of the change, with the ordering key `subscription:<id>:order:<number>` so one
subscriber hears of one order's changes in the order they happened.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from core.models import Delivery
from core.outbox.services import delivery_enqueue, delivery_resend, delivery_target_resume
from inventory.models import StockItem

from . import payloads
from .events import stock_low_payload, webhook_test_payload
from .models import DELIVERY_TOPIC, TARGET_PREFIX, StockLowMark, Subscription
from .notifications import subscription_switched_off_notify
from .signing import secret_generate

logger = logging.getLogger(__name__)
EventType = Subscription.EventType


class SubscriptionSwitchedOff(Exception):
    """A test event was asked of a subscription that is switched off."""


# --- events ---------------------------------------------------------------------------------------
def subscribers_event_emit(
    *, event: payloads.Event, subscription_ids, reference: str, ordering: str
) -> list[Delivery]:
    """Owe each of these subscriptions the event: one delivery each, in the caller's transaction,
    sent after commit. `ordering` (e.g. "order:SO-1") keeps one subscriber's events about the same
    thing in order."""
    payload = event.model_dump(mode="json")
    return [
        delivery_enqueue(
            target=f"{TARGET_PREFIX}:{pk}",
            topic=DELIVERY_TOPIC,
            payload=payload,
            reference=reference,
            ordering_key=f"{TARGET_PREFIX}:{pk}:{ordering}",
        )
        for pk in subscription_ids
    ]


def _is_low(item: StockItem) -> bool:
    return item.reorder_point > 0 and item.available <= item.reorder_point


def stock_low_check(*, product_ids, subscription_ids) -> list[StockItem]:
    """Send `stock.low` for every stock item of these products that fell to its reorder point
    since it was last known to be above it; forget the items that recovered.

    Runs in the writer's transaction, after the stock rows changed (the writer holds their locks,
    so two writers can't both see the same crossing). One query to read the items with their
    marks, one to add marks, one to remove them. Returns the items that crossed."""
    items = list(
        StockItem.objects.filter(product_id__in=product_ids)
        .select_related("product", "warehouse")
        .annotate(marked=Exists(StockLowMark.objects.filter(stock_item=OuterRef("pk"))))
        .order_by("pk")
    )
    crossed = [item for item in items if _is_low(item) and not item.marked]
    recovered = [item.pk for item in items if item.marked and not _is_low(item)]
    if recovered:
        StockLowMark.objects.filter(stock_item_id__in=recovered).delete()
    if crossed:
        StockLowMark.objects.bulk_create(
            [StockLowMark(stock_item=item) for item in crossed], ignore_conflicts=True
        )
        for item in crossed:
            subscribers_event_emit(
                event=stock_low_payload(item=item),
                subscription_ids=subscription_ids,
                reference=item.product.sku,
                ordering=f"stock:{item.pk}",
            )
    return crossed


def stock_low_marks_prune() -> int:
    """Forget the marks of items no longer low (marks are kept only while some subscription
    wants stock.low, so they may be stale when one asks for it again). Returns how many."""
    not_low = StockItem.objects.filter(reorder_point__gt=0, on_hand__lte=F("reserved") + F("reorder_point"))
    deleted, _ = StockLowMark.objects.exclude(stock_item__in=not_low).delete()
    return deleted


# --- subscriptions ---------------------------------------------------------------------------------
def _event_types_clean(event_types) -> list[str]:
    unknown = set(event_types) - set(EventType.values)
    if unknown:
        raise ValueError(f"Unknown event types: {', '.join(sorted(unknown))}.")
    return [value for value in EventType.values if value in set(event_types)]


@transaction.atomic
def subscription_create(
    *, name: str, url: str, event_types, owner_email: str, is_active: bool = True
) -> tuple[Subscription, str]:
    """Add a subscription with a new secret. Returns it and the secret, which is shown to staff
    once and never again (only its last four characters). Raises ValidationError for bad
    fields, ValueError for unknown event types."""
    subscription = Subscription(
        name=name,
        url=url,
        event_types=_event_types_clean(event_types),
        owner_email=owner_email,
        is_active=is_active,
        secret=secret_generate(),
    )
    subscription.full_clean()
    subscription.save()
    if EventType.STOCK_LOW in subscription.event_types:
        stock_low_marks_prune()
    return subscription, subscription.secret


@transaction.atomic
def subscription_update(
    *, subscription_id: int, name: str, url: str, event_types, owner_email: str, is_active: bool, actor=None
) -> Subscription:
    """Save staff's edits. Switching it off or on here is the same as the actions (see
    subscription_switch_off / subscription_switch_on). Locks the row."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    subscription.name = name
    subscription.url = url
    subscription.event_types = _event_types_clean(event_types)
    subscription.owner_email = owner_email
    subscription.full_clean()
    subscription.save(update_fields=["name", "url", "event_types", "owner_email", "updated_at"])
    if EventType.STOCK_LOW in subscription.event_types:
        stock_low_marks_prune()
    if is_active and not subscription.is_active:
        subscription_switch_on(subscription_id=subscription.pk)
    elif not is_active and subscription.is_active:
        who = actor.get_username() if actor is not None else "staff"
        subscription_switch_off(
            subscription_id=subscription.pk, reason=f"Switched off by {who}.", notify=False
        )
    subscription.refresh_from_db()
    return subscription


@transaction.atomic
def subscription_secret_rotate(*, subscription_id: int) -> tuple[Subscription, str]:
    """Give the subscription a new secret; the one it had keeps signing beside it for
    OMS["SUBSCRIPTION_SECRET_OVERLAP_HOURS"], so the receiver can switch over in that time
    (each delivery then carries both signatures). A secret older than that stops at once.
    Locks the row. Returns it and the new secret (shown once)."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    overlap = dt.timedelta(hours=settings.OMS["SUBSCRIPTION_SECRET_OVERLAP_HOURS"])
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + overlap
    subscription.secret = secret_generate()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return subscription, subscription.secret


def subscription_signing_secrets(subscription: Subscription, *, now: dt.datetime | None = None) -> list[str]:
    """The secrets that sign its deliveries now: the current one, and the one before it while
    its overlap lasts."""
    now = now or timezone.now()
    secrets = [subscription.secret]
    if (
        subscription.previous_secret
        and subscription.previous_secret_expires_at
        and subscription.previous_secret_expires_at > now
    ):
        secrets.append(subscription.previous_secret)
    return secrets


@transaction.atomic
def subscription_switch_off(*, subscription_id: int, reason: str, notify: bool = True) -> bool:
    """Stop sending to a subscription. What is owed to it waits: a waiting delivery is paused
    when its turn comes (the handler finds the subscription switched off), and everything
    paused goes out when it is switched on again. With `notify`, its owner and MANAGER_EMAILS
    are e-mailed after commit. Locks the row. Returns False when it was already off."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    if not subscription.is_active:
        return False
    subscription.is_active = False
    subscription.disabled_at = timezone.now()
    subscription.disabled_reason = reason[:500]
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    logger.warning("Subscription %s (%s) switched off: %s", subscription.pk, subscription.name, reason)
    if notify:
        subscription_switched_off_notify(subscription_id=subscription.pk)
    return True


@transaction.atomic
def subscription_switch_on(*, subscription_id: int) -> int:
    """Send to a subscription again: what waits for it (paused) goes out now, in order, and so
    does what gave up while it was failing (dead since its first failure in a row: receivers
    drop anything they already had by its webhook-id). Locks the row. Returns how many
    deliveries were queued."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    failing_since = subscription.failing_since
    subscription.is_active = True
    subscription.disabled_at = None
    subscription.disabled_reason = ""
    subscription.failing_since = None
    subscription.save(
        update_fields=["is_active", "disabled_at", "disabled_reason", "failing_since", "updated_at"]
    )
    if EventType.STOCK_LOW in subscription.event_types:
        stock_low_marks_prune()
    queued = 0
    if failing_since is not None:
        dead = (
            Delivery.objects.filter(
                target=subscription.target, status=Delivery.Status.DEAD, updated_at__gte=failing_since
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for delivery_id in dead:
            delivery_resend(delivery_id=delivery_id)
            queued += 1
    return queued + delivery_target_resume(target=subscription.target)


@transaction.atomic
def subscription_test_send(*, subscription_id: int) -> Delivery:
    """Owe the subscription a `webhook.test` event, whatever event types it has. Raises
    SubscriptionSwitchedOff when it is switched off."""
    subscription = Subscription.objects.get(pk=subscription_id)
    if not subscription.is_active:
        raise SubscriptionSwitchedOff(f"“{subscription}” is switched off: switch it on first.")
    (delivery,) = subscribers_event_emit(
        event=webhook_test_payload(subscription_name=subscription.name),
        subscription_ids=[subscription.pk],
        reference="test",
        ordering="test",
    )
    return delivery


def subscriptions_switch_off_failing(*, now: dt.datetime | None = None) -> list[Subscription]:
    """Switch off (and tell the owners of) every active subscription none of whose deliveries
    got through for OMS["SUBSCRIPTION_DISABLE_AFTER_DAYS"] while at least one gave up since.
    The delivery handler applies the same rule at each failed attempt; this catches the
    subscriptions that have nothing in flight (cron, daily). Returns those switched off."""
    now = now or timezone.now()
    days = settings.OMS["SUBSCRIPTION_DISABLE_AFTER_DAYS"]
    switched = []
    candidates = Subscription.objects.filter(
        is_active=True, failing_since__lte=now - dt.timedelta(days=days)
    ).order_by("pk")
    for subscription in candidates:
        if subscription_failing_too_long(subscription, now=now) and subscription_switch_off(
            subscription_id=subscription.pk, reason=subscription_failing_reason(subscription)
        ):
            switched.append(subscription)
    return switched


def subscription_failing_too_long(subscription: Subscription, *, now: dt.datetime | None = None) -> bool:
    """Whether nothing got through to it for OMS["SUBSCRIPTION_DISABLE_AFTER_DAYS"] and some
    delivery gave up (dead) in that time. One query, only once the days have passed."""
    now = now or timezone.now()
    since = subscription.failing_since
    if since is None or since > now - dt.timedelta(days=settings.OMS["SUBSCRIPTION_DISABLE_AFTER_DAYS"]):
        return False
    return Delivery.objects.filter(
        target=subscription.target, status=Delivery.Status.DEAD, updated_at__gte=since
    ).exists()


def subscription_failing_reason(subscription: Subscription, last_error: str = "") -> str:
    days = settings.OMS["SUBSCRIPTION_DISABLE_AFTER_DAYS"]
    reason = (
        f"No delivery got through for {days:g} days (failing since "
        f"{subscription.failing_since:%Y-%m-%d %H:%M %Z})."
    )
    return f"{reason} Last answer: {last_error}" if last_error else reason
