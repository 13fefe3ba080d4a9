"""`POST /api/v1/positions/` with an API token, served on the event loop before Django's request stack: one of the
explicit fast HTTP routes of connect.asgi (api.fast_route says what they share).

Vehicle location sends one request per position, 200 a second. Through Django and DRF each cost 9–10 ms of CPU
(bench/positions.py; section 10.2 of docs/BENCHMARKS.md at e1565db): a new thread per request for the sync
middlewares and view, a new Redis connection in that thread, sessions, CSRF, OTP, CSP and staff-session middlewares
that a token request never uses, and a token SELECT. Here the accepted report takes one Redis round trip (both
limits and the token generation), one INSERT on a database thread that lives as long as the process, and the token
from the process's generation-checked cache (api.token_cache), the one DRF's authentication uses: a revocation
stops pushes at once, in every process.

Only the plain case is served here: a POST to exactly that path, JSON, with a known, active token that has the
scope, a valid report, under both limits. Everything else goes to Django unchanged, with the body replayed:
a missing, malformed, unknown or revoked token (DRF's 401), a token without the scope (403), an invalid report
(DRF's 400 naming the field), another content type. So those answers come from the one place that writes them.

The checks are the view's: the serializer (api.serializers.PositionInSerializer), the scope
(PositionViewSet.scopes), dispatch.services.position_check, and the same Redis counters (api.limits); the report is
stored by dispatch.services.positions_record, which hands it to the map's coalescing broadcaster as before.
"""

import asyncio
import io
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from rest_framework.renderers import JSONRenderer
from rest_framework.utils import json

from api.fast_route import FastRoute, call_on_database_thread, repeated, sends_cookies, token_key

logger = logging.getLogger(__name__)

PATH = "/api/v1/positions/"
MAX_BODY = 16 * 1024  # a report is ~150 bytes; anything larger goes to Django's own limits
READ = {b"authorization", b"content-type", b"content-length", b"transfer-encoding", b"host", b"x-forwarded-host",
        b"x-forwarded-proto"}
# One thread for the database: its connection stays open between reports (no pool checkout per request), and
# storing stays in order. Reports wait for it only while it writes (~1 ms).
_database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="position-push-db")


class PositionPush(FastRoute):
    """Serves the plain position report (see the module's docstring), passes the rest on to `app`."""

    path = PATH

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        key = token_key(headers)
        if key is None or repeated(scope, READ) or sends_cookies(headers) or not _plain(headers):
            return await self.app(scope, receive, send)
        body = await _read(receive)
        if body is None:
            return  # the client went away
        replay = _replaying(body, receive)
        request = ASGIRequest(scope, io.BytesIO(body))
        if not self.as_django_would_serve(request):
            return await self.app(scope, replay, send)
        try:
            answer = await self._push(key, body)
        except Exception:
            logger.exception("position push failed")
            answer = (500, {"detail": "The position could not be stored. Send it again."})
        if answer is None:
            return await self.app(scope, replay, send)
        status, data = answer
        await self.answer(request, send, status, JSONRenderer().render(data))

    async def _push(self, key: str, body: bytes) -> tuple[int, dict] | None:
        """The answer (status, data), or None for Django to answer."""
        from api.authentication import token_for_fast_route
        from api.serializers import PositionInSerializer
        from api.views.dispatch import PositionViewSet
        from dispatch.services import position_check

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
        found = await token_for_fast_route(
            key, scope=PositionViewSet.scopes["create"], database=_on_database_thread,
            checks=lambda token: [("positions", f"{token.pk}:{data['unit']}", per_unit)])
        if found is None:
            return None
        token, over = found
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


async def _on_database_thread(function, *args):
    return await asyncio.get_running_loop().run_in_executor(_database, call_on_database_thread, function, *args)


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
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                try:
                    errors = await _on_database_thread(_store, [(t, d) for t, d, _ in batch])
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


def _plain(headers: dict) -> bool:
    """JSON of a size Django would take as it is (no chunked body to assemble)."""
    if headers.get(b"content-type", b"").split(b";")[0].strip().lower() != b"application/json":
        return False
    length = headers.get(b"content-length", b"")
    return length.isdigit() and int(length) <= MAX_BODY and b"transfer-encoding" not in headers


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
