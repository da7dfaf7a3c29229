"""What the customer's order page shows, read for one order or many in a fixed number of queries.

The page is rendered once per change and then served from the shared cache (portal/pages.py), so
this read runs for the first view after a change, or in the worker that warms the pages of the
orders a commit changed. It reads rows into plain values: no model instance per event, message
or parcel line, and nothing left for the template to fetch.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connection
from django.utils.dateparse import parse_date, parse_datetime

from core.money import quantize
from fulfillment.models import Shipment, TrackingEvent
from orders.models import Order, OrderEvent
from returns.models import ReturnRequest
from returns.selectors import order_get_return_state
from support.models import Message

STATUS_WORDS = {
    Order.Status.PENDING: "We have your order and are checking it.",
    Order.Status.ON_HOLD: "We are reviewing your order; we will be in touch if we need anything.",
    Order.Status.VERIFIED: "Your order is confirmed.",
    Order.Status.BACKORDERED: "Some items are on backorder; we will ship as soon as they arrive.",
    Order.Status.ALLOCATED: "Your order is confirmed and waiting to be picked.",
    Order.Status.PROCESSING: "We are preparing your order.",
    Order.Status.PARTIALLY_SHIPPED: "Part of your order is on its way.",
    Order.Status.SHIPPED: "Your order is on its way.",
    Order.Status.DELIVERED: "Your order has been delivered.",
    Order.Status.CANCELLED: "This order has been cancelled.",
}

RETURN_STATUS_WORDS = {
    "requested": "We have your request and will reply within one working day.",
    "approved": "Approved: please send the items back with the return number on the parcel.",
    "in_transit": "Your parcel is on its way back to us.",
    "delivered": "Your parcel was delivered to our warehouse; we will check it soon.",
    "rejected": "We could not accept this return.",
    "received": "Your parcel has arrived; we are checking the items.",
    "inspected": "Checked; we are sorting out your refund, exchange or credit.",
    "resolved": "Done.",
    "cancelled": "Cancelled.",
}

# Orders whose parcels may have been delivered (a return needs at least one delivered parcel).
MAY_HAVE_DELIVERIES = [Order.Status.PARTIALLY_SHIPPED, Order.Status.SHIPPED, Order.Status.DELIVERED]

ORDER_STATUS_LABELS = dict(Order.Status.choices)
PARCEL_STATUS_LABELS = dict(Shipment.Status.choices)
RETURN_STATUS_LABELS = dict(ReturnRequest.Status.choices)
EVENT_TITLES = dict(OrderEvent.Kind.choices)
CARRIER_TITLES = dict(TrackingEvent.Status.choices)


@dataclass(frozen=True)
class PageOrder:
    pk: int
    number: str
    status: str
    placed_at: datetime
    currency: str
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal
    has_address: bool
    city: str
    thread_id: int | None

    @property
    def status_label(self) -> str:
        return ORDER_STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class PageLine:
    pk: int
    name: str
    sku: str
    unit_price: Decimal
    quantity: int
    quantity_shipped: int
    quantity_returned: int

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class PageItem:
    """A line of a parcel or of a return: how many of which of the order's items."""

    quantity: int
    name: str


@dataclass(frozen=True)
class PageParcel:
    pk: int
    status: str
    service: str  # "carrier service", empty when none is chosen yet
    tracking_number: str
    tracking_url: str
    delivered_at: datetime | None
    estimated_delivery: date | None
    items: list[PageItem]

    @property
    def status_label(self) -> str:
        return PARCEL_STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class PageReturn:
    pk: int
    number: str
    status: str
    decision_note: str
    replacement_number: str | None
    credit_code: str | None
    credit_balance: Decimal | None
    credit_currency: str | None
    items: list[PageItem]

    @property
    def status_label(self) -> str:
        return RETURN_STATUS_LABELS.get(self.status, self.status)

    @property
    def status_words(self) -> str:
        return RETURN_STATUS_WORDS.get(self.status, "")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    detail: str
    source: str  # "order" or "carrier"


@dataclass(frozen=True)
class PageMessage:
    author: str  # support.Message.Author
    body: str
    created_at: datetime


@dataclass
class OrderPage:
    """Everything one order's page shows, as plain values."""

    order: PageOrder
    lines: list[PageLine] = field(default_factory=list)
    parcels: list[PageParcel] = field(default_factory=list)
    returns: list[PageReturn] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    thread_messages: list[PageMessage] = field(default_factory=list)

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.order.status, "")

    @property
    def return_state(self) -> str:
        return order_get_return_state(lines=self.lines)

    @property
    def may_return(self) -> bool:
        return self.order.status in MAY_HAVE_DELIVERIES and any(
            line.quantity_returned < line.quantity_shipped for line in self.lines
        )

    @property
    def has_thread(self) -> bool:
        return self.order.thread_id is not None


def _when(value) -> datetime | None:
    """A timestamp column as the ORM returns it: PostgreSQL gives an aware datetime; SQLite
    gives naive UTC, or text from a UNION (which loses the declared type)."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC)


def _day(value) -> date | None:
    """A date column: a date on PostgreSQL, a date or text on SQLite."""
    return value if value is None or isinstance(value, date) else parse_date(value)


def _money(value) -> Decimal | None:
    """A money column: a Decimal on PostgreSQL, an int or float on SQLite."""
    return value if value is None or isinstance(value, Decimal) else quantize(value)


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The page is read with SQL written out rather than built with the ORM: building and compiling
# the querysets cost about ten times what the statements cost at the database, and was most of
# the first view after a change (bench/order_page.py, docs/benchmarks.md). Rows come back as
# tuples, converted where a backend returns another type (_when, _day, _money). Column lists
# follow the models; tests/portal/test_selectors.py checks every value against the ORM's.
# Each statement reads a kind of row with the rows under it (one row per line, per parcel line,
# per return line; NULLs when there are none).
ORDERS_SQL = """
    SELECT o.id, o.number, o.status, o.placed_at, o.currency, o.discount_total,
           o.shipping_total, o.tax_total, o.total, o.shipping_address_id, a.city, t.id,
           l.id, l.name, l.sku, l.unit_price, l.quantity, l.quantity_shipped, l.quantity_returned
      FROM orders_order o
      LEFT JOIN orders_address a ON a.id = o.shipping_address_id
      LEFT JOIN support_thread t ON t.order_id = o.id
      LEFT JOIN orders_orderline l ON l.order_id = o.id
     WHERE o.number IN ({numbers})"""
PARCELS_SQL = """
    SELECT s.id, s.order_id, s.status, s.tracking_number, s.delivered_at, s.estimated_delivery,
           sl.name, c.name, c.tracking_url_template, i.id, i.order_line_id, i.quantity
      FROM fulfillment_shipment s
      LEFT JOIN fulfillment_servicelevel sl ON sl.id = s.service_level_id
      LEFT JOIN fulfillment_carrier c ON c.id = sl.carrier_id
      LEFT JOIN fulfillment_shipmentline i ON i.shipment_id = s.id
     WHERE s.order_id IN ({orders})"""
RETURNS_SQL = """
    SELECT r.id, r.order_id, r.number, r.status, r.decision_note, r.created_at, x.number,
           sc.code, sc.balance, sc.currency, i.id, i.order_line_id, i.quantity
      FROM returns_returnrequest r
      LEFT JOIN orders_order x ON x.id = r.replacement_order_id
      LEFT JOIN returns_storecredit sc ON sc.return_request_id = r.id
      LEFT JOIN returns_returnline i ON i.return_request_id = r.id
     WHERE r.order_id IN ({orders})"""
# What is dated on the page, together: (owner: order, parcel or thread id, at, kind, text,
# place, source, id).
EVENTS_SQL = """
    SELECT order_id, created_at, kind, message, '', 'order', id
      FROM orders_orderevent
     WHERE order_id IN ({orders}) AND visible_to_customer = %s"""
SCANS_SQL = """
    SELECT shipment_id, occurred_at, status, description, location, 'carrier', id
      FROM fulfillment_trackingevent
     WHERE shipment_id IN ({parcels})"""
MESSAGES_SQL = """
    SELECT thread_id, created_at, author, body, '', 'message', id
      FROM support_message
     WHERE thread_id IN ({threads})"""


def order_list_pages(*, numbers: Iterable[str]) -> list[OrderPage]:
    """The pages of the orders with these exact numbers (unknown numbers are left out), in four
    queries whatever the number of orders, lines, parcels, events, returns or messages: orders
    with their city, message thread and lines; parcels with their carrier service and lines;
    returns with their replacement order, store credit and lines; and the customer timeline
    with the messages."""
    numbers = list(dict.fromkeys(numbers))
    if not numbers:
        return []
    pages, names = {}, {}
    # Sorted by order, then line: each order's lines in the order they were written.
    rows = sorted(_rows(ORDERS_SQL.format(numbers=_in(numbers)), numbers), key=lambda r: (r[0], r[12] or 0))
    for pk, number, status, placed, currency, disc, ship, tax, total, address, city, thread, *line in rows:
        page = pages.get(pk)
        if page is None:
            totals = (_money(disc), _money(ship), _money(tax), _money(total))
            order = PageOrder(
                pk, number, status, _when(placed), currency, *totals, address is not None, city or "", thread
            )
            page = pages[pk] = OrderPage(order=order)
        line_id, name, sku, price, quantity, shipped, returned = line
        if line_id is not None:
            page.lines.append(PageLine(line_id, name, sku, _money(price), quantity, shipped, returned))
            names[line_id] = name
    if not pages:
        return []
    ids = list(pages)
    parcel_orders = {}
    for (
        pk,
        order_id,
        status,
        tracking,
        delivered,
        estimated,
        level,
        carrier,
        url_template,
    ), items in _grouped(_rows(PARCELS_SQL.format(orders=_in(ids)), ids), names):
        url = url_template.replace("{tracking_number}", tracking) if url_template and tracking else ""
        service = f"{carrier} {level}" if level is not None else ""
        pages[order_id].parcels.append(
            PageParcel(pk, status, service, tracking, url, _when(delivered), _day(estimated), items)
        )
        parcel_orders[pk] = order_id
    returns = _grouped(_rows(RETURNS_SQL.format(orders=_in(ids)), ids), names)
    # Newest first, as the returns desk lists them.
    returns.sort(key=lambda r: (_when(r[0][5]), r[0][0]), reverse=True)
    for (pk, order_id, number, status, note, _, replacement, code, balance, currency), items in returns:
        pages[order_id].returns.append(
            PageReturn(pk, number, status, note, replacement, code, _money(balance), currency, items)
        )
    _dated(pages, parcel_orders)
    return list(pages.values())


def _grouped(rows: list[tuple], names: dict[int, str]) -> list[tuple[tuple, list[PageItem]]]:
    """Rows of a parcel or return joined with its lines (the last three columns: line id, order
    line id, quantity; NULL without lines), as (its columns, its items), by id, its items in the
    order they were written."""
    grouped = {}
    for row in sorted(rows, key=lambda r: (r[0], r[-3] or 0)):
        head, (item_id, line_id, quantity) = row[:-3], row[-3:]
        items = grouped.setdefault(row[0], (head, []))[1]
        if item_id is not None:
            items.append(PageItem(quantity, names.get(line_id, "")))
    return list(grouped.values())


def _dated(pages: dict[int, OrderPage], parcel_orders: dict[int, int]) -> None:
    """Each page's customer timeline (its public order events and its parcels' carrier events,
    newest first) and its messages (oldest first), read together in one query."""
    ids = list(pages)
    thread_orders = {page.order.thread_id: pk for pk, page in pages.items() if page.has_thread}
    parts = [(EVENTS_SQL.format(orders=_in(ids)), [*ids, True])]
    if parcel_orders:
        parts.append((SCANS_SQL.format(parcels=_in(parcel_orders)), list(parcel_orders)))
    if thread_orders:
        parts.append((MESSAGES_SQL.format(threads=_in(thread_orders)), list(thread_orders)))
    rows = _rows(" UNION ALL ".join(sql for sql, _ in parts), [p for _, params in parts for p in params])
    # Oldest first; among rows of the same moment, the one written first first.
    dated = sorted(
        (
            (_when(at), pk, owner, kind, text, place, source)
            for owner, at, kind, text, place, source, pk in rows
        )
    )
    for at, _, owner, kind, text, place, source in dated:
        if source == "message":
            pages[thread_orders[owner]].thread_messages.append(PageMessage(kind, text, at))
        elif source == "order":
            pages[owner].timeline.append(TimelineEntry(at, EVENT_TITLES.get(kind, kind), text, source))
        else:
            detail = " · ".join(p for p in [text, place] if p)
            pages[parcel_orders[owner]].timeline.append(
                TimelineEntry(at, CARRIER_TITLES.get(kind, kind), detail, source)
            )
    for page in pages.values():
        page.timeline.reverse()


def order_list_thread_messages(*, order: Order) -> list[PageMessage]:
    """The customer's message thread about the order, oldest first (one query)."""
    rows = Message.objects.filter(thread__order=order).order_by("created_at", "pk")
    return [PageMessage(a, b, c) for a, b, c in rows.values_list("author", "body", "created_at")]
