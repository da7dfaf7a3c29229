"""`manage.py export` (reports/management/commands/export.py): documented headers, ISO dates and
neutralised cells, a BOM and a date range, the summary kept out of the CSV, bad input refused
without a log row, a progress bar on stderr."""

import pytest
from django.core.management import CommandError, call_command

from core.csv_stream import BOM
from reports.exports import EXPORTS
from reports.models import ExportLog

from .helpers import export_to_file, read_csv


def test_command_writes_documented_headers_iso_dates_and_neutralised_cells(orders, tmp_path):
    evil, shipped, _ = orders
    text = export_to_file(tmp_path, "orders")
    assert not text.startswith(BOM)
    assert text.splitlines()[0].split(",") == EXPORTS["orders"].headers
    rows = {r["number"]: r for r in read_csv(text)}
    assert len(rows) == 3
    assert rows[evil.number]["customer_name"] == "'" + evil.customer_name
    assert rows[evil.number]["placed_at"] == "2026-03-01T14:05:00+00:00"
    assert rows[evil.number]["total"] == "42.50"
    assert rows[evil.number]["channel"] == "web"
    assert rows[evil.number]["shipped_at"] == ""
    assert rows[shipped.number]["customer_name"] == "Zoë Ünicode"
    assert rows[shipped.number]["shipped_at"] == "2026-03-04T14:05:00+00:00"
    log = ExportLog.objects.get()
    assert (log.kind, log.source, log.row_count, log.user) == ("orders", "command", 3, None)
    assert log.finished_at is not None


def test_command_bom_and_date_range(orders, tmp_path):
    text = export_to_file(tmp_path, "orders", "--bom", "--since", "2026-03-02", "--until", "2026-03-03")
    assert text.startswith(BOM + "number,")
    assert [r["number"] for r in read_csv(text.removeprefix(BOM))] == [orders[1].number]
    assert ExportLog.objects.get().query == "since=2026-03-02&until=2026-03-03"


def test_command_to_stdout_keeps_the_summary_out_of_the_csv(orders, capsys):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("export", "orders", stdout=out, stderr=err)
    assert len(read_csv(out.getvalue())) == 3
    assert "Exported 3 orders to stdout." in err.getvalue()
    assert "Exported" not in out.getvalue()


@pytest.mark.parametrize(
    "args, message",
    [
        (["orders", "--since", "yesterday"], "is not a date"),
        (["orders", "--since", "2026-03-05", "--until", "2026-03-01"], "must be before"),
        (["stock_levels", "--since", "2026-03-01"], "snapshot"),
        (["orders", "--user", "nobody"], "No user named"),
    ],
)
def test_command_refuses_bad_input_without_writing_a_log(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not ExportLog.objects.exists()


def test_command_progress_bar_goes_to_stderr(orders, tmp_path):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command(
        "export", "orders", "-o", str(tmp_path / "o.csv"), "--progress", "always", stdout=out, stderr=err
    )
    assert "100%" in err.getvalue() and "3.00/3.00" in err.getvalue()  # tqdm: rows done/total
    assert "Exported 3 orders to" in out.getvalue()
    assert len(read_csv((tmp_path / "o.csv").read_text(encoding="utf-8"))) == 3
