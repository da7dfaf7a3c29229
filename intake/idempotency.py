"""Idempotency-Key: channels retry a create safely.

The first reply to a request carrying a key is kept per (channel, key) and replayed for every
retry with the same body; the same key with another body is a conflict. Records older than
OMS["IDEMPOTENCY_KEY_DAYS"] are purged daily (`manage.py purge_idempotency_keys`); a retry that
comes later still gets the existing order, from the unique (channel, external id).
"""

import datetime as dt
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import DomainError
from orders.models import Channel, Order

from .models import IdempotencyRecord


class IdempotencyConflict(DomainError):
    """This Idempotency-Key was used with a different request body."""


def idempotent_run(
    *, channel: Channel, key: str, body: bytes, run: Callable[[], tuple[int, dict, Order]]
) -> tuple[int, dict, IdempotencyRecord | None]:
    """Run `run` (which answers the request: status, reply body, order) once per (channel, key).

    A new key: `run` and the insert of the key's record share one transaction, the record last;
    returns (status, reply, None). A key seen before: `run` is not called; returns the first
    reply with its record, (status, reply, record). Raises IdempotencyConflict when the key came
    with another body. When two requests race with the same key, the second waits on the record's
    unique index, its whole transaction (order included) rolls back, and it gets the first one's
    reply like any retry.
    """
    request_hash = hashlib.sha256(body).hexdigest()
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
    if record.request_hash != request_hash:
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
