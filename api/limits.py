"""Per-minute request limits for the API in Redis: one round trip per check (INCR and EXPIRE pipelined),
because vehicle location calls this 200 times a second. If Redis is unreachable the limit is not enforced
for that moment (logged), as for the public forms (connect.ratelimit)."""

import hashlib
import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)


def over(scope: str, value: str, *, limit: int, window_s: int = 60) -> bool:
    """Counts one hit for (scope, value) in the current window; True once the limit is passed."""
    return bool(over_many(scope, [value], limit=limit, window_s=window_s))


def over_many(scope: str, values: list[str], *, limit: int, window_s: int = 60) -> list[str]:
    """Counts one hit for each value, all in one round trip; returns the values past the limit."""
    window = int(time.time()) // window_s
    keys = [f"connect:api-limit:{scope}:{hashlib.sha256(v.encode()).hexdigest()[:24]}:{window}" for v in values]
    try:
        client = cache._cache.get_client(keys[0], write=True)
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, window_s + 5)
        counts = pipe.execute()[::2]
    except Exception:
        logger.warning("API limit not checked: Redis unavailable", exc_info=True)
        return []
    return [value for value, count in zip(values, counts, strict=True) if count > limit]
