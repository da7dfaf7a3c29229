"""Queue the daily low-stock digest for managers.

Schedule it once a day, e.g. with cron (the db_worker started by `scripts/serve` sends it):
    0 7 * * *  cd /srv/oms && .venv/bin/python manage.py send_low_stock_digest
"""

from django.core.management.base import BaseCommand

from inventory.tasks import send_low_stock_digest


class Command(BaseCommand):
    help = "Queue the e-mail listing stock items at or below their reorder point to managers."

    def handle(self, *args, **options):
        result = send_low_stock_digest.enqueue()
        self.stdout.write(self.style.SUCCESS(f"Low-stock digest queued (task {result.id})."))
