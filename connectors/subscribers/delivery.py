"""Sending one event to one subscriber: the delivery log's handler for `subscribers.event`, and
the `subscription` target kind.

Each attempt reads the subscription (so a new URL or secret applies to retries), signs the
payload with its secret(s) and POSTs it. What the receiver's answer means:

- 2xx: delivered.
- 410 Gone: the receiver wants no more events. The subscription is switched off, its owner and
  MANAGER_EMAILS told; this delivery and every one waiting are paused (nothing is lost) and go
  out if staff switch it on again.
- 401 or 403: retried with backoff like a 5xx, not a pause. For a webhook receiver it means it
  did not accept our signature (a secret being rotated on its side, a proxy in front of it):
  that is fixed on the receiver's side, which we can't see, and no staff action here would
  "reconnect" it. Retrying lets the same message (same webhook-id) through as soon as it is
  fixed; if it never is, the deliveries give up after OMS_DELIVERY_GIVE_UP_HOURS and the rule
  below switches the subscription off and tells its owner.
- 429, 5xx, time-outs, refused connections: retried with backoff (Retry-After honoured).
- Any other 4xx: the receiver refused this message; it is given up at once (staff can send it
  again from admin › Deliveries).

A subscription none of whose deliveries got through for OMS_SUBSCRIPTION_DISABLE_AFTER_DAYS,
with at least one given up in that time, is switched off at its next failed attempt (and daily
by `manage.py subscriptions_check` for those with nothing in flight).
"""

import time

from django.utils import timezone

from core.models import Delivery
from core.outbox.errors import DeliveryFailed, DeliveryRetry, DeliveryRevoked
from core.outbox.http import OutboundHttp
from core.outbox.registry import DeliveryTarget

from .models import Subscription, subscription_id_from_target
from .selectors import subscriptions_active
from .services import (
    subscription_failing_reason,
    subscription_failing_too_long,
    subscription_signing_secrets,
    subscription_switch_off,
)
from .signing import payload_body, signed_headers

# Don't write "last delivered" more often than this per subscription: it's for staff to see.
LAST_DELIVERED_PRECISION_SECONDS = 60


def webhook_id(delivery: Delivery) -> str:
    """The `webhook-id` of a delivery: the same on every attempt, so receivers drop repeats."""
    return f"msg_{delivery.idempotency_key.hex}"


def subscription_delivery_send(delivery: Delivery, http: OutboundHttp) -> dict:
    """Sign and POST one event (the handler of topic `subscribers.event`). Raises the outbox's
    outcomes as described in the module docstring; returns the receiver's status to keep."""
    subscription = Subscription.objects.filter(pk=subscription_id_from_target(delivery.target)).first()
    if subscription is None:
        raise DeliveryFailed("The subscription was deleted.")
    if not subscription.is_active:
        raise DeliveryRevoked(f"The subscription “{subscription}” is switched off.")
    now = timezone.now()
    body = payload_body(delivery.payload)
    headers = signed_headers(
        secrets=subscription_signing_secrets(subscription, now=now),
        msg_id=webhook_id(delivery),
        timestamp=int(time.time()),
        body=body,
    )
    try:
        response = http.request(
            "POST",
            subscription.url,
            content=body.encode(),
            headers={"Content-Type": "application/json", **headers},
            accept=(410,),
        )
    except DeliveryRevoked as exc:  # 401/403: the receiver refused our signature (see above)
        _failed(subscription, reason=str(exc))
        raise DeliveryRetry(f"{exc} (the receiver refused the signature; retried)") from exc
    except (DeliveryRetry, DeliveryFailed) as exc:
        _failed(subscription, reason=str(exc))
        raise
    if response.status_code == 410:
        raise DeliveryRevoked(
            f"{subscription.url} answered 410 Gone: the receiver wants no more events, so the "
            "subscription was switched off."
        )
    _delivered(subscription, now=now)
    return {"status": response.status_code}


def _delivered(subscription: Subscription, *, now) -> None:
    last = subscription.last_delivered_at
    if (
        subscription.failing_since is None
        and last is not None
        and (now - last).total_seconds() < LAST_DELIVERED_PRECISION_SECONDS
    ):
        return
    Subscription.objects.filter(pk=subscription.pk).update(last_delivered_at=now, failing_since=None)


def _failed(subscription: Subscription, *, reason: str) -> None:
    """Note the first failure in a row; past the days allowed, raise DeliveryRevoked so the outbox
    pauses what waits and calls on_revoked, which switches the subscription off."""
    if subscription.failing_since is None:
        Subscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(
            failing_since=timezone.now()
        )
        return
    if subscription_failing_too_long(subscription):
        raise DeliveryRevoked(subscription_failing_reason(subscription, last_error=reason[:300]))


def _name(target: str) -> str:
    """How the delivery log names it: from the cache while it is active (no query per delivery)."""
    pk = subscription_id_from_target(target)
    name = subscriptions_active().names.get(pk)
    if name is None:
        name = Subscription.objects.filter(pk=pk).values_list("name", flat=True).first()
    return f"Subscription “{name}”" if name else target


def _is_paused(target: str) -> bool:
    return subscription_id_from_target(target) not in subscriptions_active().ids


def _on_revoked(target: str, reason: str) -> None:
    """The outbox paused the subscription's deliveries (410, failing for days, or switched off
    while they waited): make sure it is switched off, and tell its owner when that is news."""
    pk = subscription_id_from_target(target)
    if pk is not None and Subscription.objects.filter(pk=pk, is_active=True).exists():
        subscription_switch_off(subscription_id=pk, reason=reason)


SUBSCRIPTION_TARGET = DeliveryTarget(
    name=_name, is_paused=_is_paused, on_revoked=_on_revoked, alerts_managers=False
)
