"""How WooCommerce signs a webhook delivery: `X-WC-Webhook-Signature` carries the base64
HMAC-SHA256 of the raw body, keyed with the webhook's secret (our channel's webhook secret)."""

from ..webhooks import webhook_signature

SIGNATURE_HEADER = "X-WC-Webhook-Signature"


def woocommerce_signature(*, secret: str, body: bytes) -> str:
    """The X-WC-Webhook-Signature value WooCommerce sends with this body."""
    return webhook_signature(secret=secret, body=body)
