"""reports.exports: every export streams the columns docs/exports.md documents, computed columns
included."""

import datetime as dt
import re
from pathlib import Path

import pytest

from core.csv_stream import iso
from fulfillment.models import Shipment
from reports.exports import EXPORTS
from tests.factories import ProductFactory, stock_item

from .helpers import TRICKY_TEXT, export_to_file, one_of_everything, read_csv

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exports.md"


@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_every_export_streams_its_documented_columns(db, tmp_path, kind):
    one_of_everything()
    rows = read_csv(export_to_file(tmp_path, kind))
    assert rows, f"{kind} exported nothing"
    assert list(rows[0]) == EXPORTS[kind].headers
    docs = DOCS.read_text()
    section = docs.split(f"\n## `{kind}`", 1)[1].split("\n## ", 1)[0]
    for header in EXPORTS[kind].headers:
        assert re.search(rf"^\| `{header}` \|", section, re.M), f"{kind}.{header} is not documented"


def test_computed_columns(db, tmp_path):
    one_of_everything()
    line = read_csv(export_to_file(tmp_path, "order_lines"))[0]
    assert (line["line_total"], line["sku"]) == ("10.00", "'=CMD|' /C calc'!A0")
    stock_item(ProductFactory(sku="PLENTY"), on_hand=50, reorder_point=5)
    stock, plenty = read_csv(export_to_file(tmp_path, "stock_levels"))
    assert (plenty["sku"], plenty["available"], plenty["needs_reorder"]) == ("PLENTY", "50", "false")
    assert (stock["on_hand"], stock["reserved"], stock["available"], stock["needs_reorder"]) == (
        "7",
        "2",
        "5",
        "true",
    )
    movement = read_csv(export_to_file(tmp_path, "stock_movements"))[0]
    assert movement["quantity"] == "7"
    Shipment.objects.update(packed_at=dt.datetime(2026, 3, 4, 10, 0, 0, 500000, tzinfo=dt.UTC))
    shipment = read_csv(export_to_file(tmp_path, "shipments"))[0]
    saved = Shipment.objects.get()
    assert shipment["created_at"] == iso(saved.created_at.astimezone(dt.UTC))
    assert shipment["packed_at"] == "2026-03-04T10:00:00.5+00:00"
    assert (shipment["estimated_delivery"], shipment["shipped_at"]) == ("2026-03-05", "")
    request = read_csv(export_to_file(tmp_path, "returns"))[0]
    assert request["comment"] == TRICKY_TEXT  # commas, quotes and line breaks survive the round trip
    event = read_csv(export_to_file(tmp_path, "tracking_events"))[0]
    assert event["location"] == "'-Berlin"
    assert event["occurred_at"] == "2026-03-02T09:30:00+00:00"


# --- admin ---------------------------------------------------------------------------------------
