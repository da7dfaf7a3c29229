"""How Shopify signs a webhook delivery: `X-Shopify-Hmac-SHA256` carries the base64 HMAC-SHA256
of the raw body, keyed with the shop's webhook secret (our channel's webhook secret)."""

from ..webhooks import webhook_signature

SIGNATURE_HEADER = "X-Shopify-Hmac-SHA256"


def shopify_signature(*, secret: str, body: bytes) -> str:
    """The X-Shopify-Hmac-SHA256 value Shopify sends with this body."""
    return webhook_signature(secret=secret, body=body)
