"""Products, warehouses and stock. Knows nothing of orders: a reservation carries an opaque
reference that the caller chooses (orders use "order:<pk>" and "line:<pk>")."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.crypto import get_random_string

from core.models import TimeStampedModel


class Product(TimeStampedModel):
    sku = models.CharField("SKU", max_length=64, unique=True)
    barcode = models.CharField(max_length=64, blank=True, db_index=True)
    name = models.CharField(max_length=255)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="List price, used for phone orders."
    )
    weight_grams = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    is_hazardous = models.BooleanField(default=False)
    is_fragile = models.BooleanField(default=False)
    is_oversize = models.BooleanField(default=False)
    is_returnable = models.BooleanField(default=True)
    return_window_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the channel's return window when set."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive products can't be ordered.")

    class Meta:
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=Q(price__gte=0), name="product_price_gte_0")]

    def __str__(self):
        return f"{self.sku} · {self.name}"


class Warehouse(TimeStampedModel):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=128)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=64, blank=True)
    priority = models.PositiveIntegerField(
        default=100, help_text="Lower ships first when several warehouses can fill an order."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class StockItem(TimeStampedModel):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_items")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_items")
    bin_location = models.CharField(max_length=32, blank=True, help_text="Aisle-rack-shelf, e.g. A-03-2")
    on_hand = models.PositiveIntegerField(
        default=0, editable=False, help_text="Always the sum of this item's ledger movements."
    )
    reserved = models.PositiveIntegerField(
        default=0, editable=False, help_text="Always the sum of active reservations."
    )
    reorder_point = models.PositiveIntegerField(
        default=0, help_text="Listed as low stock when available units fall to this or below (0: never)."
    )
    reorder_quantity = models.PositiveIntegerField(default=0, help_text="How many to order when low.")
    last_counted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["warehouse__priority", "product__sku", "bin_location"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "warehouse", "bin_location"], name="stock_item_unique_bin"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_lte_on_hand"
            ),
        ]

    def __str__(self):
        where = f"{self.warehouse.code}/{self.bin_location}" if self.bin_location else self.warehouse.code
        return f"{self.product.sku} @ {where}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """One line of the append-only ledger: every change to on-hand stock."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        ADJUSTMENT = "adjustment", "Adjustment"
        COUNT = "count", "Count correction"
        SHIPMENT = "shipment", "Shipment"
        RETURN_RESTOCK = "return_restock", "Return restock"
        TRANSFER_OUT = "transfer_out", "Transfer out"
        TRANSFER_IN = "transfer_in", "Transfer in"

    class ReasonCode(models.TextChoices):
        DAMAGED = "damaged", "Damaged"
        EXPIRED = "expired", "Expired"
        LOST = "lost", "Lost or stolen"
        FOUND = "found", "Found"
        SUPPLIER_ERROR = "supplier_error", "Supplier delivered wrong quantity"
        DATA_ENTRY = "data_entry", "Data entry correction"
        SAMPLE = "sample", "Sample or internal use"
        OTHER = "other", "Other (see note)"

    stock_item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity = models.IntegerField(help_text="Positive adds stock, negative removes it.")
    reference = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="What caused it, e.g. receipt:RC-12."
    )
    reason_code = models.CharField(
        max_length=20, choices=ReasonCode.choices, blank=True, help_text="Why, for adjustments."
    )
    reason = models.CharField(max_length=255, blank=True, help_text="Free-text note.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_not_zero"),
            models.CheckConstraint(
                condition=~Q(kind="adjustment", reason_code=""), name="movement_adjustment_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity:+d} {self.stock_item_id}"


class Reservation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"
        CONSUMED = "consumed", "Consumed"

    stock_item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="reservations")
    # Looked up through the (reference, status) index below.
    reference = models.CharField(max_length=64, help_text="Who holds it, e.g. order:42")
    line_reference = models.CharField(max_length=64, help_text="Which line of it, e.g. line:97")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["reference", "status"])]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_gt_0")]

    def __str__(self):
        return f"{self.quantity} × {self.stock_item_id} for {self.reference} ({self.status})"


class InboundReceipt(TimeStampedModel):
    """Stock we expect from a supplier, received in one or several deliveries."""

    class Status(models.TextChoices):
        EXPECTED = "expected", "Expected"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = [Status.EXPECTED, Status.PARTIALLY_RECEIVED]

    number = models.CharField(max_length=20, unique=True, editable=False)
    supplier = models.CharField(max_length=200)
    supplier_reference = models.CharField(
        max_length=100, blank=True, help_text="The supplier's delivery note or purchase order number."
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="receipts")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.EXPECTED, db_index=True)
    expected_on = models.DateField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True, help_text="When the last units arrived.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.number} · {self.supplier}"

    def save(self, *args, **kwargs):
        if not self.number:
            self.number = "RC-" + get_random_string(8, "ABCDEFGHJKMNPQRSTVWXYZ23456789")
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class InboundReceiptLine(models.Model):
    receipt = models.ForeignKey(InboundReceipt, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    bin_location = models.CharField(
        max_length=32, blank=True, help_text="Where to put it; empty: the product's first bin there."
    )
    quantity_expected = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "product", "bin_location"], name="receipt_line_unique"
            ),
            models.CheckConstraint(condition=Q(quantity_expected__gt=0), name="receipt_line_expected_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity_expected")),
                name="receipt_line_received_lte_expected",
            ),
        ]

    def __str__(self):
        return f"{self.quantity_received}/{self.quantity_expected} × {self.product.sku}"

    @property
    def outstanding(self) -> int:
        return self.quantity_expected - self.quantity_received
