"""Which subscriptions want what: read on every order, shipment, return and stock change, so it
is cached and a change nobody subscribed to costs one cache read, no query.

The cache entry is cleared when a subscription is saved or deleted (now, and again after
commit). In a shared cache (CACHE_URL=redis://…) every process sees that at once; with the
per-process default another process keeps its copy for at most
OMS["SUBSCRIPTION_CACHE_SECONDS"]. A delivery written from a stale copy for a subscription
switched off meanwhile is not sent: the handler finds it switched off and it waits, paused.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import Subscription

CACHE_KEY = "connectors:subscriptions:active:v1"
_MISSING = object()


@dataclass(frozen=True)
class ActiveSubscriptions:
    by_event_type: dict[str, tuple[int, ...]] = field(default_factory=dict)
    ids: frozenset[int] = frozenset()
    names: dict[int, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Whether any subscription wants any event."""
        return bool(self.by_event_type)

    def wanting(self, event_type: str) -> tuple[int, ...]:
        """The ids of the active subscriptions that asked for `event_type`, in id order."""
        return self.by_event_type.get(event_type, ())


def _read() -> ActiveSubscriptions:
    by_type: dict[str, list[int]] = {}
    rows = list(
        Subscription.objects.filter(is_active=True).order_by("pk").values_list("pk", "event_types", "name")
    )
    for pk, event_types, _ in rows:
        for event_type in event_types or ():
            by_type.setdefault(event_type, []).append(pk)
    return ActiveSubscriptions(
        by_event_type={event_type: tuple(pks) for event_type, pks in by_type.items()},
        ids=frozenset(pk for pk, _, _ in rows),
        names={pk: name for pk, _, name in rows},
    )


def subscriptions_active() -> ActiveSubscriptions:
    """The active subscriptions by the event types they want: from the cache (one read), else
    one query, kept for OMS["SUBSCRIPTION_CACHE_SECONDS"] (0: read every time)."""
    timeout = settings.OMS["SUBSCRIPTION_CACHE_SECONDS"]
    if timeout <= 0:
        return _read()
    found = cache.get(CACHE_KEY, _MISSING)
    if found is _MISSING:
        found = _read()
        cache.set(CACHE_KEY, found, timeout)
    return found


def subscriptions_forget() -> None:
    """Drop the cached entry now and again after commit (a read in between may have cached the
    rows as they were before this transaction's change)."""
    cache.delete(CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))
