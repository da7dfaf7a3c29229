"""core.csv_stream: cells as spreadsheets read them safely (formulas neutralised, numbers kept,
ISO dates), typed rows, the BOM and the row count."""

import datetime as dt
from decimal import Decimal

from core.csv_stream import BOM, BOOLEAN, DATETIME, NUMBER, TEXT, csv_cell, csv_lines, neutralise


def test_formula_looking_text_is_prefixed_with_a_quote():
    assert neutralise('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert neutralise("+1 555 0100") == "'+1 555 0100"
    assert neutralise("-2+3") == "'-2+3"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tcmd") == "'\tcmd"
    assert neutralise("Ada") == "Ada"


def test_numbers_stay_numbers():
    assert neutralise("-12.50") == "-12.50"
    assert neutralise("+3") == "+3"
    assert csv_cell(-5) == "-5"
    assert csv_cell(Decimal("-0.50")) == "-0.50"


def test_dates_are_iso_and_none_is_empty():
    at = dt.datetime(2026, 3, 1, 14, 5, tzinfo=dt.UTC)
    assert csv_cell(at) == "2026-03-01T14:05:00+00:00"
    assert csv_cell(dt.date(2026, 3, 1)) == "2026-03-01"
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"


def test_fractions_of_a_second_lose_trailing_zeros():
    assert csv_cell(dt.datetime(2026, 3, 1, 14, 5, 0, 500000, tzinfo=dt.UTC)) == "2026-03-01T14:05:00.5+00:00"
    assert (
        csv_cell(dt.datetime(2026, 3, 1, 14, 5, 0, 123456, tzinfo=dt.UTC))
        == "2026-03-01T14:05:00.123456+00:00"
    )
    assert csv_cell(dt.datetime(2026, 3, 1, 14, 5, 0, 10, tzinfo=dt.UTC)) == "2026-03-01T14:05:00.00001+00:00"


def test_typed_rows_render_like_the_general_path():
    at = dt.datetime(2026, 3, 1, 14, 5, tzinfo=dt.UTC)
    rows = [("=1+1", at, True, -3, Decimal("9.99")), (None, None, None, None, None)]
    typed = "".join(
        csv_lines(["a", "b", "c", "d", "e"], rows, kinds=[TEXT, DATETIME, BOOLEAN, NUMBER, NUMBER])
    )
    general = "".join(csv_lines(["a", "b", "c", "d", "e"], rows))
    assert typed == general
    assert typed.splitlines()[1] == "'=1+1,2026-03-01T14:05:00+00:00,true,-3,9.99"
    assert typed.splitlines()[2] == ",,,,"


def test_bom_only_when_asked_and_rows_counted_once_at_the_end():
    counts = []
    chunks = list(
        csv_lines(["x"], [(i,) for i in range(5)], bom=True, batch_size=2, on_row_count=counts.append)
    )
    text = "".join(chunks)
    assert text.startswith(BOM + "x\r\n")
    assert text.count("\r\n") == 6
    assert len(chunks) == 3  # rows arrive in batches, not all at once
    assert counts == [5]
    assert not "".join(csv_lines(["x"], [])).startswith(BOM)
