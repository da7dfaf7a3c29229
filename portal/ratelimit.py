"""Fixed-window rate limits kept in the configured cache, so they hold across gunicorn workers,
instances and machines (with a shared cache such as Redis: docs/scaling.md). `cache.add` starts
a window only if none is running and `cache.incr` is atomic in Redis (core.cache: one script,
so a window ending mid-count can't leave a counter without expiry) and Memcached, so concurrent
requests can't both slip under the limit."""

import hashlib

from django.core.cache import cache


def _key(scope: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"portal:rl:{scope}:{digest}"


def rate_limit_hit(*, scope: str, value: str, limit: int, window: int) -> bool:
    """Count one attempt for (scope, value); True when this attempt is over the limit."""
    key = _key(scope, value)
    for _ in range(2):
        cache.add(key, 0, timeout=window)
        try:
            return cache.incr(key) > limit
        except ValueError:
            continue  # the window ended between add and incr: this attempt opens a new one
    return False


def rate_limit_reached(*, scope: str, value: str, limit: int) -> bool:
    """Whether (scope, value) has used up its attempts, without counting one."""
    return (cache.get(_key(scope, value)) or 0) >= limit


def client_ip(request) -> str:
    """The client's address as the WSGI server saw it. Behind a reverse proxy, the proxy must
    set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips with a proxy-protocol front end);
    X-Forwarded-For is not trusted here because any client can forge it."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"
