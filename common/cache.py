"""Django's Redis cache with one client, so one connection pool, per process and configuration.

Django keeps a cache object per async context, and under ASGI every request runs in a context of its own: each
request built a client and a pool, and opened a new Redis connection with redis-py's health check on connect, for
the API's rate-limit count alone about a fifth of a request's time (bench/api_nearby.py). Here every cache object
of the same configuration shares one client, and that client hands out one redis-py client per pool rather than
building one per call (which costs more than the command it sends). redis-py's clients and pools are thread-safe,
and a pool starts afresh in a forked child. A Sentinel URL (common/redis_url.py) gets a pool that follows the
master.
"""

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

from common.redis_url import connection_pool

_clients: dict[tuple, RedisCacheClient] = {}
_clients_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._redis_by_pool: dict[int, object] = {}
        self._lock = threading.Lock()

    def _get_connection_pool(self, write):
        with self._lock:  # one pool per server, even when two threads ask for it first at once
            index = self._get_connection_pool_index(write)
            if index not in self._pools:  # a Sentinel URL gets a pool that asks the sentinels for the master
                self._pools[index] = connection_pool(self._servers[index], self._pool_class, **self._pool_options)
            return self._pools[index]

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._redis_by_pool.get(id(pool))
        if client is None:
            client = self._redis_by_pool.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class SharedRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedRedisCacheClient

    @cached_property
    def _cache(self):
        config = (tuple(self._servers), repr(sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(config)
            if client is None:
                client = _clients[config] = self._class(self._servers, **self._options)
        return client
