"""Hand back deliveries whose worker died and queue the ones that are due (cron: every minute)."""

import time

from django.core.management.base import BaseCommand

from core.outbox.services import delivery_sweep


class Command(BaseCommand):
    help = "Queue due deliveries and take back attempts whose worker stopped (run every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="Repeat every this many seconds.")

    def handle(self, *args, loop: float = 0, **options):
        while True:
            queued = delivery_sweep()
            if queued or not loop:
                self.stdout.write(f"{queued} deliveries queued.")
            if not loop:
                return
            time.sleep(loop)
