"""Reads of customer messages."""

import datetime as dt

from django.db.models import Count, Min

from .models import Thread


def thread_get_waiting() -> tuple[int, dt.datetime | None]:
    """How many threads wait for an answer from staff, and since when the oldest has waited
    (None when none waits). One query (status index)."""
    row = Thread.objects.filter(status=Thread.Status.AWAITING_STAFF).aggregate(
        n=Count("pk"), oldest=Min("waiting_since")
    )
    return row["n"], row["oldest"]
