"""`manage.py kpi_rebuild` — recompute the KPI dashboard's daily rollups from scratch.

Needed only when data reached the database around the services (a restore, a bulk import
in SQL): the dashboard brings the rollups up to date by itself otherwise, and rebuilds them
the first time it finds none. Shows a progress bar when stderr is a terminal.
"""

import time

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize
from tqdm import tqdm

from reports.rollups import BATCH_DAYS, kpi_rebuild


class Command(BaseCommand):
    help = "Recompute every day of the KPI dashboard's rollups from orders, shipments and returns."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-days",
            type=int,
            default=BATCH_DAYS,
            help=f"Days recomputed per transaction (default {BATCH_DAYS}).",
        )
        parser.add_argument(
            "--progress",
            choices=["auto", "always", "never"],
            default="auto",
            help="Progress bar on stderr (auto: only on a terminal).",
        )

    def handle(self, *args, batch_days, progress, **options):
        show = progress == "always" or (progress == "auto" and self.stderr.isatty())
        bar = tqdm(unit=" days", desc="KPI rollups", file=self.stderr._out, disable=not show)

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        started = time.perf_counter()
        try:
            result = kpi_rebuild(batch_days=max(batch_days, 1), progress=advance)
        finally:
            bar.close()
        self.stdout.write(
            f"KPI rollups rebuilt: {result.placed_days} day{pluralize(result.placed_days)} "
            f"in {time.perf_counter() - started:.1f} s."
        )
