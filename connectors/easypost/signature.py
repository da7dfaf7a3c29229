"""How EasyPost signs a webhook: `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256>` of the raw
body, keyed with the webhook secret NFKD-normalised and UTF-8 encoded."""

import hashlib
import hmac
import unicodedata

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="


def easypost_signature(*, body: bytes, secret: str) -> str:
    """The `X-Hmac-Signature` header value EasyPost sends for this body."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def easypost_signature_valid(*, body: bytes, header: str, secret: str) -> bool:
    """Constant-time check of the header against the body; False when no secret is configured."""
    if not secret or not header:
        return False
    expected = easypost_signature(body=body, secret=secret)
    return hmac.compare_digest(expected.lower().encode(), header.strip().lower().encode())
