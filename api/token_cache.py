"""API tokens kept in process memory between requests, and how a revocation reaches every process at once.

A token request looked its token up in the database every time. Here a process keeps the active tokens it has
found, each with the token generation it was found under: a value in Redis that token_revoke replaces, once the
revocation is committed, with a new random one (random, so that a Redis restart cannot bring an old value back). A
request reads the generation in the Redis round trip it makes anyway for its rate limit (api.limits), and a kept
token is trusted only while the generation is still the one it was found under; otherwise it is looked up again.
So a revocation takes effect at once in every process. A process that cannot read the generation (Redis
unreachable) forgets what it kept and asks the database every time. A kept token is also looked up again after
MAX_AGE_S, the bound for a revocation whose new generation could not be written to Redis (logged when it happens).
"""

import logging
import secrets
import threading
import time
from dataclasses import dataclass

from django.db import transaction

from api import limits
from api.models import ApiToken

logger = logging.getLogger(__name__)

GENERATION_KEY = "connect:api-token-generation"
MAX_AGE_S = 60.0
WARN_EVERY_S = 10.0
_warned_at = -WARN_EVERY_S


@dataclass(frozen=True, slots=True)
class Kept:
    token: ApiToken
    generation: bytes | None  # None: no generation was set in Redis yet
    until: float


_kept: dict[str, Kept] = {}  # by token prefix; only active tokens, found with their full key
_kept_lock = threading.Lock()


def kept(prefix: str) -> Kept | None:
    held = _kept.get(prefix)
    return held if held is not None and held.until > time.monotonic() else None


def keep(token: ApiToken, generation: bytes | None) -> None:
    with _kept_lock:
        _kept[token.prefix] = Kept(token, generation, time.monotonic() + MAX_AGE_S)


def forget(prefix: str) -> None:
    with _kept_lock:
        _kept.pop(prefix, None)


def forget_all() -> None:
    with _kept_lock:
        _kept.clear()


def generation_read() -> tuple[bool, bytes | None]:
    """(whether Redis answered, the generation)."""
    global _warned_at
    try:
        return True, limits.redis_client().get(GENERATION_KEY)
    except Exception:
        if time.monotonic() - _warned_at > WARN_EVERY_S:  # not once per request while Redis is away
            _warned_at = time.monotonic()
            logger.warning("API tokens looked up in the database and their limits not counted: Redis unavailable",
                           exc_info=True)
        return False, None


def token_changed(prefix: str) -> None:
    """Call inside the transaction that changes the token: this process forgets it now, every process once the
    change is committed."""
    forget(prefix)
    transaction.on_commit(_generation_renew, robust=True)


def _generation_renew() -> None:
    try:
        limits.redis_client().set(GENERATION_KEY, secrets.token_hex(16))
    except Exception:
        logger.error("API token generation not renewed (Redis unavailable): other processes may accept a token "
                     "revoked now for up to %d seconds", MAX_AGE_S, exc_info=True)
