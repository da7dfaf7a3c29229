"""A paginator for admin lists over big tables: it never counts a whole large table.

Django's changelist asks its paginator for `count` on every page. On a table of a million rows
that is a full scan each time. This paginator:
- for an unfiltered list on PostgreSQL, reads the planner's row estimate (pg_class.reltuples),
  kept fresh by autovacuum, and only counts exactly when the table is small;
- otherwise counts at most CAP rows (`SELECT COUNT(*) FROM (... LIMIT CAP)`), so a broad filter
  shows "CAP" results and CAP / per_page pages: narrow the filter to go further.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class LargeTablePaginator(Paginator):
    CAP = 50_000
    EXACT_BELOW = 50_000  # count exactly when the estimate says the table is smaller than this

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not hasattr(qs, "query"):
            return super().count
        if not qs.query.where:
            estimate = self._estimate(qs)
            if estimate is not None and estimate >= self.EXACT_BELOW:
                return estimate
        return qs.order_by()[: self.CAP].count()

    @staticmethod
    def _estimate(qs) -> int | None:
        connection = connections[qs.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table]
            )
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] >= 0 else None
