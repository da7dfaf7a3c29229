"""`manage.py export KIND` — stream one of the CSV exports to a file or stdout.

Shows a progress bar when stderr is a terminal; every run is recorded in the export log.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from reports.exceptions import ExportRangeInvalid
from reports.exports import EXPORTS, export_rows
from reports.models import ExportLog
from reports.services import export_log_start, export_queryset_in_range, export_stream

PROGRESS_STEP = 1000


class Command(BaseCommand):
    help = "Export CSV: " + ", ".join(EXPORTS) + ". Columns are described in docs/exports.md."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(EXPORTS), help="Which export.")
        parser.add_argument("--output", "-o", default="-", help="File to write (default: stdout).")
        parser.add_argument("--bom", action="store_true", help="Start with a UTF-8 BOM (for Excel).")
        parser.add_argument("--since", default="", help="From this date (YYYY-MM-DD), included.")
        parser.add_argument("--until", default="", help="Up to this date (YYYY-MM-DD), included.")
        parser.add_argument("--user", default="", help="Username recorded in the export log.")
        parser.add_argument(
            "--progress",
            choices=["auto", "always", "never"],
            default="auto",
            help="Progress bar on stderr (auto: only on a terminal).",
        )

    def handle(self, *args, kind, output, bom, since, until, user, progress, **options):
        export = EXPORTS[kind]
        try:
            queryset = export_queryset_in_range(export=export, since=since, until=until)
        except ExportRangeInvalid as exc:
            raise CommandError(str(exc)) from exc
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user named “{user}”.")
        query = "&".join(f"{k}={v}" for k, v in [("since", since), ("until", until)] if v)
        show = progress == "always" or (progress == "auto" and self.stderr.isatty())
        bar = tqdm(
            total=queryset.count() if show else None,
            unit=" rows",
            unit_scale=True,
            desc=kind,
            file=self.stderr._out,
            disable=not show,
        )
        counted = {"rows": 0}

        def rows():
            n = 0
            for row in export_rows(export, queryset):
                yield row
                n += 1
                if n % PROGRESS_STEP == 0:
                    bar.update(PROGRESS_STEP)
            bar.update(n % PROGRESS_STEP)
            counted["rows"] = n

        try:
            out = None if output == "-" else open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Can't write {output}: {exc.strerror}") from exc
        write = (lambda chunk: self.stdout.write(chunk, ending="")) if out is None else out.write
        log = export_log_start(user=actor, export=export, source=ExportLog.Source.COMMAND, query=query)
        try:
            for chunk in export_stream(export=export, queryset=queryset, log=log, bom=bom, rows=rows()):
                write(chunk)
        finally:
            bar.close()
            if out is not None:
                out.close()
        where = "stdout" if output == "-" else output
        message = f"Exported {counted['rows']} {export.label} to {where}."
        # With the CSV on stdout, the summary must not end up inside it.
        (self.stderr if output == "-" else self.stdout).write(message)
