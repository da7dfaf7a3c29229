"""Reads of orders."""

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Prefetch, Sum

from core.money import quantize
from inventory.models import Reservation

from .models import Order, OrderHold, OrderLine

ALLOCATED_STATES = [
    Order.Status.ALLOCATED,
    Order.Status.PROCESSING,
    Order.Status.PARTIALLY_SHIPPED,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
]


def order_line_list_discrepancies() -> list[str]:
    """Order lines of allocated (or later) orders whose active reservations plus shipped units
    differ from the ordered quantity (invariant 3)."""
    reserved = dict(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE, reference__startswith="order:")
        .values("line_reference")
        .annotate(total=Sum("quantity"))
        .values_list("line_reference", "total")
    )
    problems = []
    lines = (
        OrderLine.objects.filter(order__status__in=ALLOCATED_STATES, product__isnull=False)
        .select_related("order")
        .order_by("pk")
        .only("pk", "sku", "quantity", "quantity_shipped", "order__number", "order__status")
    )
    for line in lines.iterator(chunk_size=2000):
        held = reserved.get(line.stock_reference, 0)
        if held + line.quantity_shipped != line.quantity:
            problems.append(
                f"order {line.order.number} line {line.sku}: ordered {line.quantity}, "
                f"reserved {held} + shipped {line.quantity_shipped}"
            )
    return problems


def order_get_for_tracking(*, number: str, email: str | None = None) -> Order | None:
    """The order a customer may see, with everything its page shows, in a fixed number of
    queries; None when the number (or the e-mail, when given) doesn't match."""
    qs = Order.objects.select_related("shipping_address", "channel").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
    )
    order = qs.filter(number__iexact=(number or "").strip()).first()
    if order is None:
        return None
    if email is not None and order.email.strip().lower() != (email or "").strip().lower():
        return None
    return order


HOLDS_STOCK = [Order.Status.ALLOCATED, Order.Status.PROCESSING, Order.Status.PARTIALLY_SHIPPED]


def reservation_list_stale() -> list[str]:
    """Active reservations held by orders that should hold none (cancelled, shipped, or never
    allocated) or by orders that no longer exist: stock kept from everyone else."""
    held = (
        Reservation.objects.filter(status=Reservation.Status.ACTIVE, reference__startswith="order:")
        .values("reference")
        .annotate(total=Sum("quantity"))
    )
    totals = {row["reference"]: row["total"] for row in held}
    ids = {int(ref.split(":", 1)[1]): ref for ref in totals if ref.split(":", 1)[1].isdigit()}
    orders = Order.objects.in_bulk(list(ids), field_name="pk")
    problems = []
    for order_id, ref in sorted(ids.items()):
        order = orders.get(order_id)
        if order is None:
            problems.append(f"{ref} holds {totals[ref]} reserved units but no such order exists")
        elif order.status not in HOLDS_STOCK:
            problems.append(
                f"order {order.number} is {order.get_status_display().lower()} but still holds "
                f"{totals[ref]} reserved units"
            )
    return problems


# --- counts for the staff home page (core.admin_home) ------------------------------------------
def order_hold_count_active_by_reason() -> dict[str, int]:
    """Active (unreleased) holds per reason, reasons without any left out. One query.

    Naming every reason lets PostgreSQL read the (reason, released_at) index once per reason,
    for the active holds only, instead of going through every hold ever released.
    """
    rows = (
        OrderHold.objects.filter(reason__in=OrderHold.Reason.values, released_at__isnull=True)
        .values("reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {r["reason"]: r["n"] for r in rows}


def order_count_on_hold() -> int:
    """Orders on hold now. One query ((status, placed_at) index)."""
    return Order.objects.filter(status=Order.Status.ON_HOLD).count()


def order_count_placed_between(*, start: dt.datetime, end: dt.datetime) -> int:
    """Orders placed in [start, end), whatever became of them. One query (placed_at index)."""
    return Order.objects.filter(placed_at__gte=start, placed_at__lt=end).count()


def order_revenue_placed_between(*, start: dt.datetime, end: dt.datetime) -> dict[str, Decimal]:
    """The order totals of orders placed in [start, end) and not cancelled, per currency
    (currencies without such orders left out), to the cent (SQLite sums decimals as floats). One
    query (placed_at index)."""
    rows = (
        Order.objects.filter(placed_at__gte=start, placed_at__lt=end)
        .exclude(status=Order.Status.CANCELLED)
        .values("currency")
        .annotate(revenue=Sum("total"))
        .order_by("currency")
    )
    return {r["currency"]: quantize(r["revenue"]) for r in rows}


# --- the order's admin page: what it is waiting for -----------------------------------------------
def order_hold_list_active(*, order_id: int) -> list[OrderHold]:
    """The order's holds not released yet, oldest first. One query."""
    active = OrderHold.objects.filter(order_id=order_id, released_at__isnull=True)
    return list(active.order_by("created_at", "pk"))


def order_line_list_unmatched(*, order_id: int) -> list[OrderLine]:
    """The order's lines whose SKU names no active product (what an unknown-SKU hold is about),
    with their products. One query."""
    lines = OrderLine.objects.filter(order_id=order_id).select_related("product").order_by("pk")
    return [line for line in lines if line.product is None or not line.product.is_active]


def order_list_reserving_warehouses(*, order: Order) -> list[str]:
    """The codes of the warehouses holding stock for the order now (active reservations). One
    query ((reference, status) index)."""
    return sorted(
        set(
            Reservation.objects.filter(
                reference=order.stock_reference, status=Reservation.Status.ACTIVE
            ).values_list("stock_item__warehouse__code", flat=True)
        )
    )
