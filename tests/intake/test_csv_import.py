"""Marketplace CSV import: whole orders or none, every problem reported with its row."""

import csv
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

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


# --- chunked import: settings.OMS["INTAKE_BATCH_SIZE"] orders per transaction --------------------
AMAZON_HEADER = [
    "order-id",
    "buyer-email",
    "buyer-name",
    "sku",
    "product-name",
    "quantity-purchased",
    "item-price",
    "currency",
    "recipient-name",
    "ship-address-1",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
]


def amazon_row(order_id, sku="WIDGET-1", qty="1", price="25.00", currency="USD") -> list[str]:
    """One line of an Amazon-style order report; each order has its own buyer (no suspected
    duplicates between them)."""
    email = f"buyer-{order_id.lower() or 'none'}@example.com"
    name = f"Buyer {order_id}"
    return [
        order_id,
        email,
        name,
        sku,
        sku.title(),
        qty,
        price,
        currency,
        name,
        "1 Main St",
        "Boston",
        "MA",
        "02110",
        "US",
    ]


def amazon_file(rows) -> bytes:
    return "\n".join("\t".join(row) for row in [AMAZON_HEADER, *rows]).encode() + b"\n"


def chunk_size(settings, size: int) -> None:
    settings.OMS = {**settings.OMS, "INTAKE_BATCH_SIZE": size}


def run_file(raw: bytes, name="orders.txt", **kwargs) -> ImportBatch:
    batch = import_batch_create(channel=marketplace_channel(), file_name=name, raw=raw)
    return import_batch_run(batch_id=batch.pk, **kwargs)


# 8 orders over 10 rows: M-5's two rows are apart (its second row is the file's last), M-3 names
# a product we don't have, M-4 has a bad quantity, one row has no order id.
EIGHT_ORDERS = amazon_file(
    [
        amazon_row("M-1"),
        amazon_row("M-1", sku="GADGET-2", price="10.00"),
        amazon_row("M-5", sku="GIZMO-3", price="4.50"),
        amazon_row("M-2", qty="2"),
        amazon_row("M-3", sku="NOPE-9"),
        amazon_row("", sku="GADGET-2"),
        amazon_row("M-4", qty="lots"),
        amazon_row("M-6"),
        amazon_row("M-7", sku="GADGET-2", price="10.00"),
        amazon_row("M-8"),
        amazon_row("M-5", sku="GADGET-2", qty="3", price="10.00"),
    ]
)


def test_a_file_bigger_than_one_chunk_imports_every_order_with_its_counts(settings, widgets):
    chunk_size(settings, 3)
    seen = []

    batch = run_file(EIGHT_ORDERS, progress=lambda result: seen.append(result.outcome))

    assert batch.status == "done" and (batch.rows_total, batch.orders_total, batch.orders_processed) == (
        11,
        8,
        8,
    )
    assert (batch.orders_created, batch.orders_held, batch.orders_invalid, batch.orders_duplicate) == (
        6,
        1,
        1,
        0,
    )
    assert batch.report == [
        {"row": 7, "order": "", "reason": "No order id."},
        {"row": 8, "order": "M-4", "reason": "Quantity “lots” is not a whole number."},
    ]
    assert seen == ["captured", "captured", "captured", "held", "invalid", "captured", "captured", "captured"]
    orders = {o.external_id: o for o in Order.objects.prefetch_related("lines")}
    assert {k: sorted((ln.sku, ln.quantity) for ln in o.lines.all()) for k, o in orders.items()} == {
        "M-1": [("GADGET-2", 1), ("WIDGET-1", 1)],
        "M-5": [("GADGET-2", 3), ("GIZMO-3", 1)],
        "M-2": [("WIDGET-1", 2)],
        "M-3": [("NOPE-9", 1)],
        "M-6": [("WIDGET-1", 1)],
        "M-7": [("GADGET-2", 1)],
        "M-8": [("WIDGET-1", 1)],
    }
    assert orders["M-3"].status == "on_hold" and orders["M-5"].total == Decimal("34.50")
    assert {o.status for k, o in orders.items() if k != "M-3"} == {"allocated"}
    # Every order's rows are kept raw with what became of it, for re-processing.
    inbound = {r.delivery_id: r for r in InboundRequest.objects.filter(import_batch=batch)}
    assert {k: (r.outcome, r.order_id) for k, r in inbound.items()} == {
        k: ("held" if k == "M-3" else "captured", orders[k].pk) for k in orders
    } | {"M-4": ("invalid", None)}
    assert inbound["M-4"].error == "row 8: Quantity “lots” is not a whole number."
    assert [line.split("\t")[0] for line in inbound["M-5"].body.splitlines()] == ["order-id", "M-5", "M-5"]


def test_the_chunk_size_changes_nothing_in_what_a_file_imports(settings, widgets):
    def imported(size: int) -> dict:
        chunk_size(settings, size)
        with transaction.atomic():
            batch = run_file(EIGHT_ORDERS)
            seen = {
                "batch": [getattr(batch, f) for f in ("orders_created", "orders_held", "orders_invalid")]
                + [batch.report],
                "orders": {
                    o.external_id: (
                        o.status,
                        o.total,
                        sorted((ln.sku, ln.quantity, ln.unit_price) for ln in o.lines.all()),
                        sorted(h.reason for h in o.holds.all()),
                    )
                    for o in Order.objects.all()
                },
                "inbound": sorted(
                    InboundRequest.objects.values_list("delivery_id", "outcome", "error", "body")
                ),
            }
            transaction.set_rollback(True)
        return seen

    assert imported(1) == imported(3) == imported(200)


def test_an_order_that_cant_be_captured_leaves_the_rest_of_its_chunk_captured(settings, widgets):
    chunk_size(settings, 10)
    raw = amazon_file([amazon_row("B-1"), amazon_row("B-2", currency="U$D"), amazon_row("B-3")])

    batch = run_file(raw)

    assert (batch.orders_created, batch.orders_invalid, batch.orders_processed) == (2, 1, 3)
    assert set(Order.objects.values_list("external_id", "status")) == {
        ("B-1", "allocated"),
        ("B-3", "allocated"),
    }
    reason = "currency: Currency must be a 3-letter ISO 4217 code."
    assert batch.report == [{"row": 3, "order": "B-2", "reason": reason}]
    refused = InboundRequest.objects.get(delivery_id="B-2")
    assert (refused.outcome, refused.error, refused.order_id) == ("invalid", reason, None)


def test_importing_a_file_again_finds_only_duplicates(settings, widgets):
    chunk_size(settings, 3)
    first = run_file(EIGHT_ORDERS)
    orders = dict(Order.objects.values_list("external_id", "pk"))

    again = run_file(EIGHT_ORDERS)

    assert Order.objects.count() == 7
    assert (again.orders_duplicate, again.orders_created, again.orders_held, again.orders_invalid) == (
        7,
        0,
        0,
        1,
    )
    assert again.report == first.report
    replays = InboundRequest.objects.filter(import_batch=again, outcome="duplicate")
    assert dict(replays.values_list("delivery_id", "order_id")) == orders


def test_a_fault_mid_file_keeps_what_was_captured_and_a_re_run_captures_the_rest_once(
    settings, widgets, monkeypatch
):
    """A capture that raises (not bad data: a fault, a deadlock) stops the import where it did
    when each order was captured on its own: the orders before it are kept, even in its chunk."""
    from intake import csv_import
    from intake.inbound import inbound_request_reprocess

    chunk_size(settings, 3)
    raw = amazon_file([amazon_row(f"C-{i}") for i in range(1, 8)])
    real_capture = csv_import.orders_capture

    def faulty_capture(requests):
        if any(r.data.external_id == "C-5" for r in requests):
            raise RuntimeError("connection lost")
        return real_capture(requests)

    monkeypatch.setattr(csv_import, "orders_capture", faulty_capture)
    with pytest.raises(RuntimeError, match="connection lost"):
        run_file(raw)
    monkeypatch.setattr(csv_import, "orders_capture", real_capture)

    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["C-1", "C-2", "C-3", "C-4"]
    stopped = ImportBatch.objects.get()
    assert (stopped.orders_processed, stopped.orders_created, stopped.orders_total) == (4, 4, 7)
    inbound = dict(InboundRequest.objects.values_list("delivery_id", "outcome"))
    assert inbound == {"C-1": "captured", "C-2": "captured", "C-3": "captured", "C-4": "captured"} | {
        "C-5": "received",
        "C-6": "received",
    }
    # Staff re-process the order that failed from the inbound request log...
    message = inbound_request_reprocess(inbound_id=InboundRequest.objects.get(delivery_id="C-5").pk)
    c5 = Order.objects.get(external_id="C-5")
    assert message == f"Captured as {c5.number} (allocated)."
    assert InboundRequest.objects.filter(delivery_id="C-5", outcome="captured", order=c5).exists()

    # ... and importing the file again captures the rest, nothing twice.
    batch = run_file(raw)
    assert (batch.orders_duplicate, batch.orders_created) == (5, 2)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == [f"C-{i}" for i in range(1, 8)]


def test_staff_watching_a_running_import_see_its_counts_move_chunk_by_chunk(settings, widgets):
    chunk_size(settings, 2)
    raw = amazon_file([amazon_row(f"P-{i}") for i in range(1, 6)])
    watched = []

    def watch(result):
        batch = ImportBatch.objects.get()
        watched.append((batch.status, batch.orders_processed, batch.orders_total, Order.objects.count()))

    run_file(raw, progress=watch)

    assert [w[1:] for w in watched[::2]] == [(2, 5, 2), (4, 5, 4), (5, 5, 5)]
    assert {w[0] for w in watched} == {"running"}


def test_the_imports_own_statements_are_per_chunk_whatever_the_orders_in_it(settings, widgets, monkeypatch):
    """Apart from what orders_capture runs, a chunk costs the same statements for 2 orders or 10:
    one insert of its inbound requests, one update of their outcomes, one of the batch's counts."""
    from intake import csv_import

    chunk_size(settings, 10)
    real_capture = csv_import.orders_capture

    def own_statements(prefix: str, orders: int) -> tuple[list[str], list[int]]:
        inside, calls = [], []  # inside: where each capture's statements lie in the connection's log

        def counted_capture(requests):
            calls.append(len(requests))
            with CaptureQueriesContext(connection) as capture:
                results = real_capture(requests)
            inside.append(range(capture.initial_queries, capture.final_queries))
            return results

        monkeypatch.setattr(csv_import, "orders_capture", counted_capture)
        skus = ["WIDGET-1", "GADGET-2"]
        batch = import_batch_create(
            channel=marketplace_channel(),
            file_name=f"{prefix}.txt",
            raw=amazon_file([amazon_row(f"{prefix}-{i}", sku=skus[i % 2]) for i in range(orders)]),
        )
        with CaptureQueriesContext(connection) as everything:
            import_batch_run(batch_id=batch.pk)
        first = everything.initial_queries
        own = [
            q["sql"]
            for i, q in enumerate(everything.captured_queries, start=first)
            if not any(i in captured for captured in inside)
        ]
        return own, calls

    def writes(sql: list[str], verb: str, table: str) -> int:
        return sum(1 for s in sql if s.startswith(verb) and f'"{table}"' in s.split("(")[0].split(" SET ")[0])

    two, two_calls = own_statements("A", 2)
    ten, ten_calls = own_statements("B", 10)
    twenty, twenty_calls = own_statements("C", 20)
    thirty, thirty_calls = own_statements("D", 25)

    assert (two_calls, ten_calls, twenty_calls, thirty_calls) == ([2], [10], [10, 10], [10, 10, 5])
    assert len(two) == len(ten), "\n".join(["2 orders:", *two, "10 orders:", *ten])
    per_chunk = len(twenty) - len(ten)
    assert len(thirty) - len(twenty) == per_chunk, "\n".join(twenty + ["---"] + thirty)
    for sql, chunks in [(ten, 1), (twenty, 2), (thirty, 3)]:
        assert writes(sql, "INSERT INTO", "orders_inboundrequest") == chunks, "\n".join(sql)
        assert writes(sql, "UPDATE", "orders_inboundrequest") == chunks, "\n".join(sql)
        assert writes(sql, "UPDATE", "orders_importbatch") == chunks + 2, "\n".join(sql)  # + running, done
