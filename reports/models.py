"""The export audit log. The app's permissions (export, dashboard) hang off this model."""

from django.conf import settings
from django.db import models


class ExportLog(models.Model):
    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command line"

    kind = models.CharField(max_length=32, db_index=True, help_text="Which export, e.g. orders.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    query = models.TextField(blank=True, help_text="The filters, search and selection exported.")
    row_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Rows written; empty if the download did not finish."
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        permissions = [
            ("export_data", "Can export CSV data"),
            ("view_dashboard", "Can view the KPI dashboard"),
        ]

    def __str__(self):
        return f"{self.kind} by {self.user or self.get_source_display()} at {self.started_at:%Y-%m-%d %H:%M}"


# --- KPI rollups -------------------------------------------------------------------------------
# Daily summaries behind the KPI dashboard, so a year's figures read a few thousand rows instead
# of a million orders. Derived data only: reports/rollups.py recomputes a day's rows from the
# source tables (delete, then INSERT … SELECT … GROUP BY), so any row can be thrown away and
# rebuilt (`manage.py kpi_rebuild`). "Day" is the local date in settings.TIME_ZONE.


class KpiOrderDay(models.Model):
    """Orders placed on a day through a channel."""

    day = models.DateField(help_text="Local date the orders were placed.")
    channel = models.ForeignKey("orders.Channel", on_delete=models.CASCADE, related_name="+")
    orders = models.PositiveIntegerField(default=0)
    ever_backordered = models.PositiveIntegerField(default=0, help_text="Orders with a backordered event.")
    still_backordered = models.PositiveIntegerField(default=0, help_text="Orders backordered right now.")
    shipped_units = models.PositiveIntegerField(default=0, help_text="Units shipped for these orders.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "channel"], name="kpi_order_day_unique")]

    def __str__(self):
        return f"{self.day} {self.channel_id}: {self.orders} orders"


class KpiLeadTimeDay(models.Model):
    """Shipped orders placed on a day, by how long capture to first shipment took (a histogram).

    Bands: to the hour up to 72 h, 6 hours up to a week, a day up to 30 days, then one open
    band. `within_hours` is the band's upper bound (a lead time of exactly 2 h is "within 2 h");
    empty for the open band (more than 30 days).
    """

    day = models.DateField(help_text="Local date the orders were placed.")
    within_hours = models.PositiveIntegerField(null=True, blank=True)
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "within_hours"], name="kpi_lead_time_day_unique")
        ]

    def __str__(self):
        return f"{self.day} ≤{self.within_hours} h: {self.orders}"


class KpiReturnReasonDay(models.Model):
    """Units and return requests (not rejected or cancelled) for orders placed on a day, by reason."""

    day = models.DateField(help_text="Local date the orders were placed.")
    reason = models.CharField(max_length=20)
    units = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "reason"], name="kpi_return_reason_day_unique")]

    def __str__(self):
        return f"{self.day} {self.reason}: {self.units}"


class KpiSkuDay(models.Model):
    """Units shipped and returned (not rejected or cancelled) per SKU for orders placed on a day.

    Only SKUs that shipped or were returned have a row. `name` is the product name on the
    returned lines (empty when none were returned).
    """

    day = models.DateField(help_text="Local date the orders were placed.")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    shipped_units = models.PositiveIntegerField(default=0)
    returned_units = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "sku"], name="kpi_sku_day_unique")]
        # "Return rate by product" asks for the top SKUs by returned units, then their shipped units.
        indexes = [
            models.Index(fields=["sku", "day"], name="kpi_sku_day_sku_idx"),
            models.Index(
                fields=["day"], condition=models.Q(returned_units__gt=0), name="kpi_sku_day_returned_idx"
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.sku}: {self.shipped_units} shipped, {self.returned_units} returned"


class KpiShipmentDay(models.Model):
    """Shipments (not cancelled) shipped on a day, by estimated delivery date and outcome.

    Whether an undelivered shipment is overdue depends on today, so it is decided when the
    dashboard is read, from the estimate kept here.
    """

    class Outcome(models.TextChoices):
        ON_TIME = "on_time", "Delivered on or before the estimate"
        LATE = "late", "Delivered after the estimate"
        UNDELIVERED = "undelivered", "Not delivered yet"
        NO_ESTIMATE = "no_estimate", "No estimate"

    day = models.DateField(help_text="Local date the shipments were shipped.")
    estimated_delivery = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    shipments = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "estimated_delivery", "outcome"], name="kpi_shipment_day_unique"
            )
        ]

    def __str__(self):
        return f"{self.day} {self.outcome}: {self.shipments}"


class KpiPostageDay(models.Model):
    """Shipments (not cancelled) shipped on a day, per carrier, service and currency: what their
    labels cost against what the customers paid for shipping (an order's shipping charge shared
    evenly among its shipments)."""

    day = models.DateField(help_text="Local date the shipments were shipped.")
    carrier = models.CharField(max_length=32, blank=True)
    service = models.CharField(max_length=32, blank=True)
    currency = models.CharField(max_length=3)
    shipments = models.PositiveIntegerField(default=0)
    labelled = models.PositiveIntegerField(default=0, help_text="Shipments with a bought label.")
    postage = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    charged = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "carrier", "service", "currency"], name="kpi_postage_day_unique"
            )
        ]

    def __str__(self):
        return f"{self.day} {self.carrier} {self.service}: {self.postage} {self.currency}"


class KpiRollupState(models.Model):
    """The one row that says how far the rollups are up to date, and the lock refreshes take.

    `refreshed_at` is the watermark: every change whose order event (or shipment update) was
    written before it, less a few minutes of overlap, is in the rollups. Empty: never built.
    """

    refreshed_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text="TIME_ZONE the days were cut in.")
    version = models.PositiveIntegerField(default=0, help_text="Rollup definitions the rows follow.")
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"KPI rollups up to {self.refreshed_at:%Y-%m-%d %H:%M}" if self.refreshed_at else "KPI rollups"
