"""`POST /api/v1/positions/` with an API token, served on the event loop before Django's request stack: the one
explicit fast HTTP route of connect.asgi.

Vehicle location sends one request per position, 200 a second. Through Django and DRF each cost 9–10 ms of CPU
(bench/positions.py; section 10.2 of docs/BENCHMARKS.md at e1565db): a new thread per request for the sync
middlewares and view, a new Redis connection in that thread, sessions, CSRF, OTP, CSP and staff-session middlewares
that a token request never uses, and a token SELECT. Here the accepted report takes one Redis round trip (both
limits), one INSERT on a database thread that lives as long as the process, and the token from a cache of
TOKEN_CACHE_SECONDS.

Only the plain case is served here: a POST to exactly that path, JSON, with a known, active token that has the
scope, a valid report, under both limits. Everything else goes to Django unchanged, with the body replayed:
a missing, malformed, unknown or revoked token (DRF's 401), a token without the scope (403), an invalid report
(DRF's 400 naming the field), another content type. So those answers come from the one place that writes them.

Nothing of Django's is copied by hand: the request is Django's own (ASGIRequest), so a bad Host is found by
`request.get_host()` (ALLOWED_HOSTS, USE_X_FORWARDED_HOST) and HTTPS by `request.is_secure()`; a request that the
site's SecurityMiddleware or CommonMiddleware would redirect or refuse goes to Django; and every answer passes
through the site's own header middlewares (HEADER_MIDDLEWARE, as listed in settings.MIDDLEWARE), so it carries the
same HSTS, CSP, nosniff, referrer, opener and frame headers as the view's. The checks are the view's: the
serializer (api.serializers.PositionInSerializer), the scope (PositionViewSet.scopes),
dispatch.services.position_check, and the same Redis counters (api.limits); the report is stored by
dispatch.services.positions_record, which hands it to the map's coalescing broadcaster as before.
"""

import asyncio
import io
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.exceptions import DisallowedHost, PermissionDenied, ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.utils.module_loading import import_string
from rest_framework.renderers import JSONRenderer
from rest_framework.utils import json

from common import request_context

logger = logging.getLogger(__name__)

PATH = "/api/v1/positions/"
ROUTE = "api:position-list"  # the name Django resolves PATH to
MAX_BODY = 16 * 1024  # a report is ~150 bytes; anything larger goes to Django's own limits
KEYWORDS = (b"bearer", b"token")
READ = {b"authorization", b"content-type", b"content-length", b"transfer-encoding", b"host", b"x-forwarded-host",
        b"x-forwarded-proto"}
# The site's middlewares that only look at the request's address and add headers: the fast route runs these
# (those of them in settings.MIDDLEWARE, in its order); the others (sessions, CSRF, auth, OTP, messages, staff
# sessions, auditlog) do nothing for a token request.
# Their headers must depend on nothing but HTTPS and the status: PositionPush keeps them per pair.
HEADER_MIDDLEWARE = ("django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware",
                     "csp.middleware.CSPMiddleware", "django.middleware.clickjacking.XFrameOptionsMiddleware")

# One thread for the database: its connection stays open between reports (no pool checkout per request), and
# storing stays in order. Reports wait for it only while it writes (~1 ms).
_database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="position-push-db")


class PositionPush:
    """ASGI route in front of Django's HTTP handler (connect.asgi): serves the plain case, passes the rest on."""

    def __init__(self, app):
        self.app = app
        # Built with the settings of now, as Django's handler builds its middleware chain.
        self.middlewares = _middleware_chain(_answer_prepared)
        # The headers those middlewares give an answer of this route depend only on HTTPS and the status (HSTS is
        # for HTTPS only; django-csp skips some statuses in DEBUG): made by them once per pair, then reused, as
        # django-csp would otherwise rebuild the same policy for every report (~0.2 ms).
        self.site_headers: dict[tuple[bool, int], list[tuple[bytes, bytes]]] = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        key = _token_key(headers)
        if key is None or _repeated(scope) or not _plain(headers):
            return await self.app(scope, receive, send)
        body = await _read(receive)
        if body is None:
            return  # the client went away
        replay = _replaying(body, receive)
        request = ASGIRequest(scope, io.BytesIO(body))
        if not self._as_django_would_serve(request):
            return await self.app(scope, replay, send)
        try:
            answer = await self._push(key, body)
        except Exception:
            logger.exception("position push failed")
            answer = (500, {"detail": "The position could not be stored. Send it again."})
        if answer is None:
            return await self.app(scope, replay, send)
        await self._answer(request, send, *answer)

    def _as_django_would_serve(self, request) -> bool:
        """Whether Django's own checks let the request reach the view: its Host allowed, and neither a redirect
        (HTTPS required, PREPEND_WWW) nor a refusal from the site's request middlewares."""
        try:
            request.get_host()
            return not any(middleware.process_request(request) for middleware in self.middlewares
                           if hasattr(middleware, "process_request"))
        except (DisallowedHost, PermissionDenied):
            return False

    async def _answer(self, request, send, status: int, data: dict) -> None:
        """One JSON response as DRF renders it, with the headers the site's middlewares give it."""
        content = JSONRenderer().render(data)
        context = request_context.current()
        if context is not None:
            context.route = ROUTE  # for the latency metric: the same route name as the view's
        headers = [*self._site_headers(request, status), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _site_headers(self, request, status: int) -> list[tuple[bytes, bytes]]:
        key = (request.is_secure(), status)
        if key not in self.site_headers:
            request.prepared_answer = HttpResponse(status=status, content_type="application/json")
            response = self.middlewares[0](request) if self.middlewares else request.prepared_answer
            self.site_headers[key] = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                                      for name, value in response.items() if name.lower() != "content-length"]
        return self.site_headers[key]

    async def _push(self, key: str, body: bytes) -> tuple[int, dict] | None:
        """The answer (status, data), or None for Django to answer."""
        from api import limits, services
        from api.serializers import PositionInSerializer
        from api.views.dispatch import PositionViewSet
        from dispatch.services import position_check

        loop = asyncio.get_running_loop()
        token = services.token_find_cached(key)
        if token is None:
            token = await loop.run_in_executor(_database, _call, services.token_cached, key)
        if not token or PositionViewSet.scopes["create"] not in token.scopes:
            return None
        try:
            data = json.loads(body.decode("utf-8"))  # DRF's: NaN and Infinity are refused, as by its JSONParser
        except ValueError:
            return None
        serializer = PositionInSerializer(data=data) if isinstance(data, dict) else None
        if serializer is None or not serializer.is_valid():
            return None
        data = dict(serializer.validated_data)
        try:
            position_check(latitude=data["lat"], longitude=data["lng"], recorded_at=data["at"])
        except ValidationError:
            return None
        per_minute, per_unit = settings.API_REQUESTS_PER_MINUTE, settings.POSITIONS_PER_UNIT_PER_MINUTE
        over = await limits.over_async([("token", token.prefix, per_minute),
                                        ("positions", f"{token.pk}:{data['unit']}", per_unit)])
        if any(scope == "token" for scope, _ in over):
            return 429, {"detail": f"This token sent more than {per_minute} requests this minute."}
        if over:
            return 429, {"detail": f"Units sent more than {per_unit} positions this minute: {data['unit']}. "
                                   "Send at most one every second or two."}
        try:
            await _writer().store(token, data)
        except ValidationError as exc:  # the clock moved past a limit since the check: rare, answered the same
            return 400, exc.message_dict
        return 202, {"unit": data["unit"], "at": data["at"]}


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


def _plain(headers: dict) -> bool:
    """JSON of a size Django would take as it is (no chunked body to assemble)."""
    if headers.get(b"content-type", b"").split(b";")[0].strip().lower() != b"application/json":
        return False
    length = headers.get(b"content-length", b"")
    return length.isdigit() and int(length) <= MAX_BODY and b"transfer-encoding" not in headers


def _middleware_chain(view) -> list:
    """The site's header middlewares (HEADER_MIDDLEWARE, in settings.MIDDLEWARE's order) around `view`, outermost
    first: calling the first runs them all, as Django's handler would."""
    chain = []
    for path in reversed([path for path in settings.MIDDLEWARE if path in HEADER_MIDDLEWARE]):
        chain.insert(0, import_string(path)(chain[0] if chain else view))
    return chain


def _answer_prepared(request):
    """The innermost 'view': the answer already made on the event loop."""
    return request.prepared_answer


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
