"""Django's Redis cache backend, reusing one redis-py client per connection pool, with an atomic
`incr`.

Django's RedisCacheClient builds a new `redis.Redis` object (with its table of ~170 response
callbacks) for every cache call, which costs about 0.1 ms each; on the cached customer order
page that was a large share of the request. A `redis.Redis` object is thread-safe (it checks a
connection out of its pool per command), so one per pool is enough. Selected automatically in
config/settings.py whenever CACHE_URL is redis://.

Django's `incr` asks whether the key exists and then increments it: two commands. A key that
expires in between (a rate-limit window ending) is created anew by INCR without an expiry, so
the counter never resets and that client stays locked out. Here both happen in one server-side
script, as atomic as the rate limits (portal/ratelimit.py) need across instances.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# Increment an existing key, keeping its expiry; nil (→ ValueError) when there is no such key.
INCR_EXISTING = """
if redis.call('exists', KEYS[1]) == 1 then
  return redis.call('incrby', KEYS[1], ARGV[1])
end
return false
"""


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._incr_scripts = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def incr(self, key, delta):
        client = self.get_client(key, write=True)
        script = self._incr_scripts.get(client.connection_pool)
        if script is None:
            script = self._incr_scripts[client.connection_pool] = client.register_script(INCR_EXISTING)
        value = script(keys=[key], args=[delta], client=client)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
