"""Streaming CSV: one row at a time to the client, safe to open in a spreadsheet."""

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_cell(value) -> str:
    """Render a value for CSV: ISO dates, plain decimals, formula-looking text neutralised."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(header: list[str], rows: Iterable[Iterable], *, bom: bool = False) -> Iterator[str]:
    writer = csv.writer(_Echo())
    if bom:
        yield BOM
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable], *, bom=False):
    response = StreamingHttpResponse(csv_lines(header, rows, bom=bom), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
