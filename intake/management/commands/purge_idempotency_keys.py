"""Delete Idempotency-Key replay records older than OMS_IDEMPOTENCY_KEY_DAYS. Run it daily."""

from django.conf import settings
from django.core.management.base import BaseCommand

from intake.idempotency import idempotency_records_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than OMS_IDEMPOTENCY_KEY_DAYS (inbound requests stay)."

    def handle(self, *args, **options):
        deleted = idempotency_records_purge()
        days = settings.OMS["IDEMPOTENCY_KEY_DAYS"]
        self.stdout.write(f"Deleted {deleted} Idempotency-Key records older than {days} days.")
