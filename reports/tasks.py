"""Background jobs of reports, run through django.tasks (a db_worker in production)."""

from django.tasks import task

from .rollups import kpi_refresh


@task
def kpi_refresh_task() -> dict:
    """Bring the KPI rollups up to date (queued by `manage.py kpi_refresh`, e.g. from cron, so the
    dashboard's own refresh finds little left to do). Returns what was recomputed."""
    result = kpi_refresh()
    return {
        "placed_days": result.placed_days,
        "shipped_days": result.shipped_days,
        "rebuilt": result.rebuilt,
        "waited": result.waited,
    }
