from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from intake.csv_import import (
    LAYOUTS,
    ImportFileError,
    import_batch_create,
    import_batch_run,
    marketplace_channel,
)


class Command(BaseCommand):
    help = (
        "Import a marketplace CSV: rows are grouped into orders by the order-id column, each order "
        "captured whole or reported with its rows and reasons."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (or tab-separated) file")
        parser.add_argument("--channel", default="marketplace", help="channel code, created if missing")
        parser.add_argument("--layout", default="auto", choices=["auto", *LAYOUTS])

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        channel = marketplace_channel(options["channel"])
        try:
            batch = import_batch_create(
                channel=channel, file_name=path.name, raw=path.read_bytes(), layout=options["layout"]
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        with tqdm(total=batch.orders_total, unit="order", desc=path.name, file=self.stderr._out) as bar:
            batch = import_batch_run(batch_id=batch.pk, progress=lambda result: bar.update(1))
        if batch.error:
            raise CommandError(batch.error)
        self.stdout.write(
            f"{batch.rows_total} rows, {batch.orders_total} orders ({batch.layout} layout) into "
            f"{channel.code}: {batch.orders_created} captured, {batch.orders_held} captured on hold, "
            f"{batch.orders_duplicate} already imported, {batch.orders_invalid} invalid, "
            f"{batch.orders_skipped} cancellation invoices skipped."
        )
        for problem in batch.report:
            self.stdout.write(
                f"  row {problem['row']} (order {problem['order'] or '—'}): {problem['reason']}"
            )
