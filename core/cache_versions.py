"""Version stamps in the shared cache, so a cached rendering of some object can be thrown away
the moment the object changes, across every worker and machine that shares the cache.

A writer calls `cache_version_bump(namespace=..., ident=...)` inside its transaction; after the
commit the stamp is replaced by a new random value (`cache_versions_replace` does it at once, for
callers that run after the commit themselves). A reader fetches the stamp and its cached entry in
one round trip (`cache_get_versioned`), and uses the entry only if it was stored under the
current stamp. Bumping after commit (never before) is what keeps it correct: a reader that
rendered from the old rows stored its entry under the old stamp, which no longer matches. Stamps
are random rather than counters, so a stamp lost to eviction or expiry can never make an old
entry match again; a missing stamp is simply replaced by a new one.

Whoever renders an entry reads the stamp *before* the rows, and stores the entry with that stamp
(`cache_set_versioned`). `cache_set_if_current` also refuses the store when the stamp has been
replaced since: the rendering then read rows older than a commit, and storing it would push out
the entry rendered after that commit, which shares its key. (The check and the store are two
cache calls: a commit whose own entry is rendered *and* stored between them still loses that
entry to the older one, which is never served, since its stamp no longer matches: one rendering
lost, never a stale entry served.) The `_many` forms do the same for many idents in one round
trip each.
"""

import functools
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction

# Stamps only need to outlive the entries they guard; a lost stamp costs one cache miss.
STAMP_TIMEOUT = 24 * 3600


def _stamp_key(namespace: str, ident: str) -> str:
    return f"cv:{namespace}:{ident}"


def _new_stamp() -> str:
    return uuid.uuid4().hex


def cache_versions_replace(*, namespace: str, idents: Iterable[str]) -> None:
    """Invalidate every entry cached for these idents now (one round trip). Call it after the
    commit of the change, never before: see cache_version_bump."""
    stamp = _new_stamp()  # one new stamp serves them all: it only has to differ from the old ones
    keys = [_stamp_key(namespace, ident) for ident in idents]
    if keys:
        cache.set_many(dict.fromkeys(keys, stamp), timeout=STAMP_TIMEOUT)


def cache_version_bump(*, namespace: str, idents: list[str] | tuple[str, ...] | str, using=None) -> None:
    """Invalidate every entry cached for these idents, once the current transaction commits
    (immediately when there is none). Rolled back work invalidates nothing."""
    if isinstance(idents, str):
        idents = (idents,)
    if idents:
        transaction.on_commit(
            functools.partial(cache_versions_replace, namespace=namespace, idents=tuple(idents)), using=using
        )


def cache_get_versioned_many(*, namespace: str, keys: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """For each ident in `keys` (ident -> the key of its entry): its current stamp, and its entry
    if it was stored under that stamp (else None). One cache round trip when every stamp exists;
    missing stamps are started (add: the first reader wins) and read back in one more."""
    stamp_keys = {ident: _stamp_key(namespace, ident) for ident in keys}
    found = cache.get_many([*stamp_keys.values(), *keys.values()])
    lost = [stamp_keys[ident] for ident in keys if stamp_keys[ident] not in found]
    if lost:
        for stamp_key in lost:
            cache.add(stamp_key, _new_stamp(), timeout=STAMP_TIMEOUT)
        found.update(cache.get_many(lost))
    result = {}
    for ident, key in keys.items():
        stamp = found.get(stamp_keys[ident]) or _new_stamp()  # evicted at once: matches nothing
        entry = found.get(key)
        fresh = isinstance(entry, tuple) and len(entry) == 2 and entry[0] == stamp
        result[ident] = (stamp, entry[1] if fresh else None)
    return result


def cache_get_versioned(*, namespace: str, ident: str, key: str) -> tuple[str, Any]:
    """The current stamp for (namespace, ident) and the entry cached at `key` if it was stored
    under that stamp (else None). One cache round trip when the stamp exists."""
    return cache_get_versioned_many(namespace=namespace, keys={ident: key})[ident]


def cache_set_versioned(*, key: str, stamp: str, value: Any, timeout: int) -> None:
    """Store `value` at `key` under the stamp the reader saw *before* reading the data."""
    cache.set(key, (stamp, value), timeout=timeout)


def cache_set_many_if_current(
    *, namespace: str, entries: dict[str, tuple[str, str, Any]], timeout: int
) -> int:
    """Store entries rendered after reading their stamps: ident -> (key, the stamp read *before*
    the data, value), each unless its stamp has been replaced since (its data may predate a
    commit, and the entry rendered after that commit shares its key). Returns how many were
    stored. Two round trips."""
    if not entries:
        return 0
    stamp_keys = {ident: _stamp_key(namespace, ident) for ident in entries}
    current = cache.get_many(list(stamp_keys.values()))
    fresh = {
        key: (stamp, value)
        for ident, (key, stamp, value) in entries.items()
        if current.get(stamp_keys[ident]) == stamp
    }
    if len(fresh) == 1:
        [(key, entry)] = fresh.items()
        cache.set(key, entry, timeout=timeout)
    elif fresh:
        cache.set_many(fresh, timeout=timeout)
    return len(fresh)


def cache_set_if_current(
    *, namespace: str, ident: str, key: str, stamp: str, value: Any, timeout: int
) -> bool:
    """cache_set_versioned, unless the stamp has been replaced since it was read. True when
    stored."""
    entries = {ident: (key, stamp, value)}
    return bool(cache_set_many_if_current(namespace=namespace, entries=entries, timeout=timeout))
