"""Per-minute request limits for the API in Redis: one round trip per check (INCR and EXPIRE pipelined),
because vehicle location calls this 200 times a second. If Redis is unreachable the limit is not enforced
for that moment (logged), as for the public forms (common.ratelimit).

`over_and_read` is a token request's count with the token generation (api.token_cache) read in the same round
trip. `over_and_read_async` is the same for the event loop (the fast routes: api.position_push, api.nearby_route):
several checks and the generation, one round trip, on a client per event loop, with the same keys, so a token's
requests count the same whichever path served them."""

import asyncio
import hashlib
import logging
import time
import weakref

from django.conf import settings
from django.core.cache import cache

from common.redis_url import async_redis_client

logger = logging.getLogger(__name__)


def _key(scope: str, value: str, window: int) -> str:
    return f"connect:api-limit:{scope}:{hashlib.sha256(value.encode()).hexdigest()[:24]}:{window}"


def redis_client():
    """The process's Redis client, on the cache's connection pool (one per process: common.cache)."""
    return cache._cache.get_client(write=True)


def over(scope: str, value: str, *, limit: int, window_s: int = 60) -> bool:
    """Counts one hit for (scope, value) in the current window; True once the limit is passed."""
    return bool(over_many(scope, [value], limit=limit, window_s=window_s))


def over_many(scope: str, values: list[str], *, limit: int, window_s: int = 60) -> list[str]:
    """Counts one hit for each value, all in one round trip; returns the values past the limit."""
    window = int(time.time()) // window_s
    keys = [_key(scope, value, window) for value in values]
    try:
        pipe = redis_client().pipeline(transaction=False)
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, window_s + 5)
        counts = pipe.execute()[::2]
    except Exception:
        logger.warning("API limit not checked: Redis unavailable", exc_info=True)
        return []
    return [value for value, count in zip(values, counts, strict=True) if count > limit]


def over_and_read(scope: str, value: str, *, limit: int, read_key: str, window_s: int = 60
                  ) -> tuple[bool, bytes | None] | None:
    """Counts one hit for (scope, value) and reads `read_key`, in one round trip: (past the limit, the value read),
    or None when Redis is unreachable (nothing counted; logged)."""
    key = _key(scope, value, int(time.time()) // window_s)
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window_s + 5)
        pipe.get(read_key)
        count, _, read = pipe.execute()
    except Exception:
        logger.warning("API limit not checked: Redis unavailable", exc_info=True)
        return None
    return count > limit, read


_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object]" = weakref.WeakKeyDictionary()


def _async_client():
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = async_redis_client(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return client


async def over_and_read_async(checks: list[tuple[str, str, int]], *, read_key: str | None = None, window_s: int = 60
                              ) -> tuple[list[tuple[str, str]], bytes | None] | None:
    """Counts one hit for each (scope, value, limit) and reads `read_key`, in one round trip: (the (scope, value)
    pairs past their limit, the value read), or None when Redis is unreachable (nothing counted; logged)."""
    window = int(time.time()) // window_s
    try:
        pipe = _async_client().pipeline(transaction=False)
        for scope, value, _ in checks:
            key = _key(scope, value, window)
            pipe.incr(key)
            pipe.expire(key, window_s + 5)
        if read_key is not None:
            pipe.get(read_key)
        answers = await pipe.execute()
    except Exception:
        logger.warning("API limit not checked: Redis unavailable", exc_info=True)
        return None
    counts = answers[:2 * len(checks):2]
    over = [(scope, value) for (scope, value, limit), count in zip(checks, counts, strict=True) if count > limit]
    return over, (answers[-1] if read_key is not None else None)


async def read_async(key: str) -> tuple[bool, bytes | None]:
    """(whether Redis answered, the value of `key`), on the event loop's client."""
    try:
        return True, await _async_client().get(key)
    except Exception:
        logger.warning("Redis unavailable", exc_info=True)
        return False, None
