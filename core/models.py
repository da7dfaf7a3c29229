import uuid

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Delivery(models.Model):
    """One message we owe the outside world (a fulfilment to Shopify, a stock level, a signed
    event to a subscriber), written in the transaction of the change that causes it and sent by
    the task worker after commit (core.outbox). Nothing here knows the platforms: `topic` names
    the handler a connector registered, `target` the connection it goes through."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        DELIVERED = "delivered", "Delivered"
        PAUSED = "paused", "Paused: the connection's credentials were refused"
        DEAD = "dead", "Gave up"

    target = models.CharField(
        max_length=100, help_text="The connection it goes through, e.g. “channel:3” or “subscription:2”."
    )
    target_name = models.CharField(max_length=200, blank=True)
    topic = models.CharField(max_length=100, help_text="What it says, e.g. “shopify.fulfillment”.")
    payload = models.JSONField(default=dict, help_text="What the handler builds the request from.")
    reference = models.CharField(
        max_length=100, blank=True, db_index=True, help_text="What it is about: an order number, a SKU."
    )
    ordering_key = models.CharField(
        max_length=150, blank=True, help_text="Deliveries with the same key go out one at a time, in order."
    )
    coalesce_key = models.CharField(
        max_length=150, blank=True, help_text="A newer delivery with the same key replaces one still waiting."
    )
    idempotency_key = models.UUIDField(default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="What the remote side answered: its ids.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["ordering_key", "id"], name="delivery_ordering_idx"),
            models.Index(fields=["target", "status"], name="delivery_target_idx"),
        ]
        constraints = [
            # At most one waiting delivery per coalesce key: a newer change updates it in place.
            models.UniqueConstraint(
                fields=["coalesce_key"],
                condition=models.Q(status="pending") & ~models.Q(coalesce_key=""),
                name="delivery_one_waiting_per_coalesce_key",
            ),
        ]

    def __str__(self):
        return f"{self.topic} → {self.target_name or self.target} ({self.reference or self.pk})"


class DeliveryAttempt(models.Model):
    """One HTTP exchange of a delivery, as it went over the wire, credentials redacted."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempt = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=10)
    url = models.URLField(max_length=500)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.method} {self.url} → {self.response_status or self.error[:40]}"
