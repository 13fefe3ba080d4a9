"""`GET /map/cameras.json` for a signed-in staff member, served on the event loop before Django's request stack: the
staff map's explicit fast route in connect.asgi (api.fast_route says what the fast routes share).

Through Django each map move cost 8–14× the map's own SQL (bench/map_tiles.py); profiled, about 7 of its 8–9 ms of
CPU went to the ORM's building of the five queries that check who asks (session, user, two permission reads, the
lock) and the middlewares around them. Here the same checks (and the outside agencies' rule) take one plain
statement on the route's own connections (accounts.fast_checks, api.loop_database; two for a session's first
request), read side by side with the groups or cameras, which are the view's own SQL (registry.selectors, awaited);
the answer is the view's own (registry.views.staff_map.in_view_*), and its ledger entry the view's own
(registry.services.map_view_entry), committed on the loop's connection together with concurrent requests' entries
(audit.ledger.GroupCommit, record_many_on_loop) before any of the answer leaves.

Once a session has passed every check here, its next groups answers take a single round trip (api.map_known): one
statement reads the groups, checks afresh that the session's row is unchanged and its user still passes every check,
and writes the entry only if so; otherwise it writes nothing and the request takes the path above.

Only the plain case is served here: a GET to exactly that path, without a body, with valid parameters, from a
session that Django would let through changing nothing (accounts.middleware.session_quiet) of an active staff
member holding registry.view_camera, with no open lock of their name and, when the site requires it, a verified
second factor. Everything else goes to Django unchanged, so that every refusal and every session write comes from
the one place that makes them: no session cookie, an unknown or expired session, a password changed since, a
session last seen a minute ago or more (Django writes the new time), a lock, a missing permission, bad parameters,
HEAD, a malformed CSRF cookie (Django answers a new one), a Host or scheme Django would refuse or redirect.
tests/api/test_map_route_parity.py sends the same requests both ways.
"""

import asyncio
import functools
import io
import logging
import time

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.utils.functional import cached_property

from accounts import fast_checks
from accounts.middleware import session_quiet
from api import map_known
from api.fast_route import HEADER_MIDDLEWARE, DatabaseThreads, FastRoute, repeated
from api.loop_database import LoopDatabase
from audit.ledger import GroupCommit, record_many_on_loop
from audit.ledger.writing import seal_after_loop_write
from common import access, request_context
from common.fast_gzip import FastGZipMiddleware
from registry import selectors, services
from registry.views import staff_map

logger = logging.getLogger(__name__)

PATH = "/map/cameras.json"
READ = {b"cookie", b"host", b"x-forwarded-host", b"x-forwarded-proto", b"content-length", b"transfer-encoding",
        b"accept-encoding", b"accept-language"}
QUERIES = 4  # at once, each on its own connection

_queries = LoopDatabase(QUERIES)
# The second factor's device when the site requires one, an outside rule without SQL, the sealer's lookups.
_database = DatabaseThreads(1, "map-db")
# The view's entries, written together on one of the loop's connections (no thread hop).
_ledger = GroupCommit(_queries.run, write=functools.partial(record_many_on_loop, run=_database.run))
# The view's compression (gzip_fast), applied to the same body.
_gzip = FastGZipMiddleware(lambda request: None)


class MapRoute(FastRoute):
    """Serves the plain staff map request (see the module's docstring), passes the rest on to `app`."""

    path = PATH
    # The page's headers also say its language (Content-Language, Vary: Accept-Language); CSRF's answers a new
    # cookie for a malformed one, which this route leaves to Django.
    header_middleware = (*HEADER_MIDDLEWARE, "common.locale.PeoplesLocaleMiddleware",
                         "django.middleware.csrf.CsrfViewMiddleware")

    @cached_property
    def enabled(self) -> bool:
        return fast_checks.checks_apply()

    def header_key(self, request, status: int) -> tuple:
        return request.is_secure(), status, request.LANGUAGE_CODE, request.compressed

    def answer_prepared(self, request, status: int) -> HttpResponse:
        response = HttpResponse(status=status, content_type="application/json")
        for name, value in request.compression_headers:
            response[name] = value
        return response

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != PATH or scope.get("root_path"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if (b"cookie" not in headers or repeated(scope, READ) or b"transfer-encoding" in headers
                or headers.get(b"content-length", b"0") != b"0" or not self.enabled):
            return await self.app(scope, receive, send)
        request = ASGIRequest(scope, io.BytesIO())
        if not self.as_django_would_serve(request) or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
            return await self.app(scope, receive, send)
        asked = staff_map.in_view_asked(request.GET)
        if not isinstance(asked, tuple):  # Django's 400
            return await self.app(scope, receive, send)
        if await self._served_in_one(request, send, asked):
            return
        # Who asks and what the map shows are read side by side, on two connections; what was read is used only
        # once the checks have passed (else it is dropped: nothing answered, nothing recorded).
        user, read = await asyncio.gather(self._staff_reader(request), self._read(*asked), return_exceptions=True)
        if isinstance(user, BaseException):  # the database unreachable, say: Django's answer, as for any request
            logger.warning("map request passed on: the session could not be checked", exc_info=user)
            user = None
        if user is None:
            return await self.app(scope, receive, send)
        context = request_context.current()
        if context is not None:  # as common.request_context.RequestUserMiddleware notes a staff member
            context.user_id = user.pk
        try:
            if isinstance(read, BaseException):
                raise read
            clusters, features, shown = read
            _box, kinds, levels, _zoom = asked
            # The view's own entry, committed before any of the answer leaves.
            await _ledger.record([services.map_view_entry(actor=user, **shown, kinds=kinds, levels=levels)])
            content = staff_map.in_view_body(clusters, features)
        except Exception:
            logger.exception("map request failed")
            content = None
        if content is None:  # as Django's handler would answer an error in the view: a 500, logged
            request.compressed, request.compression_headers = False, ()
            return await self.answer(request, send, 500, b'{"detail": "The map could not be read. Try again."}')
        await self.answer(request, send, 200, self._compressed(request, content))

    async def _served_in_one(self, request, send, asked) -> bool:
        """Answers a known session's groups from one statement (api.map_known) if its checks pass there; False, with
        nothing recorded or sent, for the usual path."""
        box, kinds, levels, cell_zoom = asked
        known = fast_checks.known_session(request.session.session_key)
        if cell_zoom is None or known is None or not session_quiet(known.data, time.time()):
            return False
        prepared = map_known.statement_for(known, box, kinds, levels, cell_zoom)
        if prepared is None:
            return False
        try:
            served = await _queries.run(map_known.groups_if_allowed, *prepared)
        except Exception:  # the usual path reads, checks and answers again (or hands the request to Django)
            logger.warning("map request: the one-statement answer failed", exc_info=True)
            return False
        if served is None:
            return False
        request.session_read = dict(known.data)  # the row's data, unchanged (the statement compared it)
        context = request_context.current()
        if context is not None:
            context.user_id = known.user_id
        try:
            await seal_after_loop_write([served.pending_id], run=_database.run)
            content = staff_map.in_view_body(served.groups, None)
        except Exception:  # the entry is committed; answer as the usual path answers a failure
            logger.exception("map request failed")
            request.compressed, request.compression_headers = False, ()
            await self.answer(request, send, 500, b'{"detail": "The map could not be read. Try again."}')
            return True
        await self.answer(request, send, 200, self._compressed(request, content))
        return True

    async def _staff_reader(self, request):
        """The signed-in staff member of this quiet session whom Django would serve without changing anything, or
        None."""
        data, user = await _queries.run(fast_checks.session_and_staff, request.session, staff_map.MAP_PERMISSION)
        if not data or user is None or not session_quiet(data, time.time()):
            return None
        # The outside agencies' guard refuses such an account every permission: read with the checks above when
        # every rule has its SQL, else asked of the rules on a database thread.
        if access.is_outside(user) if access.outside_known(user) else await _database.run(access.is_outside, user):
            return None
        if settings.MFA_REQUIRED and not await _database.run(fast_checks.second_factor_verified, user, data):
            return None
        # The session as Django's stack leaves it (read, unchanged): SessionMiddleware then says `Vary: Cookie`.
        request.session_read = data
        return user

    @staticmethod
    async def _read(box: dict, kinds: list, levels: list, cell_zoom: int | None):
        """What the view reads: (groups or None, the cameras' GeoJSON or None, the box the answer shows)."""
        clusters = counted = None
        if cell_zoom is not None:
            clusters, counted = await _queries.run(_clusters, box, cell_zoom, kinds, levels)
        clusters = staff_map.in_view_groups(clusters)
        if clusters is not None:
            return clusters, None, counted  # groups count whole squares, past the map's edges
        return None, await _queries.run(_cameras, box, kinds, levels), box

    @staticmethod
    def _compressed(request, content: bytes) -> bytes:
        response = _gzip.process_response(request, HttpResponse(content, content_type="application/json"))
        request.compression_headers = [(name, response[name]) for name in ("Content-Encoding", "Vary")
                                       if response.has_header(name)]
        request.compressed = tuple(request.compression_headers)
        return response.content


async def _clusters(connection, box: dict, zoom: int, kinds: list, levels: list):
    return await selectors.camera_clusters_in_bbox_async(connection, **box, zoom=zoom, kinds=kinds, levels=levels)


async def _cameras(connection, box: dict, kinds: list, levels: list) -> str:
    return await selectors.cameras_geojson_in_bbox_async(connection, **box, kinds=kinds, levels=levels,
                                                         limit=settings.MAP_MAX_FEATURES)
