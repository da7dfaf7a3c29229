"""Marketplace CSV import: rows grouped into orders by an order-id column, each order captured
on its own (all its rows or none), every problem reported with its row number.

Layouts (picked from the header when not given):
- `uci`: the UCI "Online Retail" export (InvoiceNo, StockCode, Description, Quantity,
  InvoiceDate, UnitPrice, CustomerID, Country). Prices are GBP. It has no e-mail or street
  address, so its orders are captured on hold for staff to complete. Invoices starting with `C`
  are cancellations of earlier invoices (negative quantities): they are not orders, so they are
  skipped and listed in the report; staff cancel the original order if it was imported.
- `marketplace`: one row per line with the order's details repeated (order_id, email, ship_*,
  sku, quantity, unit_price, ...); common marketplace header spellings (Amazon's `order-id`,
  `buyer-email`, `quantity-purchased`, `item-price`, `ship-postal-code` ...) are understood, and
  tab-separated files too.
Products we don't have are not refused: the order is captured on hold with the unknown SKU, so
staff can add the product or a SKU mapping and re-process it.
"""

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F
from django.tasks import task
from django.utils import timezone

from core.exceptions import DomainError
from core.money import quantize, to_decimal
from orders.exceptions import CaptureError
from orders.inputs import AddressInput, OrderInput
from orders.models import Channel, Order, OrderHold

from .countries import country_code
from .inbound import Outcome, inbound_request_finish, inbound_request_record, intake_capture
from .mapping import lines_resolved, speed_from_title, when
from .models import ImportBatch, InboundRequest


class ImportFileError(DomainError):
    """The file can't be imported."""


# canonical field -> header spellings (compared lower-case, with spaces and dashes as "_")
MARKETPLACE_COLUMNS = {
    "order_id": ["order_id", "amazon_order_id", "order_number", "order", "orderid", "order_no"],
    "placed_at": ["placed_at", "order_date", "purchase_date", "date", "created_at"],
    "email": ["email", "buyer_email", "customer_email"],
    "customer_name": ["customer_name", "buyer_name", "customer"],
    "phone": ["phone", "buyer_phone_number", "ship_phone_number"],
    "ship_name": ["ship_name", "recipient_name", "shipping_name"],
    "ship_line1": ["ship_line1", "ship_address_1", "address1", "address_line_1", "shipping_address"],
    "ship_line2": ["ship_line2", "ship_address_2", "address2", "address_line_2"],
    "ship_city": ["ship_city", "city"],
    "ship_region": ["ship_region", "ship_state", "state", "region"],
    "ship_postal_code": ["ship_postal_code", "postal_code", "postcode", "zip"],
    "ship_country": ["ship_country", "country", "country_code"],
    "sku": ["sku", "seller_sku", "product_sku", "stockcode"],
    "product_name": ["product_name", "title", "description", "item_name"],
    "quantity": ["quantity", "quantity_purchased", "qty"],
    "unit_price": ["unit_price", "item_price", "price", "unitprice"],
    "currency": ["currency"],
    "shipping_total": ["shipping_total", "shipping_price", "shipping"],
    "tax_total": ["tax_total", "item_tax", "tax"],
    "payment_method": ["payment_method"],
    "payment_status": ["payment_status"],
    "shipping_speed": ["shipping_speed", "ship_service_level", "ship_service"],
}
UCI_COLUMNS = {
    "order_id": ["invoiceno"],
    "sku": ["stockcode"],
    "product_name": ["description"],
    "quantity": ["quantity"],
    "placed_at": ["invoicedate"],
    "unit_price": ["unitprice"],
    "customer_id": ["customerid"],
    "ship_country": ["country"],
}
LAYOUTS = {"uci": UCI_COLUMNS, "marketplace": MARKETPLACE_COLUMNS}
LAYOUT_CHOICES = [
    ("auto", "Detect from the header"),
    ("uci", "UCI Online Retail"),
    ("marketplace", "Marketplace"),
]


def _norm(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", (header or "").strip().lower().lstrip("\ufeff"))


def detect_layout(headers: list[str]) -> str:
    names = {_norm(h) for h in headers}
    if {"invoiceno", "stockcode", "unitprice"} <= names:
        return "uci"
    return "marketplace"


def column_map(headers: list[str], layout: str) -> dict[str, str]:
    """canonical field -> the file's header for it. Raises ImportFileError when a required one
    is missing."""
    by_norm = {_norm(h): h for h in headers}
    mapping = {}
    for canonical, spellings in LAYOUTS[layout].items():
        for spelling in spellings:
            if spelling in by_norm:
                mapping[canonical] = by_norm[spelling]
                break
    missing = [f for f in ("order_id", "sku", "quantity", "unit_price") if f not in mapping]
    if missing:
        raise ImportFileError(
            f"The header has no column for: {', '.join(missing)} (layout {layout}). "
            f"Columns found: {', '.join(headers)}."
        )
    return mapping


def decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


@dataclass
class Group:
    order_id: str
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (row number in file, row)


@dataclass
class ParsedFile:
    layout: str
    headers: list[str]
    columns: dict[str, str]
    groups: list[Group]
    row_errors: list[dict]
    delimiter: str
    rows_total: int


def parse_file(content: str, layout: str = "auto") -> ParsedFile:
    """Read the file and group its rows by order id, in the order they first appear."""
    content = content.replace("\x00", "")
    first_line = content.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(content), delimiter=delimiter)
    headers = [h for h in (reader.fieldnames or []) if h is not None]
    if not headers:
        raise ImportFileError("The file is empty or has no header row.")
    layout = detect_layout(headers) if layout in ("", "auto") else layout
    if layout not in LAYOUTS:
        raise ImportFileError(f"Unknown layout “{layout}”: use {', '.join(LAYOUTS)}.")
    columns = column_map(headers, layout)
    groups: dict[str, Group] = {}
    errors = []
    total = 0
    try:
        for number, row in enumerate(reader, start=2):
            total += 1
            order_id = (row.get(columns["order_id"]) or "").strip()
            if not order_id:
                errors.append({"row": number, "order": "", "reason": "No order id."})
                continue
            groups.setdefault(order_id, Group(order_id)).rows.append((number, row))
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV near row {total + 2}: {exc}") from None
    return ParsedFile(layout, headers, columns, list(groups.values()), errors, delimiter, total)


def group_csv(parsed: ParsedFile, group: Group) -> str:
    """The group's rows as CSV text with the header: what is stored as its inbound request."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=parsed.headers, delimiter=parsed.delimiter, extrasaction="ignore")
    writer.writeheader()
    for _, row in group.rows:
        writer.writerow(row)
    return out.getvalue()


class RowProblems(Exception):
    def __init__(self, problems: list[dict]):
        self.problems = problems


def _value(row, columns, name) -> str:
    header = columns.get(name)
    return (row.get(header) or "").strip() if header else ""


def _amount(text: str, what: str, row_number: int, problems: list) -> Decimal:
    if not text:
        return Decimal("0.00")
    try:
        value = quantize(to_decimal(text))
    except (ValueError, ArithmeticError):
        problems.append((row_number, f"{what} “{text}” is not an amount."))
        return Decimal("0.00")
    if value < 0:
        problems.append((row_number, f"{what} {text} is negative."))
    return value


def group_is_cancellation(parsed: ParsedFile, group: Group) -> bool:
    return parsed.layout == "uci" and group.order_id.upper().startswith("C")


def group_order_input(*, channel: Channel, parsed: ParsedFile, group: Group) -> OrderInput:
    """One order from its rows. Raises RowProblems listing every bad row (nothing is captured)."""
    columns = parsed.columns
    problems: list[tuple[int, str]] = []
    raw_lines = []
    for number, row in group.rows:
        sku = _value(row, columns, "sku")
        if not sku:
            problems.append((number, "No SKU."))
        elif len(sku) > 64:
            problems.append((number, "SKU is longer than 64 characters."))
        qty_text = _value(row, columns, "quantity")
        try:
            qty = int(to_decimal(qty_text))
            if qty != to_decimal(qty_text):
                raise ValueError
        except (ValueError, ArithmeticError):
            problems.append((number, f"Quantity “{qty_text}” is not a whole number."))
            qty = 0
        else:
            if qty < 1:
                problems.append((number, f"Quantity {qty} is not a positive number of units."))
        price = _amount(_value(row, columns, "unit_price"), "Unit price", number, problems)
        raw_lines.append(([sku], qty, price, _value(row, columns, "product_name")))
    if problems:
        raise RowProblems([{"row": n, "order": group.order_id, "reason": r} for n, r in problems])

    first_number, first = group.rows[0]
    holds = []
    country_text = _value(first, columns, "ship_country")
    code = country_code(country_text)
    if country_text and not code:
        holds.append((OrderHold.Reason.ADDRESS, f"Country “{country_text}” is not one ISO 3166 country."))
    if parsed.layout == "uci":
        customer = _value(first, columns, "customer_id")
        if customer.endswith(".0"):
            customer = customer[:-2]  # the export writes the customer number as a float
        return OrderInput(
            external_id=group.order_id[:100],
            email="",
            customer_name=f"Customer {customer}" if customer else "",
            shipping_address=AddressInput(country=code or ""),
            currency="GBP",
            lines=lines_resolved(channel=channel, raw_lines=raw_lines),
            payment_method="marketplace",
            payment_status=Order.PaymentStatus.PAID,
            placed_at=when(_value(first, columns, "placed_at")),
            notes=f"Imported from a UCI Online Retail file, invoice {group.order_id}"
            + (f", customer {customer}." if customer else ", no customer id."),
            extra_holds=holds,
        )
    problems = []
    shipping_total = _amount(_value(first, columns, "shipping_total"), "Shipping", first_number, problems)
    tax_total = sum(
        (_amount(_value(row, columns, "tax_total"), "Tax", n, problems) for n, row in group.rows),
        Decimal("0.00"),
    )
    if problems:
        raise RowProblems([{"row": n, "order": group.order_id, "reason": r} for n, r in problems])
    status = _value(first, columns, "payment_status").lower() or Order.PaymentStatus.PAID
    if status not in Order.PaymentStatus.values:
        raise RowProblems(
            [
                {
                    "row": first_number,
                    "order": group.order_id,
                    "reason": f"Payment status “{status}” is unknown.",
                }
            ]
        )
    return OrderInput(
        external_id=group.order_id[:100],
        email=_value(first, columns, "email")[:254],
        customer_name=_value(first, columns, "customer_name") or _value(first, columns, "ship_name"),
        phone=_value(first, columns, "phone"),
        shipping_address=AddressInput(
            name=_value(first, columns, "ship_name") or _value(first, columns, "customer_name"),
            line1=_value(first, columns, "ship_line1"),
            line2=_value(first, columns, "ship_line2"),
            city=_value(first, columns, "ship_city"),
            region=_value(first, columns, "ship_region"),
            postal_code=_value(first, columns, "ship_postal_code"),
            country=code or "",
        ),
        currency=(_value(first, columns, "currency") or "USD").upper()[:3],
        shipping_speed=speed_from_title(_value(first, columns, "shipping_speed")),
        lines=lines_resolved(channel=channel, raw_lines=raw_lines),
        shipping_total=shipping_total,
        tax_total=tax_total,
        payment_method=_value(first, columns, "payment_method") or "marketplace",
        payment_status=status,
        placed_at=when(_value(first, columns, "placed_at")),
        extra_holds=holds,
    )


@dataclass
class GroupResult:
    outcome: str  # an InboundRequest outcome, or "skipped"
    order: Order | None = None
    problems: list[dict] = field(default_factory=list)


def group_import(*, channel: Channel, parsed: ParsedFile, group: Group, inbound: InboundRequest, actor=None):
    """Capture one order of the file and record the outcome on its inbound request."""
    if group_is_cancellation(parsed, group):
        reason = (
            f"Cancellation invoice {group.order_id} (negative quantities): not an order. "
            "If the original invoice was imported, cancel that order."
        )
        inbound_request_finish(inbound=inbound, outcome=Outcome.IGNORED, error=reason)
        return GroupResult(
            "skipped", problems=[{"row": group.rows[0][0], "order": group.order_id, "reason": reason}]
        )
    try:
        data = group_order_input(channel=channel, parsed=parsed, group=group)
        captured = intake_capture(channel=channel, data=data, actor=actor)
    except RowProblems as exc:
        inbound_request_finish(
            inbound=inbound,
            outcome=Outcome.INVALID,
            error="\n".join(f"row {p['row']}: {p['reason']}" for p in exc.problems),
        )
        return GroupResult(Outcome.INVALID, problems=exc.problems)
    except CaptureError as exc:
        problems = [{"row": group.rows[0][0], "order": group.order_id, "reason": str(exc)}]
        inbound_request_finish(inbound=inbound, outcome=Outcome.INVALID, error=str(exc))
        return GroupResult(Outcome.INVALID, problems=problems)
    inbound_request_finish(inbound=inbound, outcome=captured.outcome, order=captured.order)
    return GroupResult(captured.outcome, order=captured.order)


COUNTERS = {
    Outcome.CAPTURED: "orders_created",
    Outcome.HELD: "orders_held",
    Outcome.DUPLICATE: "orders_duplicate",
    Outcome.INVALID: "orders_invalid",
    "skipped": "orders_skipped",
}


def import_batch_run(*, batch_id: int, actor=None, progress: Callable[[GroupResult], None] | None = None):
    """Import every order of a stored batch, one capture (one transaction) per order.

    Counts are written to the batch after each order, so the admin shows progress while it runs.
    A file-level problem marks the batch failed with the reason. Returns the batch.
    """
    batch = ImportBatch.objects.select_related("channel").get(pk=batch_id)
    try:
        parsed = parse_file(batch.content, batch.layout)
    except ImportFileError as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, error=str(exc), finished_at=timezone.now()
        )
        batch.refresh_from_db()
        return batch
    report = list(parsed.row_errors)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.RUNNING,
        layout=parsed.layout,
        rows_total=parsed.rows_total,
        orders_total=len(parsed.groups),
        report=report,
    )
    for group in parsed.groups:
        inbound = inbound_request_record(
            source=InboundRequest.Source.CSV,
            channel=batch.channel,
            body=group_csv(parsed, group),
            delivery_id=group.order_id,
            topic=f"{parsed.layout}:{batch.file_name}"[:100],
            import_batch=batch,
        )
        result = group_import(channel=batch.channel, parsed=parsed, group=group, inbound=inbound, actor=actor)
        report.extend(result.problems)
        updates = {
            "orders_processed": F("orders_processed") + 1,
            COUNTERS[result.outcome]: F(COUNTERS[result.outcome]) + 1,
        }
        if result.problems:
            updates["report"] = report
        ImportBatch.objects.filter(pk=batch.pk).update(**updates)
        if progress:
            progress(result)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.DONE, finished_at=timezone.now())
    batch.refresh_from_db()
    return batch


@task
def import_batch_run_task(*, batch_id: int, actor_id: int | None = None) -> None:
    """Run an uploaded import in the task worker (inline in tests)."""
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    import_batch_run(batch_id=batch_id, actor=actor)


def import_batch_create(*, channel: Channel, file_name: str, raw: bytes, layout: str = "auto", actor=None):
    """Store an uploaded file as a batch waiting to run. Raises ImportFileError for files that
    can't be read (no header, missing required columns), before anything is stored."""
    content = decode(raw)
    parsed = parse_file(content, layout)
    return ImportBatch.objects.create(
        channel=channel,
        file_name=file_name[:255],
        layout=parsed.layout,
        content=content.replace("\x00", ""),
        rows_total=parsed.rows_total,
        orders_total=len(parsed.groups),
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def marketplace_channel(code: str = "marketplace") -> Channel:
    channel, _ = Channel.objects.get_or_create(
        code=code, defaults={"name": code.replace("-", " ").title(), "kind": Channel.Kind.MARKETPLACE}
    )
    return channel


def csv_request_reprocess(inbound: InboundRequest, actor) -> str:
    """Import a stored order of a CSV file again (registered in IntakeConfig.ready())."""
    parsed = parse_file(inbound.body, inbound.topic.split(":", 1)[0] or "auto")
    if not parsed.groups:
        raise ImportFileError("The stored rows hold no order.")
    result = group_import(
        channel=inbound.channel, parsed=parsed, group=parsed.groups[0], inbound=inbound, actor=actor
    )
    if result.order is None:
        raise ImportFileError("; ".join(f"row {p['row']}: {p['reason']}" for p in result.problems))
    return f"Captured as {result.order.number} ({result.order.get_status_display().lower()})."
