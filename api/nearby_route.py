"""`GET /api/v1/cameras/nearby/` with an API token, served on the event loop before Django's request stack: the
nearby search's explicit fast route in connect.asgi (api.fast_route says what the fast routes share).

Through Django and DRF the search cost 7–10× the bare selector (bench/api_nearby.py): the middlewares, DRF's
request, negotiation, authentication and permission machinery, a thread hop per request. Here a search costs one
Redis round trip (the token's count and generation, api.authentication.token_for_fast_route) and the view's own
database work: the selector, awaited on the event loop (api.loop_database), and its ledger entry, committed together
with those of the searches running at the same moment (audit.ledger.group_commit: one INSERT and one commit for them
all); the answer is sent only once that commit is done.

Only the plain case is served here: a GET to exactly that path, with a known, active token that has the view's
scope, under its limit, with valid parameters inside the service area, asking for JSON or GeoJSON (or anything).
Everything else goes to Django unchanged: a missing, malformed, unknown or revoked token (DRF's 401), a token
without the scope (403), bad parameters or a point outside the area (400), a token over its limit (429), staff
sessions, HEAD and OPTIONS, DRF's `format` parameter, other Accept headers (406). So those answers come from the
one place that writes them. Nothing is counted here for a request passed on, so Django's count is its only one;
but a token found over its limit here is counted once more by Django as it answers the 429.

What it answers is made by the view's own functions (api.views.cameras.nearby_params, nearby_found(_async) and
nearby_body: the serializer, the service-area check, the selector, the ledger entry, the GeoJSON), with the headers
DRF's view adds (its Allow and Vary, from CameraViewSet itself: api.fast_route.drf_view_headers) and the site's
middlewares. What Django's Host, HTTPS and middleware checks found is kept per request shape (every header but the
token: api.fast_route.FastRoute.as_django_would_serve_kept), so a client's next search skips them.
tests/api/test_nearby_route_parity.py sends the same requests both ways.
"""

import io
import logging
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from rest_framework.exceptions import ValidationError

from api import services
from api.authentication import token_for_fast_route
from api.fast_route import DatabaseThreads, FastRoute, repeated, sends_cookies, token_key
from api.loop_database import LoopDatabase
from api.views import cameras
from audit.ledger import GroupCommit

logger = logging.getLogger(__name__)

PATH = "/api/v1/cameras/nearby/"
READ = {b"authorization", b"accept", b"host", b"x-forwarded-host", b"x-forwarded-proto", b"content-length",
        b"transfer-encoding"}
# What DRF's negotiation gives this view's first renderer (JSON) or its GeoJSON one for; the view answers GeoJSON
# either way. Other Accept headers go to Django, which may answer 406.
ACCEPTED = {b"", b"*/*", b"application/json", b"application/geo+json"}
SEARCHES = 4  # at once, each on its own connection

# The search itself is awaited on the event loop, on connections of the route's own (api.loop_database): a thread
# hop per search cost more CPU than the query's own client side. The database does the work: more searches at once
# than this only queue there.
_searches = LoopDatabase(SEARCHES)
# The token's lookup after a change and its last use (once a minute): Django's ORM, on a thread.
_database = DatabaseThreads(2, "nearby-db")
# The searches' ledger entries: those of concurrent searches in one INSERT and one commit, on a thread (and a
# connection) of their own, so that searches go on while entries are committed (audit.ledger.group_commit).
_ledger = GroupCommit(DatabaseThreads(1, "nearby-ledger").run)


class NearbyRoute(FastRoute):
    """Serves the plain nearby search (see the module's docstring), passes the rest on to `app`."""

    path = PATH

    def __init__(self, app):
        super().__init__(app)
        self.scope = cameras.CameraViewSet.scopes["nearby"]

    def content_type(self, status: int) -> str:
        return cameras.GEOJSON if status == 200 else "application/json"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != PATH or scope.get("root_path"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        key = token_key(headers)
        if key is None or repeated(scope, READ) or sends_cookies(headers) or not _plain(headers):
            return await self.app(scope, receive, send)
        request = ASGIRequest(scope, io.BytesIO())
        query = _query(request)
        if query is None or "format" in query or not self.as_django_would_serve_kept(request, scope):
            return await self.app(scope, receive, send)
        try:
            params = cameras.nearby_params(query, as_sent=lambda: request.GET)
        except ValidationError:
            return await self.app(scope, receive, send)
        try:
            found = await token_for_fast_route(key, scope=self.scope, database=_database.run)
        except Exception:  # the database unreachable, say: Django's answer (and its error page) as for any request
            logger.warning("nearby search passed on: the token could not be looked up", exc_info=True)
            found = None
        if found is None or found[1]:  # Django answers (nothing counted here), or the token is over its limit
            return await self.app(scope, receive, send)
        token = found[0]
        try:
            if services.token_use_due(token=token):  # once a minute: as api.authentication.TokenAuthentication
                await _database.run(_token_used, token)
            # api.permissions.actor of a token request
            cameras_found, ledger_entry = await _searches.run(_search, token.label, params)
            await _ledger.record([ledger_entry])  # committed before any of the answer leaves
            content = cameras.nearby_body(params, cameras_found)
        except Exception:
            logger.exception("nearby search failed")
            content = None
        if content is None:  # as Django's handler would answer an error in the view: a 500, logged
            return await self.answer(request, send, 500, b'{"detail": "The search failed. Try again."}')
        await self.answer(request, send, 200, content)


def _token_used(token) -> None:
    services.token_used(token=token)


async def _search(connection, actor: str, params: dict) -> tuple[list, dict]:
    return await cameras.nearby_found_async(connection, actor=actor, params=params)


def _query(request) -> dict[str, str] | None:
    """The query's parameters, each with its last value (what QueryDict.get gives), parsed as QueryDict parses them
    but without its lists (a quarter of the route's request handling); None when there are more than Django takes
    (its 400)."""
    try:
        return dict(parse_qsl(request.META["QUERY_STRING"], keep_blank_values=True, encoding=settings.DEFAULT_CHARSET,
                              max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    except ValueError:
        return None


def _plain(headers: dict) -> bool:
    """No body (a GET with one goes to Django), and an Accept that DRF's negotiation takes at once."""
    if b"transfer-encoding" in headers or headers.get(b"content-length", b"0") != b"0":
        return False
    return headers.get(b"accept", b"").strip().lower() in ACCEPTED
