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
_scripts: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object]" = weakref.WeakKeyDictionary()

# _count_together's round trip as one command: INCRBY and EXPIRE per counted key, GET per read key, the replies in
# that order (counts, then values read). KEYS: the counted keys, then the read ones; ARGV: how many are counted, then
# each one's hits, then each one's expiry. One EVALSHA costs the event loop about two thirds of the three-command
# pipeline it replaces (redis-py's per-command packing, parsing and bookkeeping); a Redis that lost the script
# (restarted) gets it again from redis-py (NOSCRIPT, then SCRIPT LOAD).
_COUNT_AND_READ = """
local counted = tonumber(ARGV[1])
local replies = {}
for i = 1, counted do
    replies[i] = redis.call('INCRBY', KEYS[i], ARGV[1 + i])
    redis.call('EXPIRE', KEYS[i], ARGV[1 + counted + i])
end
for i = counted + 1, #KEYS do
    replies[i] = redis.call('GET', KEYS[i])
end
return replies
"""


def _async_client():
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = async_redis_client(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return client


def _count_and_read_script():
    loop = asyncio.get_running_loop()
    script = _scripts.get(loop)
    if script is None or script.registered_client is not _async_client():
        script = _scripts[loop] = _async_client().register_script(_COUNT_AND_READ)
    return script


async def over_and_read_async(checks: list[tuple[str, str, int]], *, read_key: str | None = None, window_s: int = 60
                              ) -> tuple[list[tuple[str, str]], bytes | None] | None:
    """Counts one hit for each (scope, value, limit) and reads `read_key`, in one round trip: (the (scope, value)
    pairs past their limit, the value read), or None when Redis is unreachable (nothing counted; logged).

    Requests counting at the same moment on this event loop share the round trip (_CountingTogether): one INCRBY
    per key for all their hits, each request's count being the one its own INCR would have returned."""
    loop = asyncio.get_running_loop()
    together = _together.get(loop)
    if together is None:
        together = _together[loop] = _CountingTogether()
    return await together.count(loop, checks, read_key, window_s)


class _CountingTogether:
    """The first request starts a round trip at once; those arriving while it is out go together in the next one
    (no timer: a lone request waits for its own round trip alone)."""

    def __init__(self):
        self.waiting: list[tuple[list[tuple[str, str, int]], str | None, int, asyncio.Future]] = []
        self.sender: asyncio.Task | None = None

    async def count(self, loop, checks, read_key, window_s):
        answered = loop.create_future()
        self.waiting.append((checks, read_key, window_s, answered))
        if self.sender is None:
            self.sender = loop.create_task(self._send())
        return await asyncio.shield(answered)  # one request going away does not cancel the others' count

    async def _send(self) -> None:
        try:
            while self.waiting:
                requests, self.waiting = self.waiting, []
                try:
                    answers = await _count_together([(checks, read_key, window_s)
                                                     for checks, read_key, window_s, _ in requests])
                except Exception:
                    logger.warning("API limit not checked: Redis unavailable", exc_info=True)
                    answers = [None] * len(requests)
                for (*_, answered), answer in zip(requests, answers, strict=True):
                    if not answered.done():
                        answered.set_result(answer)
        finally:
            self.sender = None


_together: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _CountingTogether]" = weakref.WeakKeyDictionary()


async def _count_together(requests: list[tuple[list[tuple[str, str, int]], str | None, int]]
                          ) -> list[tuple[list[tuple[str, str]], bytes | None]]:
    """One round trip for several requests' counts and reads (_COUNT_AND_READ): INCRBY (the hits on a key) and EXPIRE
    per key, GET per key read. The n-th of a key's hits in this batch is counted as total - hits + n, as its own INCR
    would be."""
    now = int(time.time())
    hits: dict[str, int] = {}  # key -> hits on it in this round trip
    expiry: dict[str, int] = {}
    numbered = []  # per request: (key, which of the key's hits it is, limit) per check
    for checks, _, window_s in requests:
        mine = []
        for scope, value, limit in checks:
            key = _key(scope, value, now // window_s)
            hits[key] = hits.get(key, 0) + 1
            expiry[key] = window_s + 5
            mine.append((key, hits[key], limit))
        numbered.append(mine)
    reads = list(dict.fromkeys(read_key for _, read_key, _ in requests if read_key is not None))
    answers = await _count_and_read_script()(keys=[*hits, *reads], args=[len(hits), *hits.values(), *expiry.values()])
    totals = dict(zip(hits, answers[:len(hits)], strict=True))
    read = dict(zip(reads, answers[len(hits):], strict=True))
    return [([(scope, value) for (scope, value, _), (key, nth, limit) in zip(checks, mine, strict=True)
              if totals[key] - hits[key] + nth > limit], read.get(read_key) if read_key is not None else None)
            for (checks, read_key, _), mine in zip(requests, numbered, strict=True)]


async def read_async(key: str) -> tuple[bool, bytes | None]:
    """(whether Redis answered, the value of `key`), on the event loop's client."""
    try:
        return True, await _async_client().get(key)
    except Exception:
        logger.warning("Redis unavailable", exc_info=True)
        return False, None
