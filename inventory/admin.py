from django.contrib import admin
from django.db.models import F, Sum
from django.utils.html import format_html, format_html_join

from .models import Product, Reservation, StockItem, StockMovement, Warehouse


class StockItemInline(admin.TabularInline):
    model = StockItem
    extra = 0
    fields = [
        "warehouse",
        "bin_location",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "reorder_quantity",
    ]
    readonly_fields = ["on_hand", "reserved", "available"]

    @admin.display(description="Available")
    def available(self, item):
        return item.available if item.pk else "—"

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "on_hand", "reserved", "available", "is_active"]
    list_filter = ["is_active", "is_hazardous", "is_fragile", "is_oversize"]
    search_fields = ["sku", "name", "=barcode"]
    inlines = [StockItemInline]
    readonly_fields = ["stock_by_warehouse"]
    fieldsets = [
        (None, {"fields": ["sku", "barcode", "name", "price", "is_active", "stock_by_warehouse"]}),
        (
            "Parcel",
            {
                "fields": [
                    "weight_grams",
                    "length_mm",
                    "width_mm",
                    "height_mm",
                    "is_hazardous",
                    "is_fragile",
                    "is_oversize",
                ]
            },
        ),
        ("Returns", {"fields": ["is_returnable", "return_window_days"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_on_hand=Sum("stock_items__on_hand"), _reserved=Sum("stock_items__reserved"))
        )

    @admin.display(description="On hand", ordering="_on_hand")
    def on_hand(self, product):
        return product._on_hand or 0

    @admin.display(description="Reserved", ordering="_reserved")
    def reserved(self, product):
        return product._reserved or 0

    @admin.display(description="Available")
    def available(self, product):
        return (product._on_hand or 0) - (product._reserved or 0)

    @admin.display(description="Stock per warehouse")
    def stock_by_warehouse(self, product):
        rows = (
            product.stock_items.values("warehouse__code")
            .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
            .annotate(available=F("on_hand") - F("reserved"))
            .order_by("warehouse__code")
        )
        if not rows:
            return "No stock anywhere."
        return format_html(
            "<table><tr><th>Warehouse</th><th>On hand</th><th>Reserved</th><th>Available</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((r["warehouse__code"], r["on_hand"], r["reserved"], r["available"]) for r in rows),
            ),
        )


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "region", "priority", "is_active"]
    list_editable = ["priority", "is_active"]
    search_fields = ["code", "name"]


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    list_display = [
        "product",
        "warehouse",
        "bin_location",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
    ]
    list_filter = ["warehouse"]
    search_fields = ["product__sku", "product__name", "bin_location"]
    list_select_related = ["product", "warehouse"]
    readonly_fields = ["on_hand", "reserved"]

    @admin.display(description="Available")
    def available(self, item):
        return item.available


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The ledger: append-only, so nothing here can be edited or deleted."""

    list_display = ["created_at", "stock_item", "kind", "quantity", "reference", "reason", "actor"]
    list_filter = ["kind", "stock_item__warehouse"]
    search_fields = ["stock_item__product__sku", "reference"]
    list_select_related = ["stock_item__product", "stock_item__warehouse", "actor"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "stock_item", "reference", "line_reference", "quantity", "status"]
    list_filter = ["status"]
    search_fields = ["reference", "stock_item__product__sku"]
    list_select_related = ["stock_item__product", "stock_item__warehouse"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
