"""SQL pieces of the KPI rollups: whole seconds between two datetimes and the lead-time band
on either database, local days and runs of them as filters, and the grouped
`INSERT … SELECT … UNION ALL … GROUP BY` every rollup table is filled with."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import NotSupportedError, connection, models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

HOUR = 3600
# Lead-time bands as (up to this many hours, band width in hours); beyond the last: one open band.
LEAD_BANDS = [(72, 1), (7 * 24, 6), (30 * 24, 24)]


class LeadSeconds(models.Func):
    """Whole seconds from `start` to `end` (two datetime columns), in SQL on either database."""

    output_field = models.BigIntegerField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        # The project runs on PostgreSQL and SQLite only; anything else must say so, not guess.
        raise NotSupportedError(f"LeadSeconds has no SQL for {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(FLOOR(EXTRACT(EPOCH FROM (%(expressions)s))) AS bigint)",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        # julianday() keeps whole milliseconds: round the difference to them, then floor to seconds.
        return super().as_sql(
            compiler,
            connection,
            template="(CAST(ROUND((julianday(%(expressions)s)) * 86400000.0) AS INTEGER) / 1000)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def lead_band_expression(seconds: str) -> Case:
    """The band (upper bound in whole hours) of the annotation `seconds`; NULL past the last band.

    A band holds (upper - width, upper]: exactly 2 h is "within 2 h", 2 h and a second "within 3 h".
    """
    whens = [When(**{f"{seconds}__lte": HOUR}, then=Value(1))]
    for upper, width in LEAD_BANDS:
        step = width * HOUR
        whens.append(
            When(
                **{f"{seconds}__lte": upper * HOUR},
                then=((F(seconds) + (step - 1)) / step) * width,
            )
        )
    return Case(*whens, default=Value(None), output_field=models.IntegerField())


def local_day(field: str) -> TruncDate:
    """The datetime `field` as a date in settings.TIME_ZONE (what the rollups are keyed by)."""
    return TruncDate(field, tzinfo=timezone.get_default_timezone())


def moment(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def day_runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days merged into [first, last] runs, in order."""
    runs: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == dt.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(a, b) for a, b in runs]


def moments_in(field: str, runs) -> Q:
    """The datetime `field` falls on one of the local days of `runs` (index-friendly ranges)."""
    q = Q()
    for first, last in runs:
        q |= Q(**{f"{field}__gte": moment(first), f"{field}__lt": moment(last + dt.timedelta(days=1))})
    return q


def days_in(runs) -> Q:
    """A rollup row's `day` is one of the days of `runs`."""
    q = Q()
    for first, last in runs:
        q |= Q(day__gte=first, day__lte=last)
    return q


@dataclass(frozen=True)
class Grouped:
    """One grouped SELECT feeding a rollup: its keys and values are named after rollup fields."""

    queryset: models.QuerySet
    columns: tuple[str, ...]


def grouped(queryset, keys: dict, values: dict) -> Grouped:
    """queryset grouped by `keys` with aggregates `values` (both {rollup field: expression}).

    The aliases get a prefix so they never clash with a field of the source model (sku, name).
    """
    rows = (
        queryset.values(**{f"r_{k}": e for k, e in keys.items()})
        .annotate(**{f"r_{k}": e for k, e in values.items()})
        .order_by()
    )
    return Grouped(rows, (*keys, *values))


def insert_grouped(
    model, *, keys: list[str], sums: list[str], maxes: tuple[str, ...] = (), parts: list[Grouped]
) -> None:
    """INSERT INTO model's table: the union of `parts`, grouped again by `keys`, summing `sums` and
    taking the MAX of the text `maxes`. A part without some column contributes 0 or ''."""
    qn = connection.ops.quote_name
    fillers = {**dict.fromkeys(sums, "0"), **dict.fromkeys(maxes, "''")}
    selects, params = [], []
    for i, part in enumerate(parts):
        try:
            sql, part_params = part.queryset.query.sql_with_params()
        except EmptyResultSet:  # a filter that can match nothing (no order on those days)
            continue
        columns = [
            f"{qn('r_' + c)} AS {qn(c)}" if c in part.columns else f"{fillers[c]} AS {qn(c)}"
            for c in [*keys, *sums, *maxes]
        ]
        selects.append(f"SELECT {', '.join(columns)} FROM ({sql}) AS {qn(f'part{i}')}")
        params.extend(part_params)
    if not selects:
        return
    opts = model._meta
    targets = ", ".join(qn(opts.get_field(c).column) for c in [*keys, *sums, *maxes])
    group_by = ", ".join(qn(c) for c in keys)
    aggregates = [f"COALESCE(SUM({qn(c)}), 0)" for c in sums] + [f"COALESCE(MAX({qn(c)}), '')" for c in maxes]
    sql = (
        f"INSERT INTO {qn(opts.db_table)} ({targets}) "
        f"SELECT {group_by}, {', '.join(aggregates)} "
        f"FROM ({' UNION ALL '.join(selects)}) AS {qn('parts')} GROUP BY {group_by}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from first to last, both included."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
