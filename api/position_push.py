"""`POST /api/v1/positions/` with an API token, served on the event loop before Django's request stack.

Vehicle location sends one request per position, 200 a second. Through Django and DRF each cost 9–10 ms of CPU
(docs/BENCHMARKS.md 10.2): a new thread per request for the sync middlewares and view, a new Redis connection
in that thread, sessions, CSRF, OTP, CSP and staff-session middlewares that a token request never uses, and a
token SELECT. Here the accepted report takes one Redis round trip (both limits), one INSERT on a database thread
that lives as long as the process, and the token from a cache of TOKEN_CACHE_SECONDS.

Only the plain case is served here: a POST to exactly that path, JSON, with a known, active token that has the
scope, a valid report, under both limits. Everything else goes to Django unchanged, with the body replayed:
a missing, malformed, unknown or revoked token (DRF's 401), a token without the scope (403), an invalid report
(DRF's 400 naming the field), a bad Host, plain HTTP when HTTPS is required, another content type. So those
answers come from the one place that writes them. The checks are the same as the view's: the serializer
(api.serializers.PositionInSerializer), the scope (PositionViewSet.scopes), dispatch.services.position_check, and
the same Redis counters (api.limits), and the report is stored by dispatch.services.position_record, which hands
it to the map's coalescing broadcaster as before.
"""

import asyncio
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection
from django.http.request import split_domain_port, validate_host
from rest_framework.renderers import JSONRenderer
from rest_framework.utils import json

logger = logging.getLogger(__name__)

PATH = "/api/v1/positions/"
MAX_BODY = 16 * 1024  # a report is ~150 bytes; anything larger goes to Django's own limits
KEYWORDS = (b"bearer", b"token")
READ = {b"authorization", b"content-type", b"content-length", b"transfer-encoding", b"host", b"x-forwarded-host",
        b"x-forwarded-proto"}
HEADERS = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff"),
           (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
           (b"cross-origin-opener-policy", b"same-origin"),
           (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]

# One thread for the database: its connection stays open between reports (no pool checkout per request), and
# storing stays in order. Reports wait for it only while it writes (~1 ms).
_database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="position-push-db")


class PositionPush:
    """ASGI middleware in front of Django's HTTP handler (connect.asgi)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        key = _token_key(headers)
        if key is None or _repeated(scope) or not _plain(scope, headers):
            return await self.app(scope, receive, send)
        body = await _read(receive)
        if body is None:
            return  # the client went away
        replay = _replaying(body, receive)
        try:
            handled = await self._push(key, body, _Answer(send, secure=_secure(scope, headers)))
        except Exception:
            logger.exception("position push failed")
            answer = _Answer(send, secure=False)
            return await answer(500, {"detail": "The position could not be stored. Send it again."})
        if not handled:
            return await self.app(scope, replay, send)

    async def _push(self, key: str, body: bytes, answer: "_Answer") -> bool:
        """Answers and returns True, or returns False (nothing sent) for Django to answer."""
        from api import limits, services
        from api.serializers import PositionInSerializer
        from api.views.dispatch import PositionViewSet
        from dispatch.services import position_check

        loop = asyncio.get_running_loop()
        token = services.token_find_cached(key)
        if token is None:
            token = await loop.run_in_executor(_database, _call, services.token_cached, key)
        if not token or PositionViewSet.scopes["create"] not in token.scopes:
            return False
        try:
            data = json.loads(body.decode("utf-8"))  # DRF's: NaN and Infinity are refused, as by its JSONParser
        except ValueError:
            return False
        serializer = PositionInSerializer(data=data) if isinstance(data, dict) else None
        if serializer is None or not serializer.is_valid():
            return False
        data = dict(serializer.validated_data)
        try:
            position_check(latitude=data["lat"], longitude=data["lng"], recorded_at=data["at"])
        except ValidationError:
            return False
        per_minute, per_unit = settings.API_REQUESTS_PER_MINUTE, settings.POSITIONS_PER_UNIT_PER_MINUTE
        over = await limits.over_async([("token", token.prefix, per_minute),
                                        ("positions", f"{token.pk}:{data['unit']}", per_unit)])
        if any(scope == "token" for scope, _ in over):
            return await answer(429, {"detail": f"This token sent more than {per_minute} requests this minute."})
        if over:
            return await answer(429, {"detail": f"Units sent more than {per_unit} positions this minute: "
                                                f"{data['unit']}. Send at most one every second or two."})
        try:
            await _writer().store(token, data)
        except ValidationError as exc:  # the clock moved past a limit since the check: rare, answered the same
            return await answer(400, exc.message_dict)
        return await answer(202, {"unit": data["unit"], "at": data["at"]})


class _Writer:
    """Group commit: the reports that arrive while one INSERT runs are stored together by the next one, so
    under load a report costs less, not more. Each request still answers only once its report is stored."""

    def __init__(self):
        self.pending: list[tuple[object, dict, asyncio.Future]] = []
        self.draining = False

    async def store(self, token, data: dict) -> None:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((token, data, future))
        if not self.draining:
            self.draining = True
            asyncio.get_running_loop().create_task(self._drain())
        await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                try:
                    errors = await loop.run_in_executor(_database, _call, _store, [(t, d) for t, d, _ in batch])
                except Exception as exc:
                    errors = [exc] * len(batch)
                for (_, _, future), error in zip(batch, errors, strict=True):
                    if error is None:
                        future.set_result(None)
                    else:
                        future.set_exception(error)
        finally:
            self.draining = False


_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Writer]" = weakref.WeakKeyDictionary()


def _writer() -> _Writer:
    loop = asyncio.get_running_loop()
    if loop not in _writers:
        _writers[loop] = _Writer()
    return _writers[loop]


def _store(items: list[tuple[object, dict]]) -> list[ValidationError | None]:
    """On the database thread: all the reports in one INSERT (dispatch.services.positions_record); if one of
    them became invalid since it was checked (the clock moved past a limit), each on its own instead."""
    from api.services import token_used
    from dispatch.services import position_record, positions_record

    def fields(data: dict) -> dict:
        return {"unit": data["unit"], "latitude": data["lat"], "longitude": data["lng"],
                "heading_deg": data["heading"], "speed_kmh": data["speed"], "recorded_at": data["at"]}

    try:
        positions_record(positions=[fields(data) for _, data in items])
        errors = [None] * len(items)
    except ValidationError:
        errors = []
        for _, data in items:
            try:
                position_record(**fields(data))
                errors.append(None)
            except ValidationError as error:
                errors.append(error)
    for token in {token.pk: token for token, _ in items}.values():
        token_used(token=token)  # writes at most once a minute
    return errors


def _call(function, *args):
    """On the database thread. Its connection is kept between calls (Django's request signals, which would
    close it, do not run here). A connection that broke (a database restart) is closed and the call made once
    more on a new one; any other error closes it too, so the next call starts clean."""
    try:
        return function(*args)
    except (InterfaceError, OperationalError):
        connection.close()
        return function(*args)
    except ValidationError:
        raise
    except Exception:
        connection.close()
        raise


def _token_key(headers: dict) -> str | None:
    parts = headers.get(b"authorization", b"").split()
    if len(parts) != 2 or parts[0].lower() not in KEYWORDS:
        return None
    return parts[1].decode("latin-1")


def _repeated(scope) -> bool:
    """A header this path reads, sent twice: Django joins the values, so let it decide."""
    names = [name for name, _ in scope["headers"] if name in READ]
    return len(names) != len(set(names))


def _plain(scope, headers: dict) -> bool:
    """A request whose other answers (host, HTTPS, content type, size) Django would not change."""
    if headers.get(b"content-type", b"").split(b";")[0].strip().lower() != b"application/json":
        return False
    length = headers.get(b"content-length", b"")
    if not length.isdigit() or int(length) > MAX_BODY or b"transfer-encoding" in headers:
        return False
    if settings.USE_X_FORWARDED_HOST and b"x-forwarded-host" in headers:
        return False
    domain, _ = split_domain_port(headers.get(b"host", b"").decode("latin-1"))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return _secure(scope, headers) or not settings.SECURE_SSL_REDIRECT


def _secure(scope, headers: dict) -> bool:
    if scope.get("scheme") == "https":
        return True
    if settings.SECURE_PROXY_SSL_HEADER:
        name, value = settings.SECURE_PROXY_SSL_HEADER
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin-1")
        return headers.get(header, b"").split(b",")[0].strip().decode("latin-1") == value
    return False


async def _read(receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive):
    """The request's receive, with the body read here given back first (for Django)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class _Answer:
    """Sends one JSON response as DRF renders it, with the headers Django's middlewares give an API answer."""

    def __init__(self, send, *, secure: bool):
        self.send, self.secure = send, secure

    async def __call__(self, status: int, data: dict) -> bool:
        content = JSONRenderer().render(data)
        headers = [*HEADERS, (b"content-length", str(len(content)).encode())]
        if self.secure and settings.SECURE_HSTS_SECONDS:  # as SecurityMiddleware: on HTTPS answers only
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            hsts += "; includeSubDomains" if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS else ""
            hsts += "; preload" if settings.SECURE_HSTS_PRELOAD else ""
            headers.append((b"strict-transport-security", hsts.encode()))
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": content})
        return True
