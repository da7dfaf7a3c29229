"""Streaming CSV: rows go out in batches as they are read, safe to open in a spreadsheet.

Cells are rendered the same way everywhere: ISO 8601 dates, plain decimals, `true`/`false`,
empty for NULL, and text that a spreadsheet would run as a formula (starting with =, +, -, @,
tab or carriage return) prefixed with a quote. Numbers stay numbers: an int or Decimal column
is never touched, nor is text that is just a signed number such as "-12.50".
"""

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import islice

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?\Z")

# How a column's values are rendered; the export picks one per column from the field type, so
# the per-row loop does no type dispatch.
TEXT = "text"
DATETIME = "datetime"
DATE = "date"
RAW = "raw"  # already rendered (by the database): written as it is
LINE = "line"  # the only kind of a row that is one finished CSV line (rendered by the database)
BOOLEAN = "boolean"
NUMBER = "number"
MONEY = "money"  # a computed amount: always two decimal places


def neutralise(text: str) -> str:
    """Prefix formula-looking text with a quote; leave plain signed numbers alone."""
    if text and text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_cell(value) -> str:
    """Render one value of unknown type for CSV (the slow, general path)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return iso(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)
    return neutralise(str(value))


def _text(value):
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return neutralise(text)


def iso(value: dt.date) -> str:
    """ISO 8601; a fraction of a second without trailing zeros (14:05:00.5, as PostgreSQL has it)."""
    text = value.isoformat()
    if isinstance(value, dt.datetime) and value.microsecond:
        head, dot, rest = text.partition(".")
        digits, offset = rest[:6], rest[6:]
        text = f"{head}{dot}{digits.rstrip('0')}{offset}"
    return text


def _datetime(value):
    return "" if value is None else iso(value)


def _boolean(value):
    if value is None:
        return ""
    return "true" if value else "false"


def _money(value):
    return "" if value is None else f"{value:.2f}"


_RENDERERS: dict[str, Callable | None] = {
    TEXT: _text,
    DATETIME: _datetime,
    DATE: _datetime,
    RAW: None,
    LINE: None,
    BOOLEAN: _boolean,
    MONEY: _money,
    NUMBER: None,  # the csv module writes ints and Decimals as they are, and None as ""
}


def row_renderer(kinds: Sequence[str]) -> Callable[[Sequence], list] | None:
    """A function that renders one row whose columns have the given kinds; None if no column
    needs rendering (numbers and RAW text go to the csv module as they are)."""
    converters = [(i, _RENDERERS[k]) for i, k in enumerate(kinds) if _RENDERERS[k] is not None]
    if not converters:
        return None

    def render(row: Sequence) -> list:
        out = list(row)
        for i, convert in converters:
            out[i] = convert(out[i])
        return out

    return render


def csv_lines(
    header: list[str],
    rows: Iterable[Sequence],
    *,
    bom: bool = False,
    kinds: Sequence[str] | None = None,
    batch_size: int = 1000,
    on_row_count: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Yield the CSV text in chunks of `batch_size` rows.

    With `kinds` (TEXT, DATETIME, DATE, BOOLEAN, NUMBER, MONEY or RAW per column) rendering is
    typed and fast; without, every cell goes through `csv_cell`; kinds == [LINE] means each row
    is a 1-tuple holding a finished line. `on_row_count(n)` is called
    once, after the last row, with the number of data rows written.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    render = (lambda row: [csv_cell(v) for v in row]) if kinds is None else row_renderer(kinds)
    if bom:
        buffer.write(BOM)
    writer.writerow(header)
    count = 0
    it = iter(rows)
    whole_lines = kinds is not None and list(kinds) == [LINE]
    while batch := list(islice(it, batch_size)):
        if whole_lines:
            buffer.write("\r\n".join([row[0] for row in batch]))
            buffer.write("\r\n")
        else:
            writer.writerows(batch if render is None else map(render, batch))
        count += len(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail
    if on_row_count is not None:
        on_row_count(count)


def csv_response(filename: str, header: list[str], rows: Iterable[Sequence], *, bom=False, **kwargs):
    """A streamed CSV download; `kwargs` go to csv_lines (kinds, on_row_count, batch_size)."""
    response = StreamingHttpResponse(
        csv_lines(header, rows, bom=bom, **kwargs), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
