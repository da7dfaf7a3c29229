"""Channels, orders, lines, holds and the order event timeline.

The order's status is a protected FSM field: only the transitions below change it, and they
change nothing but the order's own fields. Side effects live in services.py.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.models import TimeStampedModel


class Channel(TimeStampedModel):
    class AllocationStrategy(models.TextChoices):
        PRIORITY = "priority", "Ship complete from the highest-priority warehouse"
        NEAREST = "nearest", "Ship complete from the warehouse nearest the customer"
        SPLIT = "split", "Split across warehouses when no single one can fill the order"

    class Kind(models.TextChoices):
        WEB = "web", "Online store (API)"
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"
        PHONE = "phone", "Phone"
        STORE = "store", "Physical store"
        MARKETPLACE = "marketplace", "Marketplace (CSV import)"

    class LabelRate(models.TextChoices):
        SERVICE_LEVEL = "service_level", "The service level the shipping rules chose"
        CHEAPEST_ON_TIME = "cheapest_on_time", "The cheapest that still meets the promised delivery date"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WEB)
    return_window_days = models.PositiveIntegerField(default=30)
    allocation_strategy = models.CharField(
        max_length=10,
        choices=AllocationStrategy.choices,
        default=AllocationStrategy.PRIORITY,
        help_text="How orders from this channel choose the warehouse(s) that ship them.",
    )
    webhook_secret = models.CharField(
        max_length=255, blank=True, help_text="Shared secret the platform signs its webhooks with."
    )
    label_rate = models.CharField(
        "label rate bought",
        max_length=16,
        choices=LabelRate.choices,
        default=LabelRate.SERVICE_LEVEL,
        help_text="Which carrier rate the packing station buys for this channel's parcels.",
    )
    pays_return_shipping = models.BooleanField(
        default=False,
        help_text="Approved returns get a prepaid return label, whatever the reason (otherwise only "
        "for the reasons in OMS_FREE_RETURN_REASONS).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Address(models.Model):
    name = models.CharField(max_length=200, blank=True)
    company = models.CharField(max_length=200, blank=True)
    line1 = models.CharField(max_length=255, blank=True)
    line2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name_plural = "addresses"

    def __str__(self):
        return ", ".join(p for p in [self.name, self.line1, self.city, self.country] if p)

    def as_lines(self) -> list[str]:
        city = " ".join(p for p in [self.postal_code, self.city] if p)
        parts = [self.name, self.company, self.line1, self.line2, city, self.region, self.country]
        return [p for p in parts if p]


NUMBER_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_order_number() -> str:
    """A short number customers can type, hard to guess: SO- and 8 unambiguous characters."""
    return "SO-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


class Order(ConcurrentTransitionMixin, TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ON_HOLD = "on_hold", "On hold"
        VERIFIED = "verified", "Verified"
        BACKORDERED = "backordered", "Backordered"
        ALLOCATED = "allocated", "Allocated"
        PROCESSING = "processing", "Processing"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    class ShippingSpeed(models.TextChoices):
        STANDARD = "standard", "Standard"
        EXPRESS = "express", "Express"
        OVERNIGHT = "overnight", "Overnight"

    class PaymentStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        AUTHORIZED = "authorized", "Authorized"
        PAID = "paid", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        FAILED = "failed", "Failed"
        VOIDED = "voided", "Voided"

    CANCELLABLE = [
        Status.PENDING,
        Status.ON_HOLD,
        Status.VERIFIED,
        Status.BACKORDERED,
        Status.ALLOCATED,
    ]
    # What an edit (orders.services.edit) may change: every state from hold to partly shipped.
    # An edit is still refused while a shipment is being picked or packed.
    EDITABLE = [
        Status.ON_HOLD,
        Status.VERIFIED,
        Status.BACKORDERED,
        Status.ALLOCATED,
        Status.PROCESSING,
        Status.PARTIALLY_SHIPPED,
    ]

    number = models.CharField(max_length=20, unique=True, default=new_order_number, editable=False)
    # Indexes here are kept to the ones a query needs: each is written on every insert and every
    # status change (3 per captured order). channel and status lead composite indexes below;
    # e-mail lookups go through UPPER(email); addresses are never looked up by order.
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders", db_index=False)
    external_id = models.CharField(
        max_length=100, blank=True, help_text="The order's id in the sales channel."
    )
    status = FSMField(
        max_length=20,
        choices=Status.choices,
        default=Status.PENDING,
        protected=True,
    )
    email = models.EmailField()
    customer_name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    shipping_address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    billing_address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    shipping_speed = models.CharField(
        max_length=10, choices=ShippingSpeed.choices, default=ShippingSpeed.STANDARD
    )
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    payment_method = models.CharField(max_length=40, blank=True)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    payment_reference = models.CharField(max_length=100, blank=True)
    payment_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    placed_at = models.DateTimeField(db_index=True, help_text="When the customer placed it.")
    verified_at = models.DateTimeField(null=True, blank=True)
    allocated_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True, help_text="Internal notes, never shown to the customer.")

    class Meta:
        ordering = ["-placed_at", "-pk"]
        permissions = [("export_order", "Can export orders as CSV")]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="order_unique_channel_external_id",
            ),
            *[
                models.CheckConstraint(condition=Q(**{f"{f}__gte": 0}), name=f"order_{f}_gte_0")
                for f in [
                    "subtotal",
                    "shipping_total",
                    "tax_total",
                    "discount_total",
                    "total",
                    "payment_amount",
                ]
            ],
        ]
        indexes = [
            models.Index(fields=["status", "placed_at"]),
            models.Index(fields=["channel", "placed_at"]),
            # Behind the admin list's filters, in the list's order (newest first).
            models.Index(fields=["shipping_speed", "placed_at"], name="order_speed_placed_idx"),
            models.Index(fields=["payment_status", "placed_at"], name="order_payment_placed_idx"),
            # The duplicate-window rule asks for the same e-mail (any case) near a time.
            models.Index(Upper("email"), F("placed_at"), name="order_email_upper_placed_idx"),
        ]

    def __str__(self):
        return self.number

    @property
    def stock_reference(self) -> str:
        return f"order:{self.pk}"

    # --- transitions: own fields only; services do the rest ---------------------------------
    @transition(field=status, source=Status.PENDING, target=Status.VERIFIED)
    def verify(self, *, at):
        self.verified_at = at

    @transition(field=status, source=Status.PENDING, target=Status.ON_HOLD)
    def hold(self):
        pass

    @transition(field=status, source=Status.ON_HOLD, target=Status.PENDING)
    def release(self):
        pass

    @transition(field=status, source=Status.VERIFIED, target=Status.BACKORDERED)
    def backorder(self):
        pass

    @transition(field=status, source=[Status.VERIFIED, Status.BACKORDERED], target=Status.ALLOCATED)
    def allocate(self, *, at):
        self.allocated_at = at

    @transition(field=status, source=Status.ALLOCATED, target=Status.PROCESSING)
    def start_fulfillment(self):
        pass

    @transition(
        field=status,
        source=[Status.PROCESSING, Status.PARTIALLY_SHIPPED],
        target=Status.PARTIALLY_SHIPPED,
    )
    def ship_partially(self, *, at):
        self.shipped_at = self.shipped_at or at

    @transition(field=status, source=[Status.PROCESSING, Status.PARTIALLY_SHIPPED], target=Status.SHIPPED)
    def ship(self, *, at):
        self.shipped_at = self.shipped_at or at

    @transition(field=status, source=Status.PENDING, target=Status.SHIPPED)
    def ship_elsewhere(self):
        """Captured already fulfilled by the sales channel: nothing is left for our warehouses.
        shipped_at stays empty: it times our shipping (the lead-time KPIs), not the channel's."""

    @transition(field=status, source=Status.SHIPPED, target=Status.DELIVERED)
    def deliver(self, *, at):
        self.delivered_at = at

    @transition(field=status, source=CANCELLABLE, target=Status.CANCELLED)
    def cancel(self, *, at, reason: str = ""):
        self.cancelled_at = at
        self.cancel_reason = reason[:255]

    # --- edits (orders.services.edit) --------------------------------------------------------
    @transition(field=status, source=EDITABLE, target=None)
    def edit(self):
        """No change of state: the states in which the lines, address and speed may change
        (offered while can_proceed(order.edit)); the edit service never calls it."""

    @transition(
        field=status,
        source=[
            Status.VERIFIED,
            Status.BACKORDERED,
            Status.ALLOCATED,
            Status.PROCESSING,
            Status.PARTIALLY_SHIPPED,
        ],
        target=Status.ON_HOLD,
    )
    def hold_after_edit(self):
        """An edited order that no longer passes verification waits for staff, holding no stock."""

    @transition(
        field=status,
        source=[Status.ALLOCATED, Status.PROCESSING, Status.PARTIALLY_SHIPPED],
        target=Status.BACKORDERED,
    )
    def backorder_after_edit(self):
        """An edited order whose new lines can't all be reserved waits for stock."""

    @transition(
        field=status,
        source=[
            Status.ON_HOLD,
            Status.VERIFIED,
            Status.BACKORDERED,
            Status.ALLOCATED,
            Status.PARTIALLY_SHIPPED,
        ],
        target=Status.SHIPPED,
    )
    def ship_after_edit(self, *, at):
        """An edit took off every unit not yet shipped: what has shipped is the whole order."""
        self.shipped_at = self.shipped_at or at


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "inventory.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the channel's SKU matched no product (the order is held).",
    )
    sku = models.CharField("SKU", max_length=64, help_text="As ordered, copied at capture.")
    name = models.CharField(max_length=255)
    external_line_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="The line's id in the sales channel (a Shopify line item, a WooCommerce line), "
        "so fulfilments sent back name the platform's line, never a name or SKU.",
    )
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_fulfilled_elsewhere = models.PositiveIntegerField(
        default=0,
        help_text="Of the units shipped, those the sales channel had already fulfilled itself when "
        "the order arrived: never reserved nor shipped from our warehouses.",
    )
    quantity_returned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_unit_price_gte_0"),
            models.CheckConstraint(
                condition=Q(quantity_shipped__lte=models.F("quantity")),
                name="line_shipped_lte_quantity",
            ),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=models.F("quantity_shipped")),
                name="line_returned_lte_shipped",
            ),
            models.CheckConstraint(
                condition=Q(quantity_fulfilled_elsewhere__lte=models.F("quantity_shipped")),
                name="line_elsewhere_lte_shipped",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"

    @property
    def stock_reference(self) -> str:
        return f"line:{self.pk}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class OrderHold(models.Model):
    class Reason(models.TextChoices):
        ADDRESS = "address", "Address unverifiable"
        PAYMENT = "payment", "Payment not authorized"
        FRAUD = "fraud", "Fraud review"
        DUPLICATE = "duplicate", "Suspected duplicate"
        LIMIT = "limit", "Quantity or value over limit"
        UNKNOWN_SKU = "unknown_sku", "Unknown or inactive SKU"
        INCOMPLETE = "incomplete", "Required details missing"
        MANUAL = "manual", "Manual hold"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(max_length=20, choices=Reason.choices, db_index=True)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggestion = models.JSONField(
        null=True,
        blank=True,
        help_text="The carrier's version of the address, when it could not deliver to ours.",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["reason", "released_at"])]

    def __str__(self):
        return f"{self.get_reason_display()}: {self.detail}" if self.detail else self.get_reason_display()

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class OrderEvent(models.Model):
    class Kind(models.TextChoices):
        CAPTURED = "captured", "Order received"
        VERIFIED = "verified", "Order verified"
        HELD = "held", "On hold"
        RELEASED = "released", "Hold released"
        ALLOCATED = "allocated", "Stock reserved"
        BACKORDERED = "backordered", "Backordered"
        FULFILLMENT_STARTED = "fulfillment_started", "Being prepared"
        PACKED = "packed", "Packed"
        SHIPPED = "shipped", "Shipped"
        IN_TRANSIT = "in_transit", "In transit"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        DELIVERED = "delivered", "Delivered"
        DELIVERY_EXCEPTION = "delivery_exception", "Delivery problem"
        CANCELLED = "cancelled", "Cancelled"
        RETURN = "return", "Return"
        REFUND = "refund", "Refund"
        NOTE = "note", "Note"
        EMAIL = "email", "E-mail sent"
        EDITED = "edited", "Order changed"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    visible_to_customer = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changes = models.JSONField(
        null=True,
        blank=True,
        help_text="What an edit changed, field by field (lines, address, speed, totals, money).",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        # "Was this order ever backordered?" (the KPI dashboard) reads one kind's few events.
        indexes = [models.Index(fields=["kind", "order"], name="orderevent_kind_order_idx")]

    def __str__(self):
        return f"{self.order_id} {self.kind}"
