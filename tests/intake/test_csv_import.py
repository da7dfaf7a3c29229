"""Marketplace CSV import: whole orders or none, every problem reported with its row."""

import csv
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from intake.csv_import import import_batch_create, import_batch_run, marketplace_channel
from intake.models import ImportBatch, InboundRequest
from orders.models import Order
from tests.factories import ProductFactory, stock_put

from .conftest import FIXTURES

pytestmark = pytest.mark.django_db
UCI = FIXTURES / "datasets" / "spark-definitive-guide__retail-data_by-day_2010-12-01.csv"


def test_uci_day_of_invoices_imports_whole_orders_and_reports_the_rest():
    rows = list(csv.DictReader(UCI.open(encoding="utf-8")))
    out = StringIO()

    call_command("import_orders", str(UCI), stdout=out, stderr=StringIO())

    batch = ImportBatch.objects.get()
    assert (batch.rows_total, batch.orders_total, batch.orders_processed) == (3108, 143, 143)
    # 6 cancellation invoices (C..., negative quantities) are skipped and reported;
    # invoice 536589 holds a -10 stock write-off row and is refused whole.
    assert (batch.orders_skipped, batch.orders_invalid) == (6, 1)
    assert batch.orders_held == 136 and batch.orders_created == 0  # no e-mail, street or products here
    reported = {p["order"] for p in batch.report}
    assert {inv for inv in {r["InvoiceNo"] for r in rows} if inv.startswith("C")} <= reported
    assert {"row": 2408, "order": "536589", "reason": "Quantity -10 is not a positive number of units."} in (
        batch.report
    )
    assert "136 captured on hold" in out.getvalue() and "row 2408" in out.getvalue()

    # Never half an order: every imported invoice has exactly its rows as lines.
    expected = Counter(r["InvoiceNo"] for r in rows)
    orders = Order.objects.filter(channel__code="marketplace").prefetch_related("lines")
    assert {o.external_id: o.lines.count() for o in orders} == {
        inv: n for inv, n in expected.items() if not inv.startswith("C") and inv != "536589"
    }
    first = Order.objects.get(external_id="536365")
    assert first.customer_name == "Customer 17850"  # CustomerID 17850.0 in the file
    assert first.currency == "GBP" and first.subtotal == Decimal("139.12")
    assert {h.reason for h in first.holds.all()} == {"incomplete", "address", "unknown_sku"}
    eire = {r["InvoiceNo"] for r in rows if r["Country"] == "EIRE"}
    assert set(
        Order.objects.filter(external_id__in=eire).values_list("shipping_address__country", flat=True)
    ) == {"IE"}
    anonymous = next(
        r["InvoiceNo"] for r in rows if not r["CustomerID"] and not r["InvoiceNo"].startswith("C")
    )
    assert Order.objects.get(external_id=anonymous).customer_name == ""
    assert InboundRequest.objects.filter(source="csv").count() == 143

    # Importing the same file again captures nothing twice.
    call_command("import_orders", str(UCI), stdout=StringIO(), stderr=StringIO())
    assert Order.objects.count() == 136
    assert ImportBatch.objects.latest("pk").orders_duplicate == 136


MARKETPLACE = (
    "amazon-order-id\tpurchase-date\tbuyer-email\tbuyer-name\tsku\tproduct-name\tquantity-purchased\t"
    "item-price\tcurrency\trecipient-name\tship-address-1\tship-city\tship-state\tship-postal-code\tship-country\n"
    "111-1\t2024-05-01T10:00:00Z\tann@example.com\tAnn\tWIDGET-1\tWidget\t2\t25.00\tUSD\tAnn Lee\t1 Main St\t"
    "Boston\tMA\t02110\tUS\n"
    "111-1\t2024-05-01T10:00:00Z\tann@example.com\tAnn\tGADGET-2\tGadget\t1\t10.00\tUSD\tAnn Lee\t1 Main St\t"
    "Boston\tMA\t02110\tUS\n"
    "222-2\t2024-05-01T11:00:00Z\tbo@example.com\tBo\tWIDGET-1\tWidget\t1\t25.00\tUSD\tBo\t2 Side St\t"
    "Austin\tTX\t73301\tUS\n"
    "222-2\t2024-05-01T11:00:00Z\tbo@example.com\tBo\tGADGET-2\tGadget\tlots\t10.00\tUSD\tBo\t2 Side St\t"
    "Austin\tTX\t73301\tUS\n"
    "\t2024-05-01T11:00:00Z\tcy@example.com\tCy\tGADGET-2\tGadget\t1\t10.00\tUSD\tCy\t3 St\t"
    "Austin\tTX\t73301\tUS\n"
)


def test_marketplace_layout_imports_valid_orders_and_refuses_invalid_ones_whole(warehouse):
    for sku in ["WIDGET-1", "GADGET-2"]:
        stock_put(ProductFactory(sku=sku), warehouse, 10)
    batch = import_batch_create(
        channel=marketplace_channel(), file_name="amazon.txt", raw=MARKETPLACE.encode()
    )

    batch = import_batch_run(batch_id=batch.pk)

    assert batch.layout == "marketplace"
    assert (batch.orders_created, batch.orders_invalid) == (1, 1)
    order = Order.objects.get()
    assert order.external_id == "111-1" and order.status == "allocated"
    assert order.total == Decimal("60.00") and order.shipping_address.postal_code == "02110"
    assert {"row": 5, "order": "222-2", "reason": "Quantity “lots” is not a whole number."} in batch.report
    assert {"row": 6, "order": "", "reason": "No order id."} in batch.report
    assert not Order.objects.filter(external_id="222-2").exists()


def test_file_without_the_needed_columns_is_refused_before_anything_is_stored():
    from intake.csv_import import ImportFileError

    with pytest.raises(ImportFileError, match="order_id"):
        import_batch_create(channel=marketplace_channel(), file_name="x.csv", raw=b"name,price\nA,1\n")
    assert ImportBatch.objects.count() == 0
