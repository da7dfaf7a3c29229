"""Carriers, service levels, shipments (one per warehouse an order is allocated to) and
carrier tracking events."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.models import TimeStampedModel

from .gateway.types import LabelFormat


class Carrier(TimeStampedModel):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    tracking_url_template = models.CharField(
        max_length=255,
        blank=True,
        help_text="Link to the carrier's tracking page; {tracking_number} is replaced.",
    )
    is_active = models.BooleanField(default=True)
    gateway = models.CharField(
        max_length=32,
        default="manual",
        help_text="How labels are bought: “manual” (staff type the tracking number) or a connected "
        "platform such as “easypost”.",
    )
    gateway_account_id = models.CharField(
        "platform carrier account",
        max_length=100,
        blank=True,
        help_text="The platform's id of our account with this carrier (EasyPost: ca_…).",
    )
    gateway_carrier = models.CharField(
        "platform carrier name",
        max_length=50,
        blank=True,
        help_text="The carrier's name on the platform (EasyPost: USPS, UPS, FedEx …), used when no "
        "account id is set.",
    )

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
    gateway_service = models.CharField(
        "platform service code",
        max_length=64,
        blank=True,
        help_text="The service's code on the carrier's platform (EasyPost: GroundAdvantage, "
        "Priority …); a rate with this code from this carrier's account is this service level.",
    )

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


class Box(models.Model):
    """A carton the packers use: its outer size and its own weight, added to the items'."""

    code = models.CharField(max_length=32, unique=True, help_text="Printed on the shelf; scannable.")
    name = models.CharField(max_length=100)
    length_mm = models.PositiveIntegerField()
    width_mm = models.PositiveIntegerField()
    height_mm = models.PositiveIntegerField()
    weight_grams = models.PositiveIntegerField(default=0, help_text="The empty box.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["length_mm", "width_mm", "height_mm", "code"]
        verbose_name_plural = "boxes"

    def __str__(self):
        return f"{self.name} ({self.length_mm}×{self.width_mm}×{self.height_mm} mm)"


class PackingStation(models.Model):
    """A packing desk and its label printer: PDF for office printers, ZPL for thermal ones."""

    name = models.CharField(max_length=100)
    warehouse = models.ForeignKey(
        "inventory.Warehouse", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    label_format = models.CharField(max_length=3, choices=LabelFormat.choices, default=LabelFormat.PDF)
    label_size = models.CharField(max_length=10, default="4x6", help_text="Inches, e.g. 4x6.")
    default_box = models.ForeignKey(
        Box,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Used when the packer chose no box.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_label_format_display()})"


class ShipFrom(models.Model):
    """Where a warehouse's parcels leave from (and return labels go back to)."""

    warehouse = models.OneToOneField(
        "inventory.Warehouse", on_delete=models.CASCADE, related_name="ship_from"
    )
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    line1 = models.CharField(max_length=255)
    line2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        verbose_name = "ship-from address"
        verbose_name_plural = "ship-from addresses"

    def __str__(self):
        return f"{self.warehouse_id}: {self.line1}, {self.city}"


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
    box = models.ForeignKey(Box, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    length_mm = models.PositiveIntegerField(default=0, help_text="Outer size of the parcel as packed.")
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    postage_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What its label cost (all carrier fees); empty without a bought label.",
    )
    postage_currency = models.CharField(max_length=3, blank=True)
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

    @transition(field=status, source=Status.PACKED, target=Status.PICKING)
    def unpack(self):
        self.packed_at = None

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


class LabelRecord(TimeStampedModel):
    """A label bought (or being bought) through a carrier gateway, kept with its file.

    The platform's shipment id (`reference`) is stored before anything is bought, and the
    purchase is marked `buying` before the call: a purchase retried after a time-out asks the
    platform what that shipment already has instead of buying a second label.
    """

    class Status(models.TextChoices):
        QUOTED = "quoted", "Rated"
        BUYING = "buying", "Being bought"
        BOUGHT = "bought", "Bought"
        FAILED = "failed", "Not bought"
        VOID_REQUESTED = "void_requested", "Void requested"
        VOIDED = "voided", "Voided"
        VOID_REFUSED = "void_refused", "Void refused"

    ACTIVE = [Status.QUOTED, Status.BUYING, Status.BOUGHT]

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUOTED, db_index=True)
    gateway = models.CharField(max_length=32)
    reference = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="The platform's shipment id (EasyPost: shp_…)."
    )
    quote = models.JSONField(
        default=dict,
        blank=True,
        help_text="The parcel rated and the rates offered, as the platform named them.",
    )
    rate_id = models.CharField(max_length=100, blank=True)
    carrier_name = models.CharField(max_length=64, blank=True)
    service_name = models.CharField(max_length=64, blank=True)
    service_level = models.ForeignKey(
        ServiceLevel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tracking_number = models.CharField(max_length=64, blank=True, db_index=True)
    postage = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    label_format = models.CharField(max_length=3, choices=LabelFormat.choices, default=LabelFormat.PDF)
    label_url = models.URLField(max_length=500, blank=True)
    document = models.BinaryField(blank=True, default=b"", editable=False)
    tracker_reference = models.CharField(max_length=100, blank=True)
    refund_status = models.CharField(
        max_length=32, blank=True, help_text="The platform's word on the postage refund after a void."
    )
    message = models.CharField(max_length=500, blank=True, help_text="Why the last step failed.")
    buying_since = models.DateTimeField(null=True, blank=True)
    bought_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class ShippingLabel(LabelRecord):
    """A shipment's label. At most one per shipment is active (rated, being bought or bought)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="labels")
    override_reason = models.CharField(
        max_length=255, blank=True, help_text="Why staff bought another rate than the rules chose."
    )

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment"],
                condition=Q(status__in=["quoted", "buying", "bought"]),
                name="shipping_label_one_active_per_shipment",
            ),
            models.CheckConstraint(condition=Q(postage__gte=0), name="shipping_label_postage_gte_0"),
        ]

    def __str__(self):
        return f"{self.shipment_id}: {self.tracking_number or self.reference or self.pk} ({self.status})"
