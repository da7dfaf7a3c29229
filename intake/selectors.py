"""Reads of intake's records (never imports services)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min
from django.utils import timezone

from .models import InboundRequest


@dataclass(frozen=True)
class Backlog:
    """The requests waiting for the intake worker: how many, and since when the oldest."""

    pending: int
    oldest_at: dt.datetime | None

    def oldest_age(self, now: dt.datetime | None = None) -> dt.timedelta | None:
        return (now or timezone.now()) - self.oldest_at if self.oldest_at else None


def inbound_get_backlog() -> Backlog:
    """The intake worker's backlog. One query, over the pending rows only (the partial index)."""
    row = InboundRequest.objects.pending().aggregate(pending=Count("pk"), oldest_at=Min("created_at"))
    return Backlog(pending=row["pending"], oldest_at=row["oldest_at"])
