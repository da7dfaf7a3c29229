"""CSV export of orders: streamed row by row from a server-side cursor, so memory stays flat."""

from core.csv_stream import csv_response

ORDER_COLUMNS = [
    ("number", "number"),
    ("channel", "channel__code"),
    ("external_id", "external_id"),
    ("status", "status"),
    ("placed_at", "placed_at"),
    ("customer_name", "customer_name"),
    ("email", "email"),
    ("ship_country", "shipping_address__country"),
    ("ship_postal_code", "shipping_address__postal_code"),
    ("shipping_speed", "shipping_speed"),
    ("currency", "currency"),
    ("subtotal", "subtotal"),
    ("shipping_total", "shipping_total"),
    ("tax_total", "tax_total"),
    ("discount_total", "discount_total"),
    ("total", "total"),
    ("payment_method", "payment_method"),
    ("payment_status", "payment_status"),
    ("verified_at", "verified_at"),
    ("shipped_at", "shipped_at"),
    ("delivered_at", "delivered_at"),
    ("cancelled_at", "cancelled_at"),
]


def order_export_rows(queryset):
    """Rows for the orders CSV. One query, iterated with a server-side cursor on PostgreSQL."""
    fields = [f for _, f in ORDER_COLUMNS]
    return queryset.order_by("pk").values_list(*fields).iterator(chunk_size=2000)


def order_export_response(queryset, *, bom: bool = False):
    return csv_response(
        "orders.csv", [name for name, _ in ORDER_COLUMNS], order_export_rows(queryset), bom=bom
    )
