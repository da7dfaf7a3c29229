"""Process the inbound requests waiting as received (webhook deliveries, asynchronous API creates):
batch after batch, in arrival order (intake/work.py). Without --loop it stops when nothing is
left; with --loop it waits --idle-sleep seconds and looks again, until SIGTERM or SIGINT, which
let the batch under way finish. Several may run at once: they share the work channel by channel."""

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError, close_old_connections

from intake.work import intake_work

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Process received webhook deliveries and asynchronous API orders, in batches, in arrival order."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running; wait when nothing is pending.")
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="Requests per batch (transaction); OMS_INTAKE_BATCH_SIZE by default.",
        )
        parser.add_argument(
            "--idle-sleep", type=float, default=0.5, help="Seconds to wait when nothing is pending (--loop)."
        )

    def handle(self, *args, loop: bool = False, batch: int | None = None, idle_sleep: float = 0.5, **options):
        if batch is None:
            batch = settings.OMS["INTAKE_BATCH_SIZE"]
        if batch < 1 or idle_sleep < 0:
            raise CommandError("--batch must be at least 1 and --idle-sleep not negative.")
        stop = threading.Event()
        if loop:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        total = 0
        while not stop.is_set():
            if loop:
                close_old_connections()  # CONN_MAX_AGE and health checks, as between web requests
            try:
                taken = intake_work(batch=batch, max_batches=1 if loop else None)
            except (OperationalError, InterfaceError):
                if not loop:
                    raise
                logger.exception("The database failed the intake worker; trying again")
                stop.wait(max(idle_sleep, 1.0))
                continue
            total += taken
            if taken and options["verbosity"] > 1:
                self.stdout.write(f"{taken} inbound requests processed.")
            if not loop:
                break
            if not taken:
                stop.wait(idle_sleep)
        self.stdout.write(f"{total} inbound requests processed.")
