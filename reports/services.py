"""Writes of the reports app: the export audit log, running an export end to end, and keeping
the dashboard's rollups fresh."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core.csv_stream import csv_lines

from .exceptions import ExportNotAllowed, ExportRangeInvalid
from .exports import ExportKind, column_kinds, export_rows
from .models import ExportLog, KpiRollupState
from .rollups import kpi_refresh_within
from .rollups.services import STATE_PK
from .tasks import kpi_refresh_task

EXPORT_PERMISSION = "reports.export_data"


def export_user_can(*, user, export: ExportKind) -> bool:
    """Managers (the export permission) who may also see the exported model."""
    return bool(
        user and user.is_active and user.has_perm(EXPORT_PERMISSION) and user.has_perm(export.view_permission)
    )


@transaction.atomic
def export_log_start(*, user, export: ExportKind, source: str, query: str) -> ExportLog:
    """Record that an export began. Raises ExportNotAllowed for a user without the permissions."""
    if source == ExportLog.Source.ADMIN and not export_user_can(user=user, export=export):
        raise ExportNotAllowed(export=export)
    return ExportLog.objects.create(kind=export.name, user=user, source=source, query=query[:2000])


def export_log_finish(*, log_id: int, row_count: int) -> None:
    """Record how many rows an export wrote. One UPDATE; no lock needed (only its writer touches it)."""
    ExportLog.objects.filter(pk=log_id).update(row_count=row_count, finished_at=timezone.now())


def export_stream(
    *, export: ExportKind, queryset: models.QuerySet, log: ExportLog, bom: bool = False, rows=None
) -> Iterator[str]:
    """The CSV text of `export` over `queryset`, in chunks; finishes `log` after the last row.

    `rows` lets a caller wrap the row iterator (the command counts it for its progress bar).
    """
    rows = export_rows(export, queryset) if rows is None else rows
    return csv_lines(
        export.headers,
        rows,
        bom=bom,
        kinds=column_kinds(export, queryset),
        on_row_count=lambda n: export_log_finish(log_id=log.pk, row_count=n),
    )


def _bound(value: str, *, end: bool) -> dt.datetime:
    """Parse a date or datetime; a bare date means the start (or, for `end`, the end) of that day."""
    value = value.strip()
    try:
        day = parse_date(value)  # first: parse_datetime would read a bare date as midnight
        moment = None if day else parse_datetime(value)
    except ValueError:
        moment = day = None
    if moment is None and day is None:
        raise ExportRangeInvalid(f"“{value}” is not a date (YYYY-MM-DD) or an ISO date-time.")
    if moment is None:
        moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def export_queryset_in_range(*, export: ExportKind, since: str = "", until: str = "") -> models.QuerySet:
    """All rows of `export`, limited to [since, until] on its date field (both days included).

    Raises ExportRangeInvalid for unparseable dates, an empty range, or a range on a snapshot
    export (stock levels) that has no date.
    """
    qs = export.model._default_manager.all()
    if not (since or until):
        return qs
    if export.date_field is None:
        raise ExportRangeInvalid(f"The {export.label} export is a snapshot; it has no date to filter on.")
    start = _bound(since, end=False) if since else None
    stop = _bound(until, end=True) if until else None
    if start and stop and start >= stop:
        raise ExportRangeInvalid("--since must be before --until.")
    if start:
        qs = qs.filter(**{f"{export.date_field}__gte": start})
    if stop:
        qs = qs.filter(**{f"{export.date_field}__lt": stop})
    return qs


# --- the dashboard's rollups ------------------------------------------------------------------
# The dashboard queues a background refresh at most this often. It is longer than the rollups'
# overlap (REFRESH_OVERLAP), so the refresh it queues after a big change finds that change
# outside the overlap and the dashboard's own refresh is small again.
KPI_REFRESH_QUEUE_SECONDS = 10 * 60
KPI_REFRESH_QUEUED = "reports:kpi-refresh-queued"


@dataclass(frozen=True)
class KpiFreshness:
    as_of: dt.datetime | None  # changes up to about then are in the figures (None: never built)
    catching_up: int | None = None  # None: up to date; else days changed, left to the background


def kpi_dashboard_refresh() -> KpiFreshness:
    """Bring the rollups up to date before the dashboard reads them, in bounded time.

    Small changes (at most OMS["KPI_INLINE_REFRESH_DAYS"] days) are counted now. Bigger ones (a
    historical import) are left to kpi_refresh_task, queued here at most once per
    KPI_REFRESH_QUEUE_SECONDS, so a manager never waits on a year's recompute: the dashboard
    shows the figures as of the last refresh and says so.
    """
    result = kpi_refresh_within(day_limit=settings.OMS["KPI_INLINE_REFRESH_DAYS"])
    catching_up = result.deferred_days if result.behind else None
    queue = result.unfinished and cache.add(KPI_REFRESH_QUEUED, True, timeout=KPI_REFRESH_QUEUE_SECONDS)
    if queue and kpi_refresh_task.enqueue().status == TaskResultStatus.SUCCESSFUL:  # ran at once
        catching_up = None
    as_of = KpiRollupState.objects.filter(pk=STATE_PK).values_list("refreshed_at", flat=True).first()
    return KpiFreshness(as_of=as_of, catching_up=catching_up)
