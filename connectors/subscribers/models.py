"""A subscription: another system (an ERP, a helpdesk, a data warehouse) that hears of our
orders, shipments, returns and stock by signed webhooks; and the little state stock.low keeps."""

from django.db import models
from django.urls import reverse

from core.models import TimeStampedModel

# The delivery log's names for what this package sends: the handler's topic and the target kind.
DELIVERY_TOPIC = "subscribers.event"
TARGET_PREFIX = "subscription"


def subscription_id_from_target(target: str) -> int | None:
    """The subscription's id in a delivery target “subscription:<id>”, else None."""
    prefix, _, pk = target.partition(":")
    return int(pk) if prefix == TARGET_PREFIX and pk.isdigit() else None


class Subscription(TimeStampedModel):
    class EventType(models.TextChoices):
        ORDER_CREATED = "order.created", "Order created"
        ORDER_HELD = "order.held", "Order held"
        ORDER_RELEASED = "order.released", "Order released from hold"
        ORDER_ALLOCATED = "order.allocated", "Order allocated (stock reserved)"
        ORDER_BACKORDERED = "order.backordered", "Order backordered"
        ORDER_CANCELLED = "order.cancelled", "Order cancelled"
        ORDER_SHIPPED = "order.shipped", "Order shipped (one per shipment)"
        ORDER_DELIVERED = "order.delivered", "Order delivered"
        SHIPMENT_TRACKING_UPDATED = "shipment.tracking_updated", "Shipment tracking updated"
        RETURN_REQUESTED = "return.requested", "Return requested"
        RETURN_RECEIVED = "return.received", "Return received"
        RETURN_REFUNDED = "return.refunded", "Return refunded"
        STOCK_LOW = "stock.low", "Stock low (an item fell to its reorder point)"

    name = models.CharField(max_length=100, help_text="Who receives it, e.g. “ERP” or “Helpdesk”.")
    url = models.URLField(
        "URL", max_length=500, help_text="Where the events are POSTed (HTTPS in production)."
    )
    event_types = models.JSONField(default=list, blank=True, help_text="The events it receives.")
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Switched off: nothing is sent; its deliveries wait and go out when it is "
        "switched on again.",
    )
    owner_email = models.EmailField(
        help_text="Told when the subscription is switched off because its deliveries keep failing."
    )
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="The first failed attempt since the last delivery."
    )
    disabled_at = models.DateTimeField("switched off at", null=True, blank=True, editable=False)
    disabled_reason = models.CharField("why it was switched off", max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("admin:connectors_subscription_change", args=[self.pk])

    @property
    def target(self) -> str:
        """Its name in the delivery log (core.outbox)."""
        return f"{TARGET_PREFIX}:{self.pk}"


class StockLowMark(models.Model):
    """A stock item known to be at or below its reorder point, so `stock.low` is sent once when
    it crosses, not on every change while it stays low. Removed when it recovers."""

    stock_item = models.OneToOneField("inventory.StockItem", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "low stock mark"

    def __str__(self):
        return f"stock item {self.stock_item_id} low"
