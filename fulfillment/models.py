"""Carriers, service levels, shipments (one per warehouse an order is allocated to) and
carrier tracking events."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.models import TimeStampedModel


class Carrier(TimeStampedModel):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    tracking_url_template = models.CharField(
        max_length=255,
        blank=True,
        help_text="Link to the carrier's tracking page; {tracking_number} is replaced.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def tracking_url(self, tracking_number: str) -> str:
        if not (self.tracking_url_template and tracking_number):
            return ""
        return self.tracking_url_template.replace("{tracking_number}", tracking_number)


class ServiceLevel(TimeStampedModel):
    class Speed(models.TextChoices):
        STANDARD = "standard", "Standard"
        EXPRESS = "express", "Express"
        OVERNIGHT = "overnight", "Overnight"

    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="service_levels")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=100)
    speed = models.CharField(max_length=10, choices=Speed.choices, default=Speed.STANDARD)
    transit_days = models.PositiveIntegerField(default=3, help_text="Business days in transit.")
    cutoff_time = models.TimeField(
        default="15:00", help_text="Parcels shipped after this time leave the next business day."
    )
    countries = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated ISO country codes served; empty means everywhere.",
    )
    max_weight_grams = models.PositiveIntegerField(default=30_000)
    max_length_mm = models.PositiveIntegerField(default=1_200)
    allows_hazardous = models.BooleanField(default=False)
    allows_fragile = models.BooleanField(default=True)
    allows_oversize = models.BooleanField(default=False)
    price_per_parcel = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    price_per_kg = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier__name", "transit_days"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="service_level_unique_code"),
            models.CheckConstraint(
                condition=Q(price_per_parcel__gte=0) & Q(price_per_kg__gte=0),
                name="service_level_prices_gte_0",
            ),
        ]

    def __str__(self):
        return f"{self.carrier.name} {self.name}"


class Shipment(ConcurrentTransitionMixin, TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Ready to pick"
        PICKING = "picking", "Picking"
        PACKED = "packed", "Packed"
        SHIPPED = "shipped", "Shipped"
        IN_TRANSIT = "in_transit", "In transit"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        DELIVERED = "delivered", "Delivered"
        EXCEPTION = "exception", "Delivery problem"
        CANCELLED = "cancelled", "Cancelled"

    ON_THE_WAY = [Status.SHIPPED, Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.EXCEPTION]

    number = models.CharField(max_length=24, unique=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="shipments")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="shipments")
    status = FSMField(
        max_length=20,
        choices=Status.choices,
        default=Status.PENDING,
        protected=True,
        db_index=True,
    )
    service_level = models.ForeignKey(
        ServiceLevel, null=True, blank=True, on_delete=models.PROTECT, related_name="shipments"
    )
    tracking_number = models.CharField(max_length=64, blank=True, db_index=True)
    pick_list = models.ForeignKey(
        "PickList",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shipments",
        help_text="The batch pick list this shipment was picked on.",
    )
    weight_grams = models.PositiveIntegerField(default=0)
    estimated_delivery = models.DateField(null=True, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        # The KPI rollups (reports) look for shipments changed since their last refresh: a
        # delivery estimate set by a carrier event or by staff writes no order event.
        indexes = [models.Index(fields=["updated_at"], name="shipment_updated_at_idx")]

    def __str__(self):
        return self.number

    @property
    def carrier(self):
        return self.service_level.carrier if self.service_level_id else None

    @property
    def tracking_url(self) -> str:
        carrier = self.carrier
        return carrier.tracking_url(self.tracking_number) if carrier else ""

    @transition(field=status, source=Status.PENDING, target=Status.PICKING)
    def start_picking(self):
        pass

    @transition(field=status, source=[Status.PENDING, Status.PICKING], target=Status.PACKED)
    def pack(self, *, at):
        self.packed_at = at

    @transition(field=status, source=Status.PACKED, target=Status.SHIPPED)
    def ship(self, *, at, tracking_number: str):
        self.shipped_at = at
        self.tracking_number = tracking_number

    @transition(field=status, source=[Status.SHIPPED, Status.EXCEPTION], target=Status.IN_TRANSIT)
    def mark_in_transit(self):
        pass

    @transition(
        field=status,
        source=[Status.SHIPPED, Status.IN_TRANSIT, Status.EXCEPTION],
        target=Status.OUT_FOR_DELIVERY,
    )
    def mark_out_for_delivery(self):
        pass

    @transition(field=status, source=ON_THE_WAY, target=Status.DELIVERED)
    def deliver(self, *, at):
        self.delivered_at = at

    @transition(
        field=status,
        source=[Status.SHIPPED, Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY],
        target=Status.EXCEPTION,
    )
    def mark_exception(self):
        pass


class LateShipment(Shipment):
    """Shipments past their delivery estimate and not delivered: the customer-service queue."""

    class Meta:
        proxy = True
        verbose_name = "late shipment"
        verbose_name_plural = "late shipments (customer service)"


class PickList(TimeStampedModel):
    """A batch of ready shipments from one warehouse, picked in one walk through the bins."""

    number = models.CharField(max_length=24, unique=True)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="pick_lists")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    criteria = models.CharField(
        max_length=255, blank=True, help_text="The filters the list was built with, as staff chose them."
    )
    shipment_count = models.PositiveIntegerField(default=0)
    unit_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.number


class PickListLine(models.Model):
    """One stop on the walk: a SKU in a bin and how many units to take from it."""

    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(help_text="Walk order: sorted by bin, then SKU.")
    product = models.ForeignKey("inventory.Product", null=True, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField("SKU", max_length=64)
    barcode = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=255)
    bin_location = models.CharField(max_length=32, blank=True)
    quantity = models.PositiveIntegerField()
    breakdown = models.JSONField(
        default=list, help_text="[[shipment number, units], ...]: which tote each unit goes to."
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pick_list_line_quantity_gt_0"),
            models.UniqueConstraint(fields=["pick_list", "position"], name="pick_list_line_unique_position"),
        ]

    def __str__(self):
        return f"{self.bin_location or '—'} {self.quantity} × {self.sku}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()
    quantity_packed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_packed__lte=models.F("quantity")),
                name="shipment_line_packed_lte_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line.sku}"


class TrackingEvent(models.Model):
    class Status(models.TextChoices):
        PRE_TRANSIT = "pre_transit", "Label created"
        IN_TRANSIT = "in_transit", "In transit"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        DELIVERED = "delivered", "Delivered"
        EXCEPTION = "exception", "Delivery problem"
        UNKNOWN = "unknown", "Update"

    shipment = models.ForeignKey(
        Shipment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tracking_events",
        help_text="Empty when the tracking number matched no shipment (flagged for review).",
    )
    tracking_number = models.CharField(max_length=64, db_index=True)
    carrier_code = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    carrier_status = models.CharField(max_length=64, blank=True, help_text="As the carrier said it.")
    description = models.CharField(max_length=500, blank=True)
    location = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=32, default="manual")
    external_id = models.CharField(max_length=100, blank=True)
    raw = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tracking_number", "status", "occurred_at", "carrier_status"],
                name="tracking_event_unique",
            )
        ]

    def __str__(self):
        return f"{self.tracking_number} {self.status} {self.occurred_at:%Y-%m-%d %H:%M}"
