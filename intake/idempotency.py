"""Retries of a create: what counts as the same request, and the Idempotency-Key store.

"The same body" means the same order data once validated (`order_fingerprint`): the JSON's white
space, member order, members the API ignores, defaults written out or left out, "25" or "25.00",
a zone written as Z or +00:00 make no difference; any value that reaches the order does.

The first reply to a request carrying a key is kept per (channel, key) and replayed for every
retry with the same body; the same key with another body is a conflict. Records older than
OMS["IDEMPOTENCY_KEY_DAYS"] are purged daily (`manage.py purge_idempotency_keys`); a retry that
comes later still gets the existing order, from the unique (channel, external id), as long as its
body is the same (intake.api: a re-used external id with another body is a conflict too).
"""

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import DomainError
from core.money import quantize
from orders.inputs import OrderInput
from orders.models import Channel, Order

from .models import IdempotencyRecord


class IdempotencyConflict(DomainError):
    """This Idempotency-Key was used with a different request body."""


class ExternalIdConflict(DomainError):
    """This external id was already used for an order with different contents."""

    def __init__(self, *, external_id: str, order: Order):
        self.external_id = external_id
        self.order = order
        super().__init__(
            f"external_id {external_id} was already used for order {order.number} with different contents."
        )


def _canonical(value):
    if isinstance(value, Decimal):
        return str(quantize(value))
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    raise TypeError(f"{type(value).__name__} has no canonical form")


def order_fingerprint(data: OrderInput) -> str:
    """SHA-256 of the order data as captured: equal for requests that make the same order."""
    text = json.dumps(dataclasses.asdict(data), default=_canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent_run(
    *,
    channel: Channel,
    key: str,
    body: bytes,
    run: Callable[[], tuple[int, dict, Order]],
    fingerprint: str = "",
) -> tuple[int, dict, IdempotencyRecord | None]:
    """Run `run` (which answers the request: status, reply body, order) once per (channel, key).

    A new key: `run` and the insert of the key's record share one transaction, the record last;
    returns (status, reply, None). A key seen before: `run` is not called; returns the first
    reply with its record, (status, reply, record). Raises IdempotencyConflict when the key came
    with another body: another `fingerprint` (the order data's, when the caller has one) and
    another SHA-256 of the raw body (what records written before fingerprints hold). When two
    requests race with the same key, the second waits on the record's unique index, its whole
    transaction (order included) rolls back, and it gets the first one's reply like any retry.
    """
    raw_hash = hashlib.sha256(body).hexdigest()
    request_hash = fingerprint or raw_hash
    records = IdempotencyRecord.objects.filter(channel=channel, key=key).select_related("order")
    record = records.first()
    if record is None:
        try:
            with transaction.atomic():
                status, reply, order = run()
                IdempotencyRecord.objects.create(
                    channel=channel,
                    key=key,
                    request_hash=request_hash,
                    status_code=status,
                    response_body=reply,
                    order=order,
                )
                return status, reply, None
        except IntegrityError:
            record = records.first()
            if record is None:
                raise
    if record.request_hash not in (request_hash, raw_hash):
        raise IdempotencyConflict
    return record.status_code, record.response_body, record


def idempotency_records_purge(*, now=None) -> int:
    """Delete Idempotency-Key records older than OMS["IDEMPOTENCY_KEY_DAYS"]; returns how many.

    Only the replay store goes: inbound requests (the raw record of what arrived) stay. A retry
    that comes later than that is still answered with the existing order by the unique
    (channel, external id)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.OMS["IDEMPOTENCY_KEY_DAYS"])
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
