"""Version stamps in the shared cache, so a cached rendering of some object can be thrown away
the moment the object changes, across every worker and machine that shares the cache.

A writer calls `cache_version_bump(namespace=..., ident=...)` inside its transaction; after the
commit the stamp is replaced by a new random value. A reader fetches the stamp and its cached
entry in one round trip (`cache_get_versioned`), and uses the entry only if it was stored
under the current stamp. Bumping after commit (never before) is what keeps it correct: a
reader that rendered from the old rows stored its entry under the old stamp, which no longer
matches. Stamps are random rather than counters, so a stamp lost to eviction or expiry can
never make an old entry match again; a missing stamp is simply replaced by a new one.
"""

import functools
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction

# Stamps only need to outlive the entries they guard; a lost stamp costs one cache miss.
STAMP_TIMEOUT = 24 * 3600


def _stamp_key(namespace: str, ident: str) -> str:
    return f"cv:{namespace}:{ident}"


def _new_stamp() -> str:
    return uuid.uuid4().hex


def _stamp_replace(*, keys: tuple[str, ...]) -> None:
    stamp = _new_stamp()
    cache.set_many(dict.fromkeys(keys, stamp), timeout=STAMP_TIMEOUT)


def cache_version_bump(*, namespace: str, idents: list[str] | tuple[str, ...] | str, using=None) -> None:
    """Invalidate every entry cached for these idents, once the current transaction commits
    (immediately when there is none). Rolled back work invalidates nothing."""
    if isinstance(idents, str):
        idents = (idents,)
    keys = tuple(_stamp_key(namespace, ident) for ident in idents)
    if keys:
        transaction.on_commit(functools.partial(_stamp_replace, keys=keys), using=using)


def cache_get_versioned(*, namespace: str, ident: str, key: str) -> tuple[str, Any]:
    """The current stamp for (namespace, ident) and the entry cached at `key` if it was stored
    under that stamp (else None). One cache round trip when the stamp exists."""
    stamp_key = _stamp_key(namespace, ident)
    found = cache.get_many([stamp_key, key])
    stamp = found.get(stamp_key)
    if stamp is None:
        # First reader since the stamp was lost: start a new one (add: the first reader wins).
        cache.add(stamp_key, _new_stamp(), timeout=STAMP_TIMEOUT)
        return cache.get(stamp_key) or _new_stamp(), None
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == stamp:
        return stamp, entry[1]
    return stamp, None


def cache_set_versioned(*, key: str, stamp: str, value: Any, timeout: int) -> None:
    """Store `value` at `key` under the stamp the reader saw *before* reading the data."""
    cache.set(key, (stamp, value), timeout=timeout)
