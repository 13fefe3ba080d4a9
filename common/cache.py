"""Django's Redis cache with one client, so one connection pool, per process and configuration.

Django keeps a cache object per async context, and under ASGI every request runs in a context of its own: each
request built a client and a pool, and opened a new Redis connection with redis-py's health check on connect, for
the API's rate-limit count alone about a fifth of a request's time (bench/api_nearby.py). Here every cache object
of the same configuration shares one client; redis-py's pool is thread-safe and starts afresh in a forked child.
"""

import threading

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        config = (tuple(self._servers), self._class, repr(sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(config)
            if client is None:
                client = _clients[config] = self._class(self._servers, **self._options)
        return client
