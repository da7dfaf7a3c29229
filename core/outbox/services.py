"""The delivery log (transactional outbox): what we owe the outside world, and sending it.

A service that changes something the outside world must hear of calls `delivery_enqueue` in its
own transaction; the delivery row commits or rolls back with the change. After commit the task
worker sends it (`delivery_send`): one attempt claims the row under a lease, calls the handler
its topic registered, records every HTTP exchange, and ends the attempt as

- delivered (the next delivery with the same ordering key is started),
- waiting for a retry (exponential backoff with jitter, at least the platform's Retry-After),
- dead (the remote side refused it, or it kept failing for OMS_DELIVERY_GIVE_UP_HOURS), or
- paused, with every other delivery of its connection, when the credentials were refused.

A worker killed mid-attempt leaves the row `sending` with its lease; `delivery_sweep` (cron,
every minute, and the worker's own loop) hands it back once the lease ran out. Handlers make a
retried attempt harmless on the remote side (platform idempotency keys, check before create).
"""

import datetime as dt
import logging
import random
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from ..models import Delivery, DeliveryAttempt
from .errors import DeliveryFailed, DeliveryRetry, DeliveryRevoked
from .http import OutboundHttp
from .registry import delivery_handler_for, delivery_target_for

logger = logging.getLogger(__name__)
Status = Delivery.Status
# Deliveries that hold back later ones with the same ordering key. A dead one doesn't: staff see
# it, and what follows is sent (and fails visibly itself if it needed the dead one).
BLOCKING = (Status.PENDING, Status.SENDING, Status.PAUSED)


def _oms(name: str):
    return settings.OMS[name]


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base × 2^(n−1), capped, of which a random half is waited."""
    ceiling = min(
        _oms("DELIVERY_BACKOFF_CAP_SECONDS"), _oms("DELIVERY_BACKOFF_BASE_SECONDS") * 2 ** (attempts - 1)
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


# --- writing ------------------------------------------------------------------------------------
def delivery_enqueue(
    *,
    target: str,
    topic: str,
    payload: dict,
    reference: str = "",
    ordering_key: str = "",
    coalesce_key: str = "",
) -> Delivery:
    """Owe the outside world one message; sent after the caller's transaction commits.

    With a `coalesce_key`, a delivery with that key still waiting is updated in place (the
    latest payload wins) instead of adding another, so a busy hour of stock changes sends the
    latest level, not every step; the key also orders them (unless `ordering_key` says
    otherwise), so at most one is in flight. A paused target's deliveries wait, paused, for
    reconnection.
    """
    ordering_key = ordering_key or coalesce_key
    delivery_target = delivery_target_for(target)
    status = Status.PAUSED if delivery_target.is_paused(target) else Status.PENDING
    if coalesce_key and status == Status.PENDING:
        waiting = (
            Delivery.objects.select_for_update()
            .filter(coalesce_key=coalesce_key, status=Status.PENDING)
            .first()
        )
        if waiting is not None:
            waiting.payload = payload
            waiting.save(update_fields=["payload", "updated_at"])
            return waiting
    delivery = Delivery(
        target=target,
        target_name=delivery_target.name(target)[:200],
        topic=topic,
        payload=payload,
        reference=reference[:100],
        ordering_key=ordering_key[:150],
        coalesce_key=coalesce_key[:150],
        status=status,
        next_attempt_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        # Another transaction added the waiting delivery for this key a moment ago: update it.
        waiting = Delivery.objects.select_for_update().get(coalesce_key=coalesce_key, status=Status.PENDING)
        waiting.payload = payload
        waiting.save(update_fields=["payload", "updated_at"])
        return waiting
    if status == Status.PENDING:
        transaction.on_commit(partial(delivery_schedule, delivery_id=delivery.pk))
    return delivery


def delivery_schedule(*, delivery_id: int, after: float | None = None) -> None:
    """Queue a send for the task worker, now or after `after` seconds (when the task backend can
    defer; otherwise `delivery_sweep` picks it up when it is due)."""
    if after:
        backend = delivery_send_task.get_backend()
        if not backend.supports_defer:
            return
        delivery_send_task.using(run_after=timezone.now() + dt.timedelta(seconds=after)).enqueue(delivery_id)
        return
    delivery_send_task.enqueue(delivery_id)


# --- sending ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    delivery: Delivery
    attempt: int


@transaction.atomic
def _claim(delivery_id: int) -> Claim | None:
    """Take the delivery for one attempt, if it is due, not taken, and first in its order.

    Locks the delivery row (SKIP LOCKED: a second worker with the same id goes away), then
    reads, without locks, whether an earlier delivery with the same ordering key is still open.
    """
    now = timezone.now()
    delivery = Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Status.PENDING:
        return None
    if delivery.next_attempt_at and delivery.next_attempt_at > now:
        return None
    if (
        delivery.ordering_key
        and Delivery.objects.filter(
            ordering_key=delivery.ordering_key, pk__lt=delivery.pk, status__in=BLOCKING
        ).exists()
    ):
        return None  # the earlier one starts this one when it is delivered
    delivery.status = Status.SENDING
    delivery.attempts += 1
    delivery.lease_until = now + dt.timedelta(seconds=_oms("DELIVERY_LEASE_SECONDS"))
    delivery.save(update_fields=["status", "attempts", "lease_until", "updated_at"])
    return Claim(delivery=delivery, attempt=delivery.attempts)


def delivery_send(*, delivery_id: int, transport=None) -> Delivery | None:
    """Make one attempt at a delivery (the task worker's job). Returns the delivery as the
    attempt left it, or None when there was nothing to do (not due, taken, or waiting its turn).

    No transaction is held while the remote side is called: the claim commits first (so a
    killed worker leaves a lease that runs out), the outcome commits after.
    """
    claim = _claim(delivery_id)
    if claim is None:
        return None
    delivery = claim.delivery
    http = OutboundHttp(transport=transport)
    outcome: Exception | None = None
    result = None
    try:
        result = delivery_handler_for(delivery.topic)(delivery, http)
    except (DeliveryRetry, DeliveryFailed, DeliveryRevoked) as exc:
        outcome = exc
    except Exception as exc:  # a bug in a handler must not lose the delivery: retried, then dead
        logger.exception("Delivery %s: handler %s failed", delivery.pk, delivery.topic)
        outcome = DeliveryRetry(f"Internal error: {exc!r}")
    finally:
        http.close()
    return _finish(claim=claim, http=http, outcome=outcome, result=result)


@transaction.atomic
def _finish(*, claim: Claim, http: OutboundHttp, outcome: Exception | None, result) -> Delivery:
    delivery = Delivery.objects.select_for_update().get(pk=claim.delivery.pk)
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(
            delivery=delivery,
            attempt=claim.attempt,
            started_at=x.started_at,
            duration_ms=x.duration_ms,
            method=x.method,
            url=x.url[:500],
            request_headers=x.request_headers,
            request_body=x.request_body,
            response_status=x.response_status,
            response_headers=x.response_headers,
            response_body=x.response_body,
            error=x.error,
        )
        for x in http.exchanges
    )
    if delivery.status != Status.SENDING or delivery.attempts != claim.attempt:
        # The lease ran out and another attempt took over: its outcome stands, this one is logged.
        return delivery
    now = timezone.now()
    delivery.lease_until = None
    fields = ["status", "lease_until", "last_error", "next_attempt_at", "updated_at"]
    if outcome is None:
        delivery.status = Status.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = ""
        delivery.next_attempt_at = None
        if isinstance(result, dict):
            delivery.result = {**delivery.result, **result}
            fields.append("result")
        delivery.save(update_fields=[*fields, "delivered_at"])
        _start_next_in_order(delivery)
        return delivery
    delivery.last_error = str(outcome)[:5000]
    if isinstance(outcome, DeliveryRevoked):
        delivery.status = Status.PAUSED
        delivery.next_attempt_at = None
        delivery.save(update_fields=fields)
        delivery_target_pause(target=delivery.target, reason=str(outcome))
        return delivery
    give_up_at = delivery.created_at + dt.timedelta(hours=_oms("DELIVERY_GIVE_UP_HOURS"))
    wait = (
        max(outcome.after or 0, backoff_seconds(claim.attempt)) if isinstance(outcome, DeliveryRetry) else 0
    )
    if isinstance(outcome, DeliveryFailed) or now + dt.timedelta(seconds=wait) > give_up_at:
        delivery.status = Status.DEAD
        delivery.next_attempt_at = None
        delivery.save(update_fields=fields)
        _start_next_in_order(delivery)
        logger.warning("Delivery %s (%s) is dead: %s", delivery.pk, delivery.topic, delivery.last_error)
        return delivery
    delivery.status = Status.PENDING
    delivery.next_attempt_at = now + dt.timedelta(seconds=wait)
    delivery.save(update_fields=fields)
    transaction.on_commit(partial(delivery_schedule, delivery_id=delivery.pk, after=wait))
    return delivery


def _start_next_in_order(delivery: Delivery) -> None:
    if not delivery.ordering_key:
        return
    following = (
        Delivery.objects.filter(ordering_key=delivery.ordering_key, pk__gt=delivery.pk, status=Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        transaction.on_commit(partial(delivery_schedule, delivery_id=following))


# --- staff and the sweeper -----------------------------------------------------------------------
@transaction.atomic
def delivery_resend(*, delivery_id: int) -> Delivery:
    """Send a dead or paused delivery again now (staff's “Send again”), with a fresh time budget."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status in (Status.PENDING, Status.SENDING):
        return delivery
    now = timezone.now()
    delivery.status = Status.PENDING
    delivery.next_attempt_at = now
    delivery.lease_until = None
    fields = ["status", "next_attempt_at", "lease_until", "updated_at"]
    if delivery.delivered_at is None:
        # The give-up clock starts again from now.
        delivery.created_at = now
        fields.append("created_at")
    delivery.save(update_fields=fields)
    transaction.on_commit(partial(delivery_schedule, delivery_id=delivery.pk))
    return delivery


def delivery_target_pause(*, target: str, reason: str) -> int:
    """Stop every waiting delivery of a connection whose credentials were refused, and alert.

    Runs in the caller's transaction (the refused attempt's). Returns how many more deliveries
    were paused. The owner of the target (a channel, a subscription) is told through its
    registered hook; managers get an e-mail after commit, unless the target kind tells them
    itself (`DeliveryTarget.alerts_managers`)."""
    paused = Delivery.objects.filter(target=target, status=Status.PENDING).update(
        status=Status.PAUSED, next_attempt_at=None, updated_at=timezone.now()
    )
    kind = delivery_target_for(target)
    kind.on_revoked(target, reason)
    if kind.alerts_managers:
        transaction.on_commit(partial(_alert_paused, target=target, reason=reason, waiting=paused + 1))
    return paused


def _alert_paused(*, target: str, reason: str, waiting: int) -> None:
    """Log it, and e-mail MANAGER_EMAILS (a mail server that is down must not hide the log)."""
    name = delivery_target_for(target).name(target)
    logger.error("Deliveries to %s paused: %s", name, reason)
    if not settings.MANAGER_EMAILS:
        return
    message = EmailMessage(
        f"Deliveries to {name} stopped: credentials refused",
        f"{name} refused our credentials:\n\n{reason}\n\n"
        f"{waiting} deliveries wait until it is reconnected; they are sent when its "
        "credentials are saved again (admin › Deliveries).",
        settings.DEFAULT_FROM_EMAIL,
        settings.MANAGER_EMAILS,
    )
    try:
        message.send()
    except OSError:
        logger.exception("Could not e-mail managers that deliveries to %s are paused", name)


def delivery_target_resume(*, target: str) -> int:
    """Send a reconnected connection's paused deliveries (called when its credentials change)."""
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update()
            .filter(target=target, status=Status.PAUSED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=Status.PENDING, next_attempt_at=timezone.now(), updated_at=timezone.now()
        )
        for pk in ids:
            transaction.on_commit(partial(delivery_schedule, delivery_id=pk))
    return len(ids)


def delivery_sweep(*, limit: int = 500) -> int:
    """Hand back deliveries whose worker died (lease ran out) and queue every due delivery whose
    task was lost. Run every minute (cron, or `manage.py outbox_sweep --loop`). Returns how many
    were queued."""
    now = timezone.now()
    with transaction.atomic():
        stale = Delivery.objects.select_for_update(skip_locked=True).filter(
            status=Status.SENDING, lease_until__lt=now
        )
        for delivery in stale:
            delivery.status = Status.PENDING
            delivery.lease_until = None
            delivery.next_attempt_at = now
            delivery.last_error = (delivery.last_error + "\nThe worker stopped during an attempt.").strip()
            delivery.save(
                update_fields=["status", "lease_until", "next_attempt_at", "last_error", "updated_at"]
            )
    due = list(
        Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        delivery_schedule(delivery_id=pk)
    return len(due)


# --- the task worker's entry points ----------------------------------------------------------------
@task()
def delivery_send_task(delivery_id: int) -> str:
    """One attempt at one delivery (see delivery_send)."""
    delivery = delivery_send(delivery_id=delivery_id)
    return delivery.status if delivery is not None else "skipped"


@task()
def delivery_sweep_task() -> int:
    return delivery_sweep()
