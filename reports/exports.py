"""The export registry: every CSV a manager can download, its columns, and how it is read.

Each export reads one model with `values_list` over a server-side cursor (`.iterator()`), ordered
by primary key, so a million rows stream with flat memory and one query. Columns are documented
in docs/exports.md; a test keeps that page and this registry in step.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections, models
from django.db.models import Case, ExpressionWrapper, F, Func, Q, Value, When
from django.db.models.functions import Coalesce

from core.csv_stream import BOOLEAN, DATE, DATETIME, LINE, MONEY, NUMBER, TEXT
from fulfillment.models import Shipment, TrackingEvent
from inventory.models import StockItem, StockMovement
from orders.models import Order, OrderLine
from returns.models import Refund, ReturnLine, ReturnRequest

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Column:
    header: str
    source: str | models.Expression  # a lookup path, or an expression annotated on the query
    kind: str | None = None  # TEXT, DATETIME, BOOLEAN, NUMBER, MONEY; inferred for lookup paths


@dataclass(frozen=True)
class ExportKind:
    name: str
    label: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    date_field: str | None  # what --since/--until filter on; None for snapshots
    admin_model: type[models.Model]  # the admin list whose filters choose the rows
    from_admin: Callable[[models.QuerySet], models.QuerySet] = field(default=lambda qs: qs)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def view_permission(self) -> str:
        return f"{self.model._meta.app_label}.view_{self.model._meta.model_name}"


def _kind_of_field(model: type[models.Model], path: str) -> str:
    """Walk a lookup path (order__channel__code) to its field and say how to render it."""
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    f = model._meta.get_field(parts[-1])
    if isinstance(f, models.DateTimeField):
        return DATETIME
    if isinstance(f, models.DateField):
        return DATE
    if isinstance(f, models.BooleanField):
        return BOOLEAN
    if isinstance(f, models.IntegerField | models.DecimalField | models.FloatField | models.AutoField):
        return NUMBER
    return TEXT


def _renders_in_sql(queryset: models.QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def column_kinds(export: ExportKind, queryset: models.QuerySet) -> list[str]:
    """How csv_lines must render each column of export_rows(export, queryset).

    On PostgreSQL the query returns each row as one finished CSV line (LINE).
    """
    if _renders_in_sql(queryset):
        return [LINE]
    return [c.kind or _kind_of_field(export.model, c.source) for c in export.columns]


# PostgreSQL renders the cells itself, exactly as core.csv_stream does in Python, and joins them
# into the CSV line, so Python only joins lines (rows per second: docs/benchmarks.md).
# Date-times come out in UTC (the connection's time zone under USE_TZ); fractions of a second
# without trailing zeros, as PostgreSQL prints them (core.csv_stream does the same).
_SQL_RENDER = {
    TEXT: (
        "CASE WHEN ASCII(%(expressions)s) IN (61, 43, 45, 64, 9, 13)"  # = + - @ tab CR
        " AND %(expressions)s !~ '^[+-]?[0-9]+([.][0-9]+)?$'"
        " THEN CHR(39) || %(expressions)s ELSE %(expressions)s END"
    ),
    # The text form under DateStyle ISO and time zone UTC ("2026-03-01 14:05:00.5+00"), the
    # cheapest PostgreSQL can give, turned into ISO 8601 ("2026-03-01T14:05:00.5+00:00").
    DATETIME: "REPLACE((%(expressions)s)::text, ' ', 'T') || ':00'",
    DATE: "(%(expressions)s)::text",
    BOOLEAN: "CASE WHEN %(expressions)s THEN 'true' WHEN NOT %(expressions)s THEN 'false' END",
    NUMBER: "(%(expressions)s)::text",
    MONEY: "TO_CHAR(%(expressions)s, 'FM999999999999990.00')",
}


class _RenderedInSQL(Func):
    """One column rendered to CSV text by a _SQL_RENDER template (which may repeat the column)."""

    output_field = models.TextField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = super().as_sql(compiler, connection, **extra)
        template = self.extra.get("template", self.template)
        return sql, tuple(params) * template.count("%(expressions)s")


# Text may hold a comma, quote or line break: quoted as Python's csv module does (QUOTE_MINIMAL).
# The test looks at the stored text (the neutralising quote adds none of those characters), so
# the neutralised text is computed once for the branch taken.
_SQL_TEXT_CELL = (
    "CASE WHEN %(expressions)s ~ ('[\",' || CHR(10) || CHR(13) || ']')"
    " THEN '\"' || REPLACE({text}, '\"', '\"\"') || '\"' ELSE {text} END"
).format(text=_SQL_RENDER[TEXT])


def _csv_line_expression(export: ExportKind) -> Func:
    """One SQL expression that renders a whole CSV line (without its line ending)."""
    cells = []
    for column in export.columns:
        kind = column.kind or _kind_of_field(export.model, column.source)
        source = F(column.source) if isinstance(column.source, str) else column.source
        cell = _RenderedInSQL(source, template=_SQL_TEXT_CELL if kind == TEXT else _SQL_RENDER[kind])
        cells.append(Coalesce(cell, Value("")))
    return Func(*cells, template="%(expressions)s", arg_joiner=" || ',' || ", output_field=models.TextField())


def export_rows(export: ExportKind, queryset: models.QuerySet):
    """The rows of `export` for `queryset`: one query, read in chunks from a server-side cursor.

    On PostgreSQL each row is a 1-tuple holding the finished CSV line (column_kinds says LINE):
    the database renders and quotes every cell, Python only joins lines.
    """
    qs = queryset.order_by("pk")
    if _renders_in_sql(queryset):
        qs = qs.annotate(_line=_csv_line_expression(export)).values_list("_line")
        return qs.iterator(chunk_size=CHUNK_SIZE)
    names, annotations = [], {}
    for i, column in enumerate(export.columns):
        if isinstance(column.source, str):
            names.append(column.source)
        else:
            annotations[f"_col{i}"] = column.source
            names.append(f"_col{i}")
    if annotations:
        qs = qs.annotate(**annotations)
    return qs.values_list(*names).iterator(chunk_size=CHUNK_SIZE)


def _orders_lines(qs):
    return OrderLine.objects.filter(order__in=qs.values("pk"))


def _returns_lines(qs):
    return ReturnLine.objects.filter(return_request__in=qs.values("pk"))


_money = models.DecimalField(max_digits=14, decimal_places=2)

EXPORTS: dict[str, ExportKind] = {
    e.name: e
    for e in [
        ExportKind(
            name="orders",
            label="orders",
            model=Order,
            admin_model=Order,
            date_field="placed_at",
            columns=(
                Column("number", "number"),
                Column("channel", "channel__code"),
                Column("external_id", "external_id"),
                Column("status", "status"),
                Column("placed_at", "placed_at"),
                Column("captured_at", "created_at"),
                Column("customer_name", "customer_name"),
                Column("email", "email"),
                Column("ship_country", "shipping_address__country"),
                Column("ship_postal_code", "shipping_address__postal_code"),
                Column("shipping_speed", "shipping_speed"),
                Column("currency", "currency"),
                Column("subtotal", "subtotal"),
                Column("shipping_total", "shipping_total"),
                Column("tax_total", "tax_total"),
                Column("discount_total", "discount_total"),
                Column("total", "total"),
                Column("payment_method", "payment_method"),
                Column("payment_status", "payment_status"),
                Column("verified_at", "verified_at"),
                Column("allocated_at", "allocated_at"),
                Column("shipped_at", "shipped_at"),
                Column("delivered_at", "delivered_at"),
                Column("cancelled_at", "cancelled_at"),
            ),
        ),
        ExportKind(
            name="order_lines",
            label="order lines",
            model=OrderLine,
            admin_model=Order,
            from_admin=_orders_lines,
            date_field="order__placed_at",
            columns=(
                Column("order_number", "order__number"),
                Column("order_status", "order__status"),
                Column("channel", "order__channel__code"),
                Column("placed_at", "order__placed_at"),
                Column("line_id", "id"),
                Column("sku", "sku"),
                Column("name", "name"),
                Column("currency", "order__currency"),
                Column("unit_price", "unit_price"),
                Column("quantity", "quantity"),
                Column(
                    "line_total",
                    ExpressionWrapper(F("unit_price") * F("quantity"), output_field=_money),
                    MONEY,
                ),
                Column("quantity_shipped", "quantity_shipped"),
                Column("quantity_returned", "quantity_returned"),
            ),
        ),
        ExportKind(
            name="shipments",
            label="shipments",
            model=Shipment,
            admin_model=Shipment,
            date_field="created_at",
            columns=(
                Column("number", "number"),
                Column("order_number", "order__number"),
                Column("warehouse", "warehouse__code"),
                Column("status", "status"),
                Column("carrier", "service_level__carrier__code"),
                Column("service_level", "service_level__code"),
                Column("tracking_number", "tracking_number"),
                Column("postage_cost", "postage_cost", MONEY),
                Column("postage_currency", "postage_currency"),
                Column("weight_grams", "weight_grams"),
                Column("created_at", "created_at"),
                Column("packed_at", "packed_at"),
                Column("shipped_at", "shipped_at"),
                Column("estimated_delivery", "estimated_delivery"),
                Column("delivered_at", "delivered_at"),
            ),
        ),
        ExportKind(
            name="tracking_events",
            label="tracking events",
            model=TrackingEvent,
            admin_model=TrackingEvent,
            date_field="occurred_at",
            columns=(
                Column("occurred_at", "occurred_at"),
                Column("tracking_number", "tracking_number"),
                Column("shipment_number", "shipment__number"),
                Column("order_number", "shipment__order__number"),
                Column("carrier_code", "carrier_code"),
                Column("status", "status"),
                Column("carrier_status", "carrier_status"),
                Column("description", "description"),
                Column("location", "location"),
                Column("source", "source"),
                Column("received_at", "created_at"),
            ),
        ),
        ExportKind(
            name="returns",
            label="return requests",
            model=ReturnRequest,
            admin_model=ReturnRequest,
            date_field="created_at",
            columns=(
                Column("number", "number"),
                Column("order_number", "order__number"),
                Column("status", "status"),
                Column("reason", "reason"),
                Column("resolution", "resolution"),
                Column("comment", "comment"),
                Column("decision_note", "decision_note"),
                Column("requested_at", "created_at"),
                Column("approved_at", "approved_at"),
                Column("received_at", "received_at"),
                Column("resolved_at", "resolved_at"),
            ),
        ),
        ExportKind(
            name="return_lines",
            label="return lines",
            model=ReturnLine,
            admin_model=ReturnRequest,
            from_admin=_returns_lines,
            date_field="return_request__created_at",
            columns=(
                Column("return_number", "return_request__number"),
                Column("order_number", "return_request__order__number"),
                Column("return_status", "return_request__status"),
                Column("reason", "return_request__reason"),
                Column("requested_at", "return_request__created_at"),
                Column("sku", "order_line__sku"),
                Column("name", "order_line__name"),
                Column("quantity", "quantity"),
                Column("condition", "condition"),
                Column("disposition", "disposition"),
                Column("quantity_restocked", "quantity_restocked"),
            ),
        ),
        ExportKind(
            name="refunds",
            label="refunds",
            model=Refund,
            admin_model=Refund,
            date_field="created_at",
            columns=(
                Column("refund_id", "id"),
                Column("created_at", "created_at"),
                Column("order_number", "order__number"),
                Column("return_number", "return_request__number"),
                Column("amount", "amount"),
                Column("currency", "currency"),
                Column("method", "method"),
                Column("reference", "reference"),
                Column("note", "note"),
                Column("staff", "actor__username"),
            ),
        ),
        ExportKind(
            name="stock_levels",
            label="stock levels",
            model=StockItem,
            admin_model=StockItem,
            date_field=None,
            columns=(
                Column("sku", "product__sku"),
                Column("product_name", "product__name"),
                Column("warehouse", "warehouse__code"),
                Column("bin_location", "bin_location"),
                Column("on_hand", "on_hand"),
                Column("reserved", "reserved"),
                Column(
                    "available",
                    ExpressionWrapper(F("on_hand") - F("reserved"), output_field=models.IntegerField()),
                    NUMBER,
                ),
                Column("reorder_point", "reorder_point"),
                Column("reorder_quantity", "reorder_quantity"),
                Column(
                    "needs_reorder",
                    Case(
                        When(Q(on_hand__lte=F("reserved") + F("reorder_point")), then=Value(True)),
                        default=Value(False),
                        output_field=models.BooleanField(),
                    ),
                    BOOLEAN,
                ),
                Column("updated_at", "updated_at"),
            ),
        ),
        ExportKind(
            name="stock_movements",
            label="stock movements",
            model=StockMovement,
            admin_model=StockMovement,
            date_field="created_at",
            columns=(
                Column("movement_id", "id"),
                Column("created_at", "created_at"),
                Column("sku", "stock_item__product__sku"),
                Column("warehouse", "stock_item__warehouse__code"),
                Column("bin_location", "stock_item__bin_location"),
                Column("kind", "kind"),
                Column("quantity", "quantity"),
                Column("reference", "reference"),
                Column("reason", "reason"),
                Column("staff", "actor__username"),
            ),
        ),
    ]
}
