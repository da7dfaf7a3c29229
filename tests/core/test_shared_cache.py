"""The shared cache (Redis) across instances: what one gunicorn instance writes, another sees.

Several gunicorn instances behind a load balancer (docs/scaling.md) share one Redis. Each test
here builds two cache clients with their own connection pools against the same Redis database,
as two instances have, and switches `django.core.cache.cache` between them: "instance A" and
"instance B" share nothing but Redis. The lookup rate limit is also shown across real processes.

Skipped when Redis isn't reachable (TEST_REDIS_URL, default redis://127.0.0.1:6379/15). Every
key carries a prefix unique to the test, deleted afterwards; nothing else in Redis is touched.
"""

import contextlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client

from intake.keys import channel_api_key_create, channel_api_key_revoke, channel_api_key_rotate
from orders.links import order_tracking_token
from orders.services import order_capture, order_note_add
from portal.ratelimit import rate_limit_hit, rate_limit_reached
from tests.factories import ChannelFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


class Instances:
    """Two cache clients on one Redis (as two app instances have) and a switch between them."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.a = caches.create_connection("default")
        self.b = caches.create_connection("default")

    @contextlib.contextmanager
    def on(self, instance):
        """Run the block as that instance: `django.core.cache.cache` is its client."""
        before = caches["default"]
        caches["default"] = instance
        try:
            yield instance
        finally:
            caches["default"] = before


@pytest.fixture
def shared(settings):
    redis = pytest.importorskip("redis")
    try:
        server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        server.ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs Redis at {REDIS_URL} (TEST_REDIS_URL) to share a cache between instances: {exc}")
    prefix = f"test-shared-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}
    }
    instances = Instances(prefix)
    caches["default"] = instances.a
    yield instances
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
    server.close()


def before_first_set(instance, monkeypatch, interleave):
    """Run `interleave()` when the instance is about to store its first entry: another instance's
    write lands between this instance's read of the database and its storing what it read."""
    original = instance.set
    pending = [interleave]

    def set_later(*args, **kwargs):
        if pending:
            pending.pop()()
        return original(*args, **kwargs)

    monkeypatch.setattr(instance, "set", set_later)


# --- the customers' lookup rate limit (portal/ratelimit.py) ------------------------------------
def test_lookup_attempts_count_against_one_limit_on_every_instance(shared):
    results = []
    for i in range(8):
        with shared.on(shared.a if i % 2 else shared.b):
            results.append(rate_limit_hit(scope="ip", value="203.0.113.7", limit=5, window=60))

    assert results == [False] * 5 + [True] * 3
    for instance in (shared.a, shared.b):
        with shared.on(instance):
            assert rate_limit_reached(scope="ip", value="203.0.113.7", limit=5)
            assert not rate_limit_reached(scope="ip", value="198.51.100.1", limit=5)


HITS = """
import django
django.setup()
from portal.ratelimit import rate_limit_hit
print(sum(not rate_limit_hit(scope="ip", value="203.0.113.9", limit=20, window=60) for _ in range(30)))
"""


def test_lookup_limit_holds_across_processes_hitting_at_once(shared):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test-shared-cache",
        "DEBUG": "0",
        "CACHE_URL": f"{REDIS_URL}?key_prefix={shared.prefix}",
        "LOG_LEVEL": "WARNING",
    }
    processes = [
        subprocess.Popen([sys.executable, "-c", HITS], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    allowed = [int(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in processes]

    # 90 attempts from three processes: exactly the limit got through, whoever made them.
    assert sum(allowed) == 20
    assert rate_limit_reached(scope="ip", value="203.0.113.9", limit=20)


def test_a_window_ending_mid_count_never_leaves_a_counter_without_expiry(shared, monkeypatch):
    """Django's own Redis `incr` checks that the key exists, then increments: a window expiring
    in between made INCR create the counter anew with no expiry, locking that address out for
    good. Here the key disappears right after any existence check."""
    client = shared.a._cache.get_client(write=True)
    original_exists = type(client).exists

    def exists_then_expire(self, *names):
        found = original_exists(self, *names)
        self.delete(*names)
        return found

    monkeypatch.setattr(type(client), "exists", exists_then_expire)
    rate_limit_hit(scope="ip", value="203.0.113.8", limit=5, window=60)
    rate_limit_hit(scope="ip", value="203.0.113.8", limit=5, window=60)
    monkeypatch.undo()

    counters = list(client.scan_iter(f"{shared.prefix}:*portal:rl:ip:*"))
    assert counters and all(0 < client.ttl(key) <= 60 for key in counters)


# --- channel API keys (intake/keys.py) -------------------------------------------------------
@pytest.fixture
def api_key(db):
    channel = ChannelFactory(code="shop", name="Shop")
    key, plain = channel_api_key_create(channel=channel)
    return channel, key, {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def read_missing_order(auth) -> int:
    """An integrator's call that needs only a valid key: 404 with one, 401 without."""
    return Client().get("/api/v1/orders/NO-SUCH-ORDER", **auth).status_code


def test_a_key_revoked_on_one_instance_stops_working_on_the_other(
    shared, api_key, django_capture_on_commit_callbacks
):
    channel, key, auth = api_key
    for instance in (shared.a, shared.b):
        with shared.on(instance):
            assert read_missing_order(auth) == 404  # both now hold the key in the cache

    with shared.on(shared.a), django_capture_on_commit_callbacks(execute=True):
        channel_api_key_revoke(key_id=key.pk)

    with shared.on(shared.b):
        assert read_missing_order(auth) == 401


def test_a_key_rotated_on_one_instance_stops_working_on_the_other(
    shared, api_key, django_capture_on_commit_callbacks
):
    channel, key, auth = api_key
    with shared.on(shared.b):
        assert read_missing_order(auth) == 404

    with shared.on(shared.a), django_capture_on_commit_callbacks(execute=True):
        _, new_plain = channel_api_key_rotate(channel=channel)

    with shared.on(shared.b):
        assert read_missing_order(auth) == 401
        assert read_missing_order({"HTTP_AUTHORIZATION": f"Bearer {new_plain}"}) == 404


def test_a_key_read_before_a_revoke_and_cached_after_it_is_not_used(
    shared, api_key, monkeypatch, django_capture_on_commit_callbacks
):
    """Instance B reads the key from the database, instance A revokes it and commits, then B
    stores what it read: B's copy must not let the key in afterwards."""
    channel, key, auth = api_key

    def revoke_on_a():
        with shared.on(shared.a), django_capture_on_commit_callbacks(execute=True):
            channel_api_key_revoke(key_id=key.pk)

    before_first_set(shared.b, monkeypatch, revoke_on_a)
    with shared.on(shared.b):
        read_missing_order(auth)  # the request in flight when the key was revoked
        assert read_missing_order(auth) == 401
    with shared.on(shared.a):
        assert read_missing_order(auth) == 401


# --- the customer's order page (portal/pages.py, core.cache_versions) ---------------------------
@pytest.fixture
def order_page(clock, channel, stocked_product, service_level, order_input):
    order = order_capture(channel=channel, data=order_input(lines=[("WIDGET-1", 1, "25.00")]))
    return order, f"/track/o/{order_tracking_token(order_number=order.number)}/"


def page(url) -> str:
    response = Client().get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_order_changed_on_one_instance_shows_on_the_other_at_once(
    shared, order_page, django_capture_on_commit_callbacks
):
    order, url = order_page
    with shared.on(shared.a):
        assert "Parcel left at the back door" not in page(url)  # A has the page cached

    with shared.on(shared.b), django_capture_on_commit_callbacks(execute=True):
        order_note_add(order_id=order.pk, message="Parcel left at the back door", visible=True)

    with shared.on(shared.a):
        assert "Parcel left at the back door" in page(url)


def test_a_page_rendered_before_a_change_and_cached_after_it_is_not_served(
    shared, order_page, monkeypatch, django_capture_on_commit_callbacks
):
    """Instance A renders the page from the database, instance B commits a change to the order,
    then A stores its (now old) rendering: the next request, on either, shows the change."""
    order, url = order_page

    def note_on_b():
        with shared.on(shared.b), django_capture_on_commit_callbacks(execute=True):
            order_note_add(order_id=order.pk, message="Parcel left at the back door", visible=True)

    before_first_set(shared.a, monkeypatch, note_on_b)
    with shared.on(shared.a):
        assert "Parcel left at the back door" not in page(url)  # rendered before the note
    for instance in (shared.a, shared.b):
        with shared.on(instance):
            assert "Parcel left at the back door" in page(url)
