"""Secrets and signatures, the Standard Webhooks way (through the `standardwebhooks` library).

A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is the decoded bytes, never the
text. Each attempt is signed over `{webhook-id}.{webhook-timestamp}.{body}`: the id stays the
same across retries (receivers dedupe on it), the timestamp is the attempt's (receivers refuse
old ones), and while a rotated secret still overlaps, the body is signed with both and the
`webhook-signature` header carries both `v1,` signatures, space-separated.
"""

import base64
import datetime as dt
import json
from secrets import token_bytes

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode()


def secret_hint(secret: str) -> str:
    """What staff may see of a secret once it was shown: its prefix and last four characters."""
    return f"{SECRET_PREFIX}…{secret[-4:]}" if secret else ""


def payload_body(payload: dict) -> str:
    """The exact text we send and sign: compact JSON with sorted keys, so every attempt of a
    delivery sends the same bytes whatever the database did to the key order."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def signature_header(*, secrets: list[str], msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value: one `v1,<base64 HMAC-SHA256>` per secret, space-separated."""
    moment = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=moment, data=body) for secret in secrets)


def signed_headers(*, secrets: list[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets=secrets, msg_id=msg_id, timestamp=timestamp, body=body),
    }
