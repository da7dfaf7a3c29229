"""What the export tests share: reading a CSV back, and one row of every kind to export."""

import csv
import datetime as dt
import io
from decimal import Decimal

from django.core.management import call_command

from inventory.models import Product
from tests.factories import (
    OrderLineFactory,
    ProductFactory,
    RefundFactory,
    ReturnLineFactory,
    ShipmentFactory,
    TrackingEventFactory,
    stock_item,
)

TRICKY_TEXT = 'Größe 42, "zu klein"\r\nzweite Zeile'


def export_to_file(tmp_path, *args) -> str:
    out = tmp_path / "out.csv"
    call_command("export", *args, "--output", str(out), stdout=open(tmp_path / "log.txt", "w"))  # noqa: SIM115
    with out.open(encoding="utf-8", newline="") as f:  # keep the CSV's own line endings
        return f.read()


def one_of_everything():
    product = ProductFactory(sku=f"=CMD|' /C calc'!A{Product.objects.count()}", name="Widget")
    line = OrderLineFactory(
        product=product, sku=product.sku, unit_price=Decimal("2.50"), quantity=4, quantity_shipped=4
    )
    shipment = ShipmentFactory(order=line.order, estimated_delivery=dt.date(2026, 3, 5))
    TrackingEventFactory(shipment=shipment, location="-Berlin")
    ReturnLineFactory(
        order_line=line, return_request__order=line.order, return_request__comment=TRICKY_TEXT, quantity=2
    )
    RefundFactory(order=line.order, amount=Decimal("5.00"))
    stock_item(product, on_hand=7, reserved=2, reorder_point=5)


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def streamed_text(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")
