"""Browser websockets only from connect's own pages: the Origin must be this site exactly (scheme, host and port), as
Django's CSRF check asks of a form's POST, and the Host one of ALLOWED_HOSTS, as Django asks of every request.
Channels' AllowedHostsOriginValidator compared the host name only, so a page of another port or scheme on the same
host (another service there, plain http) could open an officer's sockets with their cookies, which browsers send to
every port. A refused socket is closed here, before any consumer: Channels' WebsocketDenier is a consumer, and it
opened a channel on the channel layer (a Redis connection and receive) only to say no, on every refused attempt."""

from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin1").strip()
    return None


def _secure(scope) -> bool:
    """As Django's request.is_secure(): the proxy's header when one is configured and sent, else the socket's scheme."""
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, secure_value = proxy
        sent = _header(scope, name.removeprefix("HTTP_").replace("_", "-").lower().encode())
        if sent is not None:
            return sent.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "wss"


def same_origin(scope) -> bool:
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or not host or not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
        return False
    own = f"{'https' if _secure(scope) else 'http'}://{host}".lower()
    return origin.lower() == own or origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", ())


class SameOriginSockets:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not same_origin(scope):
            return await refuse(receive, send)
        return await self.app(scope, receive, send)


async def refuse(receive, send) -> None:
    """Closes the socket before accepting it: the browser sees HTTP 403."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close"})
