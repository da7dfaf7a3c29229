from django import forms
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import F, Sum
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin_actions import ObjectAction, ObjectActionForm, ObjectActionsMixin
from core.admin_extensions import ExtensibleAdminMixin
from core.admin_mixins import ViewerMixin, WritesMixin, viewer_may

from .models import (
    InboundReceipt,
    InboundReceiptLine,
    Product,
    Reservation,
    StockItem,
    StockMovement,
    Warehouse,
)
from .selectors import stock_item_filter_low, stock_movement_list_for_item
from .services import (
    inbound_receipt_close,
    inbound_receipt_receive,
    stock_adjust,
    stock_count_record,
    stock_receive,
    stock_transfer,
)


def _active_warehouses():
    return Warehouse.objects.filter(is_active=True).order_by("priority")


class ReceiveStockForm(ObjectActionForm):
    warehouse = forms.ModelChoiceField(queryset=_active_warehouses(), empty_label=None)
    quantity = forms.IntegerField(min_value=1, widget=forms.NumberInput(attrs={"placeholder": "units"}))
    bin_location = forms.CharField(
        label="Bin",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "first bin there"}),
    )
    reference = forms.CharField(
        max_length=100, required=False, widget=forms.TextInput(attrs={"placeholder": "delivery note"})
    )


class CountForm(ObjectActionForm):
    counted = forms.IntegerField(label="Counted quantity", min_value=0)
    note = forms.CharField(required=False)


class AdjustForm(ObjectActionForm):
    quantity = forms.IntegerField(label="Change (+/-)", widget=forms.NumberInput(attrs={"placeholder": "-2"}))
    reason_code = forms.ChoiceField(label="Reason", choices=StockMovement.ReasonCode.choices)
    note = forms.CharField(required=False)


class TransferForm(ObjectActionForm):
    warehouse = forms.ModelChoiceField(label="To warehouse", queryset=_active_warehouses(), empty_label=None)
    quantity = forms.IntegerField(min_value=1)
    bin_location = forms.CharField(
        label="To bin",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "first bin there"}),
    )
    note = forms.CharField(required=False)


def _receive(product, user, data):
    warehouse, quantity = data["warehouse"], data["quantity"]
    stock_receive(
        product=product,
        warehouse=warehouse,
        quantity=quantity,
        bin_location=data["bin_location"] or None,
        reference=data["reference"] or "receipt:unannounced",
        actor=user,
    )
    return f"{quantity} × {product.sku} received into {warehouse.code}."


def _adjust(item, user, data):
    quantity = data["quantity"]
    stock_adjust(
        stock_item_id=item.pk,
        quantity=quantity,
        reason_code=data["reason_code"],
        note=data["note"],
        actor=user,
    )
    return f"{item}: adjusted by {quantity:+d}."


def _count(item, user, data):
    counted = data["counted"]
    movement = stock_count_record(stock_item_id=item.pk, counted=counted, note=data["note"], actor=user)
    if movement is None:
        return f"{item}: count of {counted} matches the system."
    return f"{item}: count of {counted} recorded, correction {movement.quantity:+d}."


def _transfer(item, user, data):
    quantity = data["quantity"]
    out, into = stock_transfer(
        stock_item_id=item.pk,
        to_warehouse_id=data["warehouse"].pk,
        quantity=quantity,
        to_bin_location=data["bin_location"] or None,
        note=data["note"],
        actor=user,
    )
    return f"{quantity} × {item.product.sku} moved to {into.stock_item} ({out.reference})."


STOCK_PERMISSION = "inventory.change_stockitem"

PRODUCT_ACTIONS = (
    ObjectAction(
        "receive",
        "Receive stock",
        _receive,
        permission=STOCK_PERMISSION,
        style="primary",
        form_class=ReceiveStockForm,
    ),
)

STOCK_ITEM_ACTIONS = (
    ObjectAction(
        "count",
        "Record count",
        _count,
        permission=STOCK_PERMISSION,
        style="primary",
        order=10,
        form_class=CountForm,
    ),
    ObjectAction(
        "adjust",
        "Adjust",
        _adjust,
        permission=STOCK_PERMISSION,
        order=20,
        form_class=AdjustForm,
    ),
    ObjectAction(
        "transfer",
        "Transfer",
        _transfer,
        permission=STOCK_PERMISSION,
        order=30,
        form_class=TransferForm,
    ),
)


# --- product search for order lines ------------------------------------------------------------
class ProductAutocompleteJsonView(AutocompleteJsonView):
    """The admin's autocomplete (SKU, name or barcode: ProductAdmin.search_fields) for products
    that can be ordered, each shown with its list price and the units available."""

    def get_queryset(self):
        # The annotated (GROUP BY) queryset drops Meta.ordering: order it for the pages.
        return super().get_queryset().filter(is_active=True).order_by("sku")

    def serialize_result(self, obj, to_field_name):
        available = (obj._on_hand or 0) - (obj._reserved or 0)
        return {
            **super().serialize_result(obj, to_field_name),
            "text": f"{obj} — {obj.price} · {available} available",
        }


class ProductAutocomplete(AutocompleteSelect):
    """An order line's product, searched with ProductAutocompleteJsonView."""

    url_name = "%s:inventory_product_autocomplete"


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "low"

    def lookups(self, request, model_admin):
        return [("yes", "At or below reorder point")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return stock_item_filter_low(queryset)
        return queryset


def _ledger_table(movements, more_url: str | None):
    if not movements:
        return "No movements yet."
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                f"{timezone.localtime(m.created_at):%Y-%m-%d %H:%M}",
                m.get_kind_display(),
                f"{m.quantity:+d}",
                m.reference,
                " · ".join(p for p in [m.get_reason_code_display(), m.reason] if p),
                m.actor or "system",
            )
            for m in movements
        ),
    )
    table = format_html(
        '<table class="oms-table"><tr><th>When</th><th>Kind</th><th>Units</th><th>Reference</th>'
        "<th>Reason</th><th>By</th></tr>{}</table>",
        rows,
    )
    if more_url is None:
        return table
    return format_html('{}<p><a href="{}">Full ledger</a></p>', table, more_url)


class StockItemInline(WritesMixin, admin.TabularInline):
    allow_delete = False
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


@admin.register(Product)
class ProductAdmin(ObjectActionsMixin, admin.ModelAdmin):
    object_actions = PRODUCT_ACTIONS
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
        # The annotation (GROUP BY) drops Meta.ordering; the list orders by its own columns, but
        # the admin's autocomplete (SKU mappings pick a product) pages through this as it is.
        return (
            super()
            .get_queryset(request)
            .annotate(_on_hand=Sum("stock_items__on_hand"), _reserved=Sum("stock_items__reserved"))
            .order_by("sku")
        )

    def get_urls(self):
        view = ProductAutocompleteJsonView.as_view(admin_site=self.admin_site)
        return [
            path("autocomplete/", self.admin_site.admin_view(view), name="inventory_product_autocomplete"),
            *super().get_urls(),
        ]

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
class StockItemAdmin(ViewerMixin, WritesMixin, ExtensibleAdminMixin, admin.ModelAdmin):
    allow_delete = False
    object_actions = STOCK_ITEM_ACTIONS
    list_display = [
        "product",
        "warehouse",
        "bin_location",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "reorder_quantity",
        "last_counted_at",
    ]
    list_filter = [LowStockFilter, "warehouse"]
    search_fields = ["product__sku", "product__name", "bin_location"]
    list_select_related = ["product", "warehouse"]
    fields = [
        "product",
        "warehouse",
        "bin_location",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "reorder_quantity",
        "last_counted_at",
        "ledger",
    ]
    readonly_fields = ["on_hand", "reserved", "available", "last_counted_at", "ledger"]

    def get_readonly_fields(self, request, obj=None):
        # Where stock sits is history once it exists: move it with a transfer instead.
        if obj is not None:
            return ["product", "warehouse", "bin_location", *self.readonly_fields]
        return self.readonly_fields

    @admin.display(description="Available")
    def available(self, item):
        return item.available if item.pk else "—"

    @admin.display(description="Ledger (newest first)")
    def ledger(self, item):
        if not item.pk:
            return "—"
        url = None
        if viewer_may(item, "inventory.view_stockmovement"):
            url = reverse("admin:inventory_stockmovement_changelist") + f"?stock_item={item.pk}"
        return _ledger_table(stock_movement_list_for_item(stock_item_id=item.pk), url)


@admin.register(StockMovement)
class StockMovementAdmin(WritesMixin, ExtensibleAdminMixin, admin.ModelAdmin):
    """The ledger: append-only, so nothing here can be edited or deleted."""

    allow_add = False
    allow_change = False
    allow_delete = False
    list_display = [
        "created_at",
        "stock_item",
        "kind",
        "quantity",
        "reference",
        "reason_code",
        "reason",
        "actor",
    ]
    list_filter = ["kind", "reason_code", "stock_item__warehouse"]
    search_fields = ["stock_item__product__sku", "reference"]
    list_select_related = ["stock_item__product", "stock_item__warehouse", "actor"]
    show_full_result_count = False


@admin.register(Reservation)
class ReservationAdmin(WritesMixin, admin.ModelAdmin):
    allow_add = False
    allow_change = False
    allow_delete = False
    list_display = ["created_at", "stock_item", "reference", "line_reference", "quantity", "status"]
    list_filter = ["status"]
    search_fields = ["reference", "stock_item__product__sku"]
    list_select_related = ["stock_item__product", "stock_item__warehouse"]


class InboundReceiptLineForm(forms.ModelForm):
    class Meta:
        model = InboundReceiptLine
        fields = ["product", "bin_location", "quantity_expected"]

    def clean_quantity_expected(self):
        value = self.cleaned_data["quantity_expected"]
        received = self.instance.quantity_received if self.instance.pk else 0
        if value < max(received, 1):
            raise ValidationError(f"Expect at least {max(received, 1)} (already received {received}).")
        return value


class InboundReceiptLineInline(admin.TabularInline):
    model = InboundReceiptLine
    form = InboundReceiptLineForm
    extra = 1
    fields = ["product", "bin_location", "quantity_expected", "quantity_received", "outstanding"]
    readonly_fields = ["quantity_received", "outstanding"]
    autocomplete_fields = ["product"]

    @admin.display(description="Outstanding")
    def outstanding(self, line):
        return line.outstanding if line.pk else "—"

    def has_add_permission(self, request, obj=None):
        return obj is None or obj.is_open

    def has_change_permission(self, request, obj=None):
        return (obj is None or obj.is_open) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.status == InboundReceipt.Status.EXPECTED


class ReceiptDeliveryForm(ObjectActionForm):
    quantities = forms.CharField(
        label="Arrived", widget=forms.TextInput(attrs={"placeholder": "SKU-1=5, SKU-2=3"})
    )

    def clean_quantities(self) -> dict[int, int]:
        """ "SKU=qty, SKU=qty" (as typed or scanned) to {receipt line id: qty}."""
        receipt = self.obj
        lines = {}
        for line in receipt.lines.select_related("product"):
            lines.setdefault(line.product.sku.lower(), line.pk)
        quantities: dict[int, int] = {}
        for part in self.cleaned_data["quantities"].replace(";", ",").replace("\n", ",").split(","):
            if not part.strip():
                continue
            sku, sep, qty = part.partition("=")
            sku = sku.strip()
            if not sep:
                raise ValidationError(f"“{part.strip()}”: write SKU=quantity.")
            line_id = lines.get(sku.lower())
            if line_id is None:
                raise ValidationError(f"{sku} is not on receipt {receipt.number}.")
            try:
                units = int(qty.strip())
            except ValueError:
                raise ValidationError(f"{sku}: the quantity must be a whole number.") from None
            if units < 0:
                raise ValidationError(f"{sku}: the quantity can't be negative.")
            quantities[line_id] = quantities.get(line_id, 0) + units
        return quantities


class ReceiptCloseForm(ObjectActionForm):
    note = forms.CharField(label="Why", required=False)


def _receipt_receive_all(receipt, user, data):
    movements = inbound_receipt_receive(receipt_id=receipt.pk, actor=user)
    return f"{receipt.number}: {sum(m.quantity for m in movements)} units received."


def _receipt_receive_some(receipt, user, data):
    movements = inbound_receipt_receive(receipt_id=receipt.pk, quantities=data["quantities"], actor=user)
    return f"{receipt.number}: {sum(m.quantity for m in movements)} units received."


def _receipt_close(receipt, user, data):
    receipt = inbound_receipt_close(receipt_id=receipt.pk, actor=user, note=data["note"])
    return f"{receipt.number} is now {receipt.get_status_display().lower()}."


# Receipts have no state machine: open (expected or partially received) is their own property.
RECEIPT_ACTIONS = (
    ObjectAction(
        "receive_some",
        "Receive delivery",
        _receipt_receive_some,
        available=lambda r: r.is_open,
        permission=STOCK_PERMISSION,
        style="primary",
        order=10,
        form_class=ReceiptDeliveryForm,
    ),
    ObjectAction(
        "receive_all",
        "Receive everything outstanding",
        _receipt_receive_all,
        available=lambda r: r.is_open,
        permission=STOCK_PERMISSION,
        order=20,
    ),
    ObjectAction(
        "close",
        "Close (expect no more)",
        _receipt_close,
        available=lambda r: r.is_open,
        permission=STOCK_PERMISSION,
        style="danger",
        order=90,
        form_class=ReceiptCloseForm,
        confirm="Stop expecting the rest of this receipt?",
    ),
)


@admin.register(InboundReceipt)
class InboundReceiptAdmin(WritesMixin, ObjectActionsMixin, admin.ModelAdmin):
    allow_delete = False
    object_actions = RECEIPT_ACTIONS
    list_display = [
        "number",
        "supplier",
        "supplier_reference",
        "warehouse",
        "status",
        "expected_on",
        "received_at",
    ]
    list_filter = ["status", "warehouse"]
    search_fields = ["number", "supplier", "supplier_reference", "lines__product__sku"]
    list_select_related = ["warehouse"]
    date_hierarchy = "created_at"
    inlines = [InboundReceiptLineInline]
    readonly_fields = ["number", "status", "received_at"]
    fields = [
        "number",
        "supplier",
        "supplier_reference",
        "warehouse",
        "expected_on",
        "status",
        "received_at",
        "notes",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != InboundReceipt.Status.EXPECTED:
            return [*self.readonly_fields, "warehouse"]
        return self.readonly_fields
