"""Marketplace CSV import: rows grouped into orders by an order-id column, each order captured
whole or not at all, every problem reported with its row number.

The file is read twice and never held as objects whole: a first pass learns the layout, the
orders and the rows that belong to none; the second hands over the orders in chunks
(settings.OMS["INTAKE_BATCH_SIZE"]). Each chunk's inbound requests are written in one insert
before anything is captured, its orders are captured in one orders_capture call, and their
outcomes are recorded in one update that commits with them; the batch's counts move once per
chunk.

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
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import batched

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from core.exceptions import DomainError
from core.money import quantize, to_decimal
from inventory.models import Product
from orders.inputs import AddressInput, LineInput, OrderInput
from orders.models import Channel, Order, OrderHold
from orders.services import CaptureRequest, CaptureResult, orders_capture

from .countries import country_code
from .inbound import Outcome, clean_text, inbound_outcome_for, inbound_requests_finish_many
from .mapping import speed_from_title, when
from .models import ImportBatch, InboundRequest
from .rematch import sku_resolve

logger = logging.getLogger(__name__)


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
    """What the first pass over a file learns; file_groups reads the orders in a second pass."""

    layout: str
    headers: list[str]
    columns: dict[str, str]
    row_errors: list[dict]
    delimiter: str
    rows_total: int
    last_rows: dict[str, int]  # order id -> the number of its last row, in order of first appearance

    @property
    def orders_total(self) -> int:
        return len(self.last_rows)


def _lines(content: str) -> Iterator[str]:
    """The text's lines, ends kept, as io.StringIO would give them, without copying the text."""
    start, size = 0, len(content)
    while start < size:
        end = content.find("\n", start)
        end = size if end == -1 else end + 1
        yield content[start:end]
        start = end


def _numbered_rows(content: str, delimiter: str) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    reader = csv.DictReader(_lines(content), delimiter=delimiter)
    headers = [h for h in (reader.fieldnames or []) if h is not None]
    return headers, enumerate(reader, start=2)


def parse_file(content: str, layout: str = "auto") -> ParsedFile:
    """Read the file's header and rows: its layout, its orders in the order they first appear and
    where the rows of each end, the rows that have no order id. Holds no row. Raises
    ImportFileError for a file that can't be imported (no header, missing columns, broken CSV)."""
    content = content.replace("\x00", "")
    newline = content.find("\n")
    first_line = content if newline == -1 else content[:newline]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    headers, rows = _numbered_rows(content, delimiter)
    if not headers:
        raise ImportFileError("The file is empty or has no header row.")
    layout = detect_layout(headers) if layout in ("", "auto") else layout
    if layout not in LAYOUTS:
        raise ImportFileError(f"Unknown layout “{layout}”: use {', '.join(LAYOUTS)}.")
    columns = column_map(headers, layout)
    last_rows: dict[str, int] = {}
    errors = []
    total = 0
    try:
        for number, row in rows:
            total += 1
            order_id = (row.get(columns["order_id"]) or "").strip()
            if not order_id:
                errors.append({"row": number, "order": "", "reason": "No order id."})
                continue
            last_rows[order_id] = number  # a dict keeps the order ids' first appearance order
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV near row {total + 2}: {exc}") from None
    return ParsedFile(layout, headers, columns, errors, delimiter, total, last_rows)


def file_groups(content: str, parsed: ParsedFile) -> Iterator[Group]:
    """The file's orders with their rows, in the order they first appear, each handed over as
    soon as its last row is read. Only the orders begun and not yet handed over are held: one at
    a time when each order's rows are together (marketplace exports write them so); rows of an
    order spread over the file keep what lies between them until its last one."""
    content = content.replace("\x00", "")
    _, rows = _numbered_rows(content, parsed.delimiter)
    waiting = iter(parsed.last_rows.items())
    next_id, next_last = next(waiting, (None, 0))
    started: dict[str, Group] = {}
    header = parsed.columns["order_id"]
    for number, row in rows:
        order_id = (row.get(header) or "").strip()
        if order_id:
            started.setdefault(order_id, Group(order_id)).rows.append((number, row))
        while next_id is not None and next_last <= number:
            yield started.pop(next_id)
            next_id, next_last = next(waiting, (None, 0))


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


def groups_products(
    *, channel: Channel, parsed: ParsedFile, groups: list[Group]
) -> dict[str, Product | None]:
    """The product each SKU of these orders names, through the channel's SKU mappings first (as
    lines_resolved matches them), or None; two queries for any number of orders."""
    skus = sorted(
        {sku for group in groups for _, row in group.rows if (sku := _value(row, parsed.columns, "sku"))}
    )
    return dict(zip(skus, sku_resolve(channel=channel, keys_per_line=[[sku] for sku in skus]), strict=True))


def _line_inputs(raw_lines: list[tuple[str, int, Decimal, str]], products: dict) -> list[LineInput]:
    """Lines with our product's SKU when the channel's names one, else the channel's, so the
    hold names what staff must map."""
    lines = []
    for sku, qty, price, name in raw_lines:
        product = products.get(sku)
        lines.append(
            LineInput(
                sku=(product.sku if product else sku)[:64], quantity=qty, unit_price=price, name=name[:255]
            )
        )
    return lines


def group_order_input(
    *, channel: Channel, parsed: ParsedFile, group: Group, products: dict[str, Product | None] | None = None
) -> OrderInput:
    """One order from its rows. Raises RowProblems listing every bad row (nothing is captured).
    `products` (groups_products) saves looking its SKUs up; without it they are looked up here."""
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
        raw_lines.append((sku, qty, price, _value(row, columns, "product_name")))
    if problems:
        raise RowProblems([{"row": n, "order": group.order_id, "reason": r} for n, r in problems])
    if products is None:
        products = groups_products(channel=channel, parsed=parsed, groups=[group])

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
            lines=_line_inputs(raw_lines, products),
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
        lines=_line_inputs(raw_lines, products),
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
    error: str = ""  # what its inbound request says went wrong


def _group_settle(
    *, channel: Channel, parsed: ParsedFile, group: Group, products: dict, actor
) -> GroupResult | CaptureRequest:
    """An order's result when its rows already decide it (a cancellation invoice, bad rows),
    otherwise the request that captures it."""
    if group_is_cancellation(parsed, group):
        reason = (
            f"Cancellation invoice {group.order_id} (negative quantities): not an order. "
            "If the original invoice was imported, cancel that order."
        )
        problems = [{"row": group.rows[0][0], "order": group.order_id, "reason": reason}]
        return GroupResult("skipped", problems=problems, error=reason)
    try:
        data = group_order_input(channel=channel, parsed=parsed, group=group, products=products)
    except RowProblems as exc:
        error = "\n".join(f"row {p['row']}: {p['reason']}" for p in exc.problems)
        return GroupResult(Outcome.INVALID, problems=exc.problems, error=error)
    return CaptureRequest(channel=channel, data=data, actor=actor)


def _group_captured(group: Group, captured: CaptureResult) -> GroupResult:
    if captured.error is not None:
        reason = str(captured.error)
        problems = [{"row": group.rows[0][0], "order": group.order_id, "reason": reason}]
        return GroupResult(Outcome.INVALID, problems=problems, error=reason)
    if captured.duplicate:
        return GroupResult(Outcome.DUPLICATE, order=captured.order)
    return GroupResult(inbound_outcome_for(captured.order), order=captured.order)


def _groups_capture(
    items: list[tuple[Group, InboundRequest]], settled: list[GroupResult | CaptureRequest]
) -> list[GroupResult]:
    """One transaction: the orders captured in one orders_capture call, every outcome recorded
    on its inbound request in one update, so an order and its request's outcome commit together."""
    with transaction.atomic():
        requests = [s for s in settled if isinstance(s, CaptureRequest)]
        captured = iter(orders_capture(requests) if requests else [])
        results = [
            _group_captured(group, next(captured)) if isinstance(s, CaptureRequest) else s
            for (group, _), s in zip(items, settled, strict=True)
        ]
        inbound_requests_finish_many(
            [
                (inbound, Outcome.IGNORED if r.outcome == "skipped" else r.outcome, r.order, r.error, None)
                for (_, inbound), r in zip(items, results, strict=True)
            ]
        )
    return results


def groups_import(
    *,
    channel: Channel,
    parsed: ParsedFile,
    items: list[tuple[Group, InboundRequest]],
    actor=None,
    committed: Callable[[list[GroupResult]], None] | None = None,
) -> list[GroupResult]:
    """Capture orders of a file, each with its inbound request already written, and record what
    became of each on its request. Returns one result per item, in the same order; `committed`
    is given the results each time some are committed.

    Their SKUs are looked up once, the orders captured in one orders_capture call (bad data and
    replays come back as results and never undo the others) and the outcomes written in one
    update, in one transaction. Should that transaction fail for something else (a deadlock with
    another capture, a fault), the orders are captured again one at a time, each in its own
    transaction: those before the one that fails are kept, and its exception propagates.
    """
    committed = committed or (lambda results: None)
    products = groups_products(channel=channel, parsed=parsed, groups=[group for group, _ in items])
    settled = [
        _group_settle(channel=channel, parsed=parsed, group=group, products=products, actor=actor)
        for group, _ in items
    ]
    try:
        results = _groups_capture(items, settled)
    except Exception:
        if len(items) == 1:
            raise
        logger.warning("Capturing %d orders together failed: one at a time now.", len(items), exc_info=True)
    else:
        committed(results)
        return results
    results = []
    for i in range(len(items)):
        results += _groups_capture(items[i : i + 1], settled[i : i + 1])
        committed(results[-1:])
    return results


COUNTERS = {
    Outcome.CAPTURED: "orders_created",
    Outcome.HELD: "orders_held",
    Outcome.DUPLICATE: "orders_duplicate",
    Outcome.INVALID: "orders_invalid",
    "skipped": "orders_skipped",
}


def import_batch_run(*, batch_id: int, actor=None, progress: Callable[[GroupResult], None] | None = None):
    """Import every order of a stored batch, settings.OMS["INTAKE_BATCH_SIZE"] orders at a time.

    For each chunk: its inbound requests are written in one insert, on their own, so they are
    kept whatever happens next; groups_import captures its orders and records their outcomes in
    one transaction; once that commits, the batch's counts (and report, when it grew) in one
    update, so the admin shows progress while it runs. The file is read a chunk at a time, never held whole as
    rows. A crash keeps the chunks done; importing the file again finds their orders as
    duplicates. A file-level problem marks the batch failed with the reason. Returns the batch.
    """
    batch = ImportBatch.objects.select_related("channel").defer("content").get(pk=batch_id)
    content = ImportBatch.objects.values_list("content", flat=True).get(pk=batch_id)
    try:
        parsed = parse_file(content, batch.layout)
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
        orders_total=parsed.orders_total,
        report=report,
    )

    def counted(results: list[GroupResult]) -> None:
        updates = {"orders_processed": F("orders_processed") + len(results)}
        for name, n in Counter(COUNTERS[result.outcome] for result in results).items():
            updates[name] = F(name) + n
        if problems := [problem for result in results for problem in result.problems]:
            report.extend(problems)
            updates["report"] = report
        ImportBatch.objects.filter(pk=batch.pk).update(**updates)
        if progress:
            for result in results:
                progress(result)

    topic = clean_text(f"{parsed.layout}:{batch.file_name}", 100)
    for chunk in batched(file_groups(content, parsed), max(1, settings.OMS["INTAKE_BATCH_SIZE"])):
        inbounds = InboundRequest.objects.bulk_create(
            [
                InboundRequest(
                    source=InboundRequest.Source.CSV,
                    channel=batch.channel,
                    body=clean_text(group_csv(parsed, group)),
                    delivery_id=clean_text(group.order_id, 255),
                    topic=topic,
                    import_batch=batch,
                )
                for group in chunk
            ]
        )
        groups_import(
            channel=batch.channel,
            parsed=parsed,
            items=list(zip(chunk, inbounds, strict=True)),
            actor=actor,
            committed=counted,
        )
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
        orders_total=parsed.orders_total,
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
    group = next(file_groups(inbound.body, parsed), None)
    if group is None:
        raise ImportFileError("The stored rows hold no order.")
    [result] = groups_import(channel=inbound.channel, parsed=parsed, items=[(group, inbound)], actor=actor)
    if result.order is None:
        raise ImportFileError("; ".join(f"row {p['row']}: {p['reason']}" for p in result.problems))
    return f"Captured as {result.order.number} ({result.order.get_status_display().lower()})."
