"""Fixed-window rate limits in the Redis cache, for the public endpoints (per address and per email).

If Redis is unreachable the limit is not enforced for that moment (and it is logged): a resident
registering while Redis restarts should not be turned away.
"""

import hashlib
import logging
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from common.client import client_ip

logger = logging.getLogger(__name__)


# Mail providers that ignore dots in the local part: a.b@gmail.com and ab@gmail.com are one mailbox.
_DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def email_folded(address: str) -> str:
    """One mailbox's many spellings as one: lower case, the "+tag" dropped (every large provider delivers a+x@b
    to a@b), and dots dropped where the provider ignores them. For counting only: mail still goes to the address
    as typed."""
    local, at, domain = (address or "").strip().lower().rpartition("@")
    if not at or not local:
        return (address or "").strip().lower()
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "") or local
        domain = "gmail.com"
    return f"{local}@{domain}"


def email_over_limit(scope: str, address: str) -> bool:
    """Counts one hit for the mailbox behind `address` under the per-email limit."""
    return over_limit(f"{scope}:email", email_folded(address), limit=settings.RATE_LIMIT_PER_EMAIL,
                      window_s=settings.RATE_LIMIT_WINDOW_MINUTES * 60)


def over_limit(scope: str, value: str, *, limit: int, window_s: int) -> bool:
    """Counts one hit for (scope, value) and says whether the window's limit is exceeded."""
    if not value:
        return False
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]  # no emails in Redis keys
    key = f"rl:{scope}:{digest}:{int(time.time()) // window_s}"
    try:
        cache.add(key, 0, timeout=window_s + 5)
        return cache.incr(key) > limit
    except Exception:
        logger.warning("rate limit not checked: cache unavailable", exc_info=True)
        return False


def _limited_response(request):
    return render(request, "rate_limited.html", {"minutes": settings.RATE_LIMIT_WINDOW_MINUTES}, status=429)


def rate_limited(scope: str, *, email_field: str | None = None):
    """Limits POSTs to a view per client address and, when `email_field` is given, per email address."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST" and settings.RATE_LIMITS_ENABLED:
                window = settings.RATE_LIMIT_WINDOW_MINUTES * 60
                if over_limit(f"{scope}:ip", client_ip(request) or "", limit=settings.RATE_LIMIT_PER_ADDRESS,
                              window_s=window):
                    return _limited_response(request)
                email = request.POST.get(email_field, "") if email_field else ""
                if email and email_over_limit(scope, email):
                    return _limited_response(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
