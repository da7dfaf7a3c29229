"""Intake records: channel API keys, the idempotency store, every inbound request kept raw,
per-channel SKU mappings and CSV import batches.

They were models of the orders app until intake became an app of its own; their tables keep
the names they had then (Meta.db_table), so the move copied no data.
"""

import hashlib

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


def secret_hash(secret: str) -> str:
    """SHA-256 of a high-entropy secret (API keys are random, so a slow hash adds nothing)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ChannelApiKey(TimeStampedModel):
    """A bearer key a channel's shop uses for the JSON API. Only its hash is stored."""

    channel = models.ForeignKey("orders.Channel", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, help_text="Where it is used, e.g. “shop backend”.")
    prefix = models.CharField(
        max_length=16, unique=True, editable=False, help_text="The visible start of the key."
    )
    secret_hash = models.CharField(max_length=64, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "orders_channelapikey"
        ordering = ["channel", "-created_at"]
        verbose_name = "channel API key"

    def __str__(self):
        return f"{self.channel.code}: oms_{self.prefix}_…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first reply to a request carrying an Idempotency-Key, replayed for retries."""

    channel = models.ForeignKey("orders.Channel", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(
        max_length=64, help_text="The order data's fingerprint (older records: SHA-256 of the raw body)."
    )
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "orders_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="idempotency_unique_channel_key")
        ]

    def __str__(self):
        return f"{self.channel_id}:{self.key}"


class InboundRequestQuerySet(models.QuerySet):
    def pending(self):
        """Requests waiting for the intake worker (intake/work.py): received from a known channel
        and not yet processed. CSV orders are received too while their import runs; the import
        processes them itself."""
        return self.filter(outcome=InboundRequest.Outcome.RECEIVED, channel__isnull=False).exclude(
            source=InboundRequest.Source.CSV
        )


class InboundRequest(TimeStampedModel):
    """One request that reached intake (API call, webhook delivery, one order of a CSV import),
    kept raw with what became of it, so nothing a channel sends is ever lost.

    Webhook deliveries and the API's `Prefer: respond-async` creates are stored as received
    (pending) and answered at once; the intake worker (intake/work.py) processes them later.
    """

    class Source(models.TextChoices):
        API = "api", "JSON API"
        SHOPIFY = "shopify", "Shopify webhook"
        WOOCOMMERCE = "woocommerce", "WooCommerce webhook"
        CSV = "csv", "CSV import"

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received"
        CAPTURED = "captured", "Order captured"
        HELD = "held", "Order captured on hold"
        DUPLICATE = "duplicate", "Already captured (replay)"
        CANCELLED = "cancelled", "Order cancelled"
        EDITED = "edited", "Order edited"
        IGNORED = "ignored", "Acknowledged, nothing to do"
        INVALID = "invalid", "Invalid data (rejected)"
        REJECTED = "rejected", "Bad key or signature"
        FAILED = "failed", "Failed: needs staff"

    source = models.CharField(max_length=12, choices=Source.choices)  # leads (source, delivery_id)
    channel = models.ForeignKey(
        "orders.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_requests"
    )
    delivery_id = models.CharField(
        max_length=255, blank=True, help_text="The platform's delivery id, idempotency key or CSV order id."
    )
    topic = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, help_text="The raw body as received (UTF-8).")
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.RECEIVED)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_requests"
    )
    import_batch = models.ForeignKey(
        "intake.ImportBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="inbound_requests"
    )
    attempts = models.PositiveIntegerField(default=1)
    processed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="API orders: the order data's fingerprint; the same external id sent again must "
        "carry the same.",
    )

    objects = InboundRequestQuerySet.as_manager()

    class Meta:
        db_table = "orders_inboundrequest"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["source", "delivery_id"]),
            # The admin's outcome filter; a plain index (db_index on a CharField adds a LIKE one).
            models.Index(fields=["outcome"], name="inbound_outcome_idx"),
            # The worker's queue, a channel's in arrival order, and the backlog: only the pending
            # rows. The worker claims `channel_id = ? ORDER BY id LIMIT n` straight off it.
            models.Index(
                fields=["channel_id", "id"],
                condition=models.Q(outcome="received"),
                name="inbound_pending_idx",
            ),
        ]
        constraints = [
            # A platform's delivery is pending at most once per channel: a retry that arrives
            # while the first is still waiting is a duplicate, even at the same instant. (Processed
            # rows may share an id: replays are kept as duplicates, and a delivery that failed may
            # come again.) The API has its Idempotency-Key store; CSV orders are not queued.
            models.UniqueConstraint(
                fields=["source", "channel", "delivery_id"],
                condition=models.Q(outcome="received")
                & ~models.Q(delivery_id="")
                & ~models.Q(source__in=["api", "csv"]),
                name="inbound_one_pending_delivery",
            ),
        ]

    def __str__(self):
        return f"{self.get_source_display()} #{self.pk} ({self.get_outcome_display()})"


class SkuMapping(TimeStampedModel):
    """Which of our products a channel means when its SKU is empty or differs from ours."""

    channel = models.ForeignKey("orders.Channel", on_delete=models.CASCADE, related_name="sku_mappings")
    external_key = models.CharField(
        max_length=100,
        help_text="The channel's SKU, or, when it sends none, the key shown in the hold: "
        "woo-<product or variation id> / shopify-<variant or product id>.",
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "orders_skumapping"
        ordering = ["channel", "external_key"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_key"], name="sku_mapping_unique_channel_key")
        ]
        verbose_name = "SKU mapping"

    def __str__(self):
        return f"{self.channel.code}: {self.external_key} → {self.product.sku}"


class ImportBatch(TimeStampedModel):
    """One uploaded marketplace CSV: its rows are grouped into orders, captured chunk by chunk
    (OMS_INTAKE_BATCH_SIZE orders per orders_capture call), each order with its own raw request."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey("orders.Channel", on_delete=models.PROTECT, related_name="import_batches")
    file_name = models.CharField(max_length=255)
    layout = models.CharField(max_length=20)
    content = models.TextField(help_text="The file as uploaded.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    orders_total = models.PositiveIntegerField(default=0)
    orders_processed = models.PositiveIntegerField(default=0)
    orders_created = models.PositiveIntegerField(default=0)
    orders_held = models.PositiveIntegerField(default=0)
    orders_duplicate = models.PositiveIntegerField(default=0)
    orders_invalid = models.PositiveIntegerField(default=0)
    orders_skipped = models.PositiveIntegerField(
        default=0, help_text="Cancellation invoices: not orders, reported for staff."
    )
    report = models.JSONField(default=list, blank=True, help_text="Per-row problems: row, order id, reason.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "orders_importbatch"
        ordering = ["-created_at", "-pk"]
        verbose_name = "order import"
        verbose_name_plural = "order imports"

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"
