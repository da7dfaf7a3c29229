"""What we keep to answer the channels: one connection per shop (its address and credentials,
encrypted at rest, and how we talk to it), where our warehouses are in the shop, the shop's ids
for our SKUs and shipments, and the stock level each channel was last told."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core.models import TimeStampedModel

from .credentials import EncryptedTextField


def url_scheme_refusal(url: str) -> str:
    """Why `url` may not be used to send credentials (empty when it may): HTTPS always; plain
    HTTP only when DEBUG is on or the host is this machine (a stand-in server in tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return ""
    if parts.scheme != "http" or not parts.hostname:
        return f"“{url}” is not an http(s) address."
    if settings.DEBUG or _is_loopback(parts.hostname):
        return ""
    return (
        f"“{url}” is plain HTTP: credentials go only over HTTPS "
        "(HTTP only to this machine, or with DEBUG on)."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ChannelConnection(TimeStampedModel):
    """How we reach one sales channel's shop. Without credentials it is "not connected" and
    nothing is sent to it; when the shop refuses them (401/403) its deliveries pause until staff
    save new ones."""

    channel = models.OneToOneField("orders.Channel", on_delete=models.CASCADE, related_name="+")
    base_url = models.URLField(
        blank=True,
        help_text="Leave empty for the platform's real address. Set it to send to a stand-in server "
        "(HTTPS; plain HTTP only to this machine or with DEBUG on).",
    )
    push_stock = models.BooleanField(
        default=True, help_text="Tell the shop how many units it may sell after every stock change."
    )
    safety_buffer = models.PositiveIntegerField(
        default=0,
        help_text="Units per SKU held back from this channel: it is told what we have minus this, "
        "never below 0.",
    )
    credentials_refused_at = models.DateTimeField(null=True, blank=True, editable=False)
    credentials_refused_reason = models.TextField(blank=True, editable=False)

    channel_kind: str  # the Channel.Kind it connects
    connection_fields: tuple[str, ...]  # what must be filled in for it to be connected
    platform_url: str  # the platform's real address for this shop

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.channel} ({self.status_label})"

    @property
    def target(self) -> str:
        """The delivery log's name for this connection."""
        return f"channel:{self.channel_id}"

    @property
    def is_connected(self) -> bool:
        """Its address and every credential are there (`connection_fields`, per platform)."""
        return all(getattr(self, name) for name in self.connection_fields)

    @property
    def status_label(self) -> str:
        if not self.is_connected:
            return "not connected"
        if self.credentials_refused_at:
            return "credentials refused"
        return "connected"

    def api_base(self) -> str:
        """Where requests go, checked again at sending time. Raises ValueError when refused."""
        url = (self.base_url or self.platform_url).rstrip("/")
        refusal = url_scheme_refusal(url)
        if refusal:
            raise ValueError(refusal)
        return url

    def clean(self):
        super().clean()
        if self.channel_id and self.channel.kind != self.channel_kind:
            raise ValidationError({"channel": f"Choose a channel of kind “{self.channel_kind}”."})
        if self.base_url and (refusal := url_scheme_refusal(self.base_url)):
            raise ValidationError({"base_url": refusal})


class ShopifyConnection(ChannelConnection):
    channel_kind = "shopify"
    connection_fields = ("shop_domain", "access_token")

    shop_domain = models.CharField(
        max_length=255, help_text="The shop's own domain, e.g. my-store.myshopify.com."
    )
    access_token = EncryptedTextField(
        blank=True, help_text="The custom app's Admin API access token (shpat_…), stored encrypted."
    )
    notify_customer = models.BooleanField(
        default=True, help_text="Shopify e-mails the customer when we fulfil or cancel there."
    )
    cancel_refund = models.BooleanField(
        default=True, help_text="A cancellation here refunds the payment in Shopify."
    )
    cancel_restock = models.BooleanField(
        default=True, help_text="A cancellation here restocks the items in Shopify."
    )

    class Meta:
        verbose_name = "Shopify connection"

    @property
    def platform_url(self) -> str:
        """The shop's real address, from its domain."""
        domain = self.shop_domain.strip().removeprefix("https://").removeprefix("http://").strip("/")
        return f"https://{domain}"

    def clean(self):
        super().clean()
        domain = self.shop_domain.strip().removeprefix("https://").removeprefix("http://").strip("/")
        if "/" in domain or not domain:
            raise ValidationError(
                {"shop_domain": "Give the shop's domain only, e.g. my-store.myshopify.com."}
            )
        self.shop_domain = domain


class ShopifyLocation(models.Model):
    """One of our warehouses as a location in the Shopify shop: fulfilments from it are made on
    that location's fulfillment orders, and its stock is set there."""

    connection = models.ForeignKey(ShopifyConnection, on_delete=models.CASCADE, related_name="locations")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.CASCADE, related_name="+")
    location_id = models.CharField(
        max_length=100, help_text="Shopify's location id: digits, or gid://shopify/Location/…"
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "warehouse"], name="shopify_location_one_per_warehouse"
            )
        ]

    def __str__(self):
        return f"{self.warehouse.code} → {self.location_gid}"

    @property
    def location_gid(self) -> str:
        value = self.location_id.strip()
        return value if value.startswith("gid://") else f"gid://shopify/Location/{value}"

    def clean(self):
        value = self.location_id.strip()
        if not (value.isdigit() or value.startswith("gid://shopify/Location/")):
            raise ValidationError(
                {"location_id": "A Shopify location id is digits or gid://shopify/Location/…"}
            )


class WooCommerceConnection(ChannelConnection):
    channel_kind = "woocommerce"
    connection_fields = ("store_url", "consumer_key", "consumer_secret")

    store_url = models.URLField(help_text="The store's address, e.g. https://shop.example.com.")
    consumer_key = EncryptedTextField(blank=True, help_text="REST API consumer key (ck_…), read/write.")
    consumer_secret = EncryptedTextField(blank=True, help_text="REST API consumer secret (cs_…).")
    warehouses = models.ManyToManyField(
        "inventory.Warehouse",
        blank=True,
        related_name="+",
        help_text="The warehouses whose stock this store sells. None chosen: every active warehouse.",
    )

    class Meta:
        verbose_name = "WooCommerce connection"

    @property
    def platform_url(self) -> str:
        return self.store_url

    def clean(self):
        super().clean()
        if self.store_url and not self.base_url and (refusal := url_scheme_refusal(self.store_url)):
            raise ValidationError({"store_url": refusal})


class StockListing(models.Model):
    """One of our SKUs as a channel knows it: the shop's id for it (looked up once), the level
    last queued for it (a change to the same level queues nothing) and the last one it took."""

    channel = models.ForeignKey("orders.Channel", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="Shopify's inventory item id, or the WooCommerce product (or variation) id.",
    )
    remote_parent_id = models.CharField(
        max_length=100, blank=True, help_text="WooCommerce only: the variable product a variation belongs to."
    )
    level_queued = models.JSONField(null=True, blank=True, help_text="The level last queued for the channel.")
    level_pushed = models.JSONField(null=True, blank=True, help_text="The level the channel last accepted.")
    pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["channel", "product"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "product"], name="stock_listing_one_per_channel_product"
            )
        ]

    def __str__(self):
        return f"{self.product_id} @ {self.channel_id}"


class RemoteFulfillment(models.Model):
    """A shipment as the channel knows it (Shopify's fulfilment, WooCommerce's tracking note): a
    retried delivery adopts it instead of making a second one, and tracking changes update it."""

    shipment = models.OneToOneField("fulfillment.Shipment", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("orders.Channel", on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(max_length=100)
    tracking_number = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        return f"{self.shipment_id} → {self.remote_id}"


# Event webhook subscriptions live in their package; Django finds every model through this module.
from .subscribers.models import StockLowMark, Subscription  # noqa: E402

__all__ = [
    "RemoteFulfillment",
    "ShopifyConnection",
    "ShopifyLocation",
    "StockListing",
    "StockLowMark",
    "Subscription",
    "WooCommerceConnection",
]
