"""The client's address, trusting exactly CONNECT_TRUSTED_PROXIES hops of X-Forwarded-For.

With no trusted proxy the header is ignored (anyone can send it). Behind N proxies, the address is the
N-th from the right: each proxy appends what it saw, so entries further left are the client's own claims.
"""

from django.conf import settings


def client_ip(request) -> str | None:
    hops = settings.TRUSTED_PROXIES
    remote = request.META.get("REMOTE_ADDR") or None
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    return forwarded[-hops]
