"""Channel API keys: created and shown once, stored hashed, revoked or rotated by staff."""

import datetime as dt
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.cache_versions import cache_get_versioned, cache_set_versioned, cache_version_bump
from orders.models import Channel

from .models import ChannelApiKey, secret_hash

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
        key.save(update_fields=["revoked_at", "updated_at"])  # post_save forgets the cached key
    return key


@transaction.atomic
def channel_api_key_rotate(*, channel: Channel, name: str = "") -> tuple[ChannelApiKey, str]:
    """Create a new key and revoke every other key of the channel in the same transaction."""
    key, plain = channel_api_key_create(channel=channel, name=name)
    others = ChannelApiKey.objects.filter(channel=channel, revoked_at__isnull=True).exclude(pk=key.pk)
    prefixes = list(others.values_list("prefix", flat=True))
    others.update(revoked_at=timezone.now())
    _keys_forget(prefixes)
    return key, plain


# The version-stamp namespace of a key's cached copy (core.cache_versions), per key prefix.
API_KEY_CACHE_NAMESPACE = "apikey"


def _cache_key(prefix: str) -> str:
    # The cache holds pickled ChannelApiKey rows, and a pickled row names its app: this key is not
    # the one used when the model belonged to orders, so no worker reads a row it can't unpickle.
    return f"intake:apikey:{prefix}"


def _keys_forget(prefixes) -> None:
    """Drop cached keys now (this transaction's own reads then go to the database) and replace
    their version stamps after commit: an instance that read the old row before the commit and
    caches it after stored it under the old stamp, which no longer counts (a plain delete after
    commit would leave its copy in use for OMS["API_KEY_CACHE_SECONDS"])."""
    prefixes = list(prefixes)
    if prefixes:
        cache.delete_many([_cache_key(p) for p in prefixes])
        cache_version_bump(namespace=API_KEY_CACHE_NAMESPACE, idents=prefixes)


def channel_api_keys_forget(*, channel_id: int) -> None:
    """Forget the cached keys of a channel whose settings changed (deactivated, new strategy)."""
    _keys_forget(ChannelApiKey.objects.filter(channel_id=channel_id).values_list("prefix", flat=True))


def _key_lookup(prefix: str) -> tuple[ChannelApiKey | None, str | None]:
    """The active key with this prefix and its channel, and the version stamp it is cached
    under: from the cache when it was looked up in the last OMS["API_KEY_CACHE_SECONDS"] seconds
    and not changed since (one query saved per API request), else read. The stamp is read
    before the row, so a revoke committing in between outdates what is stored here."""
    stamp = None
    if settings.OMS["API_KEY_CACHE_SECONDS"] > 0:
        stamp, key = cache_get_versioned(
            namespace=API_KEY_CACHE_NAMESPACE, ident=prefix, key=_cache_key(prefix)
        )
        if key is not None:
            return key, stamp
    key = (
        ChannelApiKey.objects.select_related("channel")
        .filter(prefix=prefix, revoked_at__isnull=True, channel__is_active=True)
        .first()
    )
    if key is not None:
        _key_remember(key, stamp)
    return key, stamp


def _key_remember(key: ChannelApiKey, stamp: str | None) -> None:
    if stamp is not None and settings.OMS["API_KEY_CACHE_SECONDS"] > 0:
        cache_set_versioned(
            key=_cache_key(key.prefix), stamp=stamp, value=key, timeout=settings.OMS["API_KEY_CACHE_SECONDS"]
        )


def channel_api_key_authenticate(raw: str) -> ChannelApiKey | None:
    """The active key matching a bearer token (with its channel), or None. Constant-time compare."""
    raw = (raw or "").strip()
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or not prefix or not secret or len(prefix) > 16:
        return None
    key, stamp = _key_lookup(prefix)
    if key is None or not hmac.compare_digest(key.secret_hash, secret_hash(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ChannelApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
        _key_remember(key, stamp)
    return key


def channel_saved_receiver(sender, instance, **kwargs):
    """post_save of Channel: its keys carry the channel in the cache, so forget them."""
    channel_api_keys_forget(channel_id=instance.pk)


def key_changed_receiver(sender, instance, **kwargs):
    """post_save / post_delete of ChannelApiKey, whatever wrote it (admin, shell, services)."""
    _keys_forget([instance.prefix])
