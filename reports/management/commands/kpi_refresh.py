"""Queue a refresh of the KPI dashboard's rollups.

Optional: the dashboard refreshes them itself before every view. Scheduled, e.g. every 10
minutes from cron, it keeps that refresh small (the db_worker started by `scripts/serve` runs it):
    */10 * * * *  cd /srv/oms && .venv/bin/python manage.py kpi_refresh
"""

from django.core.management.base import BaseCommand

from reports.tasks import kpi_refresh_task


class Command(BaseCommand):
    help = "Queue a refresh of the KPI rollups with what changed since the last one."

    def handle(self, *args, **options):
        result = kpi_refresh_task.enqueue()
        self.stdout.write(self.style.SUCCESS(f"KPI rollup refresh queued (task {result.id})."))
