"""Reads of stock."""

from django.db.models import F, Sum

from .models import InboundReceipt, InboundReceiptLine, Reservation, StockItem, StockMovement


def reservation_list_active(*, reference: str) -> list[Reservation]:
    """Active reservations held under a reference, with stock item, product and warehouse."""
    return list(
        Reservation.objects.filter(reference=reference, status=Reservation.Status.ACTIVE)
        .select_related("stock_item__product", "stock_item__warehouse")
        .order_by("pk")
    )


def stock_list_discrepancies() -> list[str]:
    """Every stock item whose on_hand differs from its ledger or whose reserved differs from its
    active reservations, or that breaks 0 <= reserved <= on_hand."""
    ledger = dict(
        StockMovement.objects.values("stock_item_id")
        .annotate(total=Sum("quantity"))
        .values_list("stock_item_id", "total")
    )
    held = dict(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE)
        .values("stock_item_id")
        .annotate(total=Sum("quantity"))
        .values_list("stock_item_id", "total")
    )
    problems = []
    items = StockItem.objects.select_related("product", "warehouse").order_by("pk")
    for item in items.iterator(chunk_size=2000):
        expected_on_hand = ledger.get(item.pk, 0)
        expected_reserved = held.get(item.pk, 0)
        if item.on_hand != expected_on_hand:
            problems.append(f"{item}: on hand {item.on_hand} but ledger sums to {expected_on_hand}")
        if item.reserved != expected_reserved:
            problems.append(
                f"{item}: reserved {item.reserved} but active reservations sum to {expected_reserved}"
            )
        if not 0 <= item.reserved <= item.on_hand:
            problems.append(f"{item}: reserved {item.reserved} outside 0..{item.on_hand}")
    return problems


def stock_item_filter_low(queryset):
    """Narrow a StockItem queryset to items at or below their reorder point (available units;
    items with reorder point 0 are never low)."""
    return queryset.filter(reorder_point__gt=0, on_hand__lte=F("reserved") + F("reorder_point"))


def stock_list_low() -> list[StockItem]:
    """Items at or below their reorder point, with product, warehouse and `on_order` (units
    still outstanding on open inbound receipts for that product and warehouse): three queries."""
    items = list(
        stock_item_filter_low(StockItem.objects.all())
        .select_related("product", "warehouse")
        .order_by("warehouse__code", "product__sku", "bin_location")
    )
    incoming = (
        InboundReceiptLine.objects.filter(
            receipt__status__in=InboundReceipt.OPEN,
            product_id__in={i.product_id for i in items},
        )
        .values("product_id", "receipt__warehouse_id")
        .annotate(total=Sum(F("quantity_expected") - F("quantity_received")))
    )
    on_order = {(r["product_id"], r["receipt__warehouse_id"]): r["total"] for r in incoming}
    for item in items:
        item.on_order = on_order.get((item.product_id, item.warehouse_id), 0)
    return items


def stock_movement_list_for_item(*, stock_item_id: int, limit: int = 50) -> list[StockMovement]:
    """The newest ledger lines of one stock item, with who made them."""
    return list(
        StockMovement.objects.filter(stock_item_id=stock_item_id)
        .select_related("actor")
        .order_by("-created_at", "-pk")[:limit]
    )


def inbound_receipt_count_open() -> int:
    """Receipts still expecting units (expected or partially received). One query (status index)."""
    return InboundReceipt.objects.filter(status__in=InboundReceipt.OPEN).count()


def stock_item_count_low() -> int:
    """How many stock items are at or below their reorder point. One query; it reads every stock
    item (a comparison between columns has no index), so it grows with the catalogue and the
    bins, not with orders."""
    return stock_item_filter_low(StockItem.objects.all()).count()
