"""Channel API keys: created and shown once, stored hashed, revoked or rotated by staff."""

import datetime as dt
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from ..intake_models import ChannelApiKey, secret_hash
from ..models import Channel

KEY_PREFIX = "oms_"
# Refresh last_used_at at most this often, so authenticating is not a write per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=10)


@transaction.atomic
def channel_api_key_create(*, channel: Channel, name: str = "") -> tuple[ChannelApiKey, str]:
    """Create a key for the channel and return it with its plain text, which is never stored:
    show it to the person once. Other keys of the channel keep working (use rotate to end them)."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ChannelApiKey.objects.create(
        channel=channel, name=name[:100], prefix=prefix, secret_hash=secret_hash(secret)
    )
    return key, f"{KEY_PREFIX}{prefix}_{secret}"


@transaction.atomic
def channel_api_key_revoke(*, key_id: int) -> ChannelApiKey:
    """Revoke one key; requests with it get 401 from now on. Revoking twice is harmless."""
    key = ChannelApiKey.objects.select_for_update().get(pk=key_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key


@transaction.atomic
def channel_api_key_rotate(*, channel: Channel, name: str = "") -> tuple[ChannelApiKey, str]:
    """Create a new key and revoke every other key of the channel in the same transaction."""
    key, plain = channel_api_key_create(channel=channel, name=name)
    ChannelApiKey.objects.filter(channel=channel, revoked_at__isnull=True).exclude(pk=key.pk).update(
        revoked_at=timezone.now()
    )
    return key, plain


def channel_api_key_authenticate(raw: str) -> ChannelApiKey | None:
    """The active key matching a bearer token (with its channel), or None. Constant-time compare."""
    raw = (raw or "").strip()
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or not prefix or not secret or len(prefix) > 16:
        return None
    key = (
        ChannelApiKey.objects.select_related("channel")
        .filter(prefix=prefix, revoked_at__isnull=True, channel__is_active=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, secret_hash(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ChannelApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
