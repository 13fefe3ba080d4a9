"""What connect's explicit ASGI fast routes share (api.position_push, api.nearby_route): each serves the plain case
of one hot endpoint on the event loop, in front of Django's HTTP handler, and passes every other request on to
Django unchanged, so that every refusal comes from the one place that writes it.

Nothing of Django's is copied by hand: the request is Django's own (ASGIRequest), so a bad Host is found by
`request.get_host()` (ALLOWED_HOSTS, USE_X_FORWARDED_HOST) and HTTPS by `request.is_secure()`; a request that the
site's SecurityMiddleware or CommonMiddleware would redirect or refuse goes to Django; and every answer passes
through the site's own header middlewares (HEADER_MIDDLEWARE, as listed in settings.MIDDLEWARE), so it carries the
same HSTS, CSP, nosniff, referrer, opener and frame headers as the view's.
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import DisallowedHost, PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.urls import resolve
from django.utils.module_loading import import_string

from common import request_context

KEYWORDS = (b"bearer", b"token")
SHAPES_KEPT = 256  # request shapes whose Django checks a route keeps (FastRoute.as_django_would_serve_kept)
# The site's middlewares that only look at the request's address and add headers: the fast routes run these
# (those of them in settings.MIDDLEWARE, in its order); the others (CSRF, auth, OTP, messages, staff sessions,
# auditlog) do nothing for a token request. Sessions are here for their header alone: Django's stack reads the
# session on every request (StaffSessionMiddleware asks whether request.user is signed in), so every answer of the
# site says `Vary: Cookie`; a request that sends cookies goes to Django (a stale session cookie is deleted there).
# Their headers must depend on nothing but HTTPS and the status: a route keeps them per pair.
HEADER_MIDDLEWARE = ("django.middleware.security.SecurityMiddleware",
                     "django.contrib.sessions.middleware.SessionMiddleware",
                     "django.middleware.common.CommonMiddleware", "csp.middleware.CSPMiddleware",
                     "django.middleware.clickjacking.XFrameOptionsMiddleware")


class FastRoute:
    """ASGI route in front of Django's HTTP handler (connect.asgi) for the DRF view at `path`. A subclass serves its
    plain case and calls `self.app` for the rest."""

    path: str
    header_middleware = HEADER_MIDDLEWARE  # the site's middlewares whose headers this route's answers carry

    def __init__(self, app):
        self.app = app
        # Built with the settings of now, as Django's handler builds its middleware chain.
        self.middlewares = _middleware_chain(_answer_prepared, self.header_middleware)
        # The headers the view and the middlewares give an answer of this route depend only on HTTPS and the status
        # (HSTS is for HTTPS only; django-csp skips some statuses in DEBUG): made by them once per pair, then
        # reused, as django-csp would otherwise rebuild the same policy for every answer (~0.2 ms).
        self.site_headers: dict[tuple, list[tuple[bytes, bytes]]] = {}
        self.served_by_shape: dict[tuple, bool] = {}  # as_django_would_serve_kept

    # Looked up at the first request, not at import: a test that swaps the URL configuration may import the
    # application meanwhile (pytest's `urls` marker), and the route serves the site's own view.
    @cached_property
    def view_headers(self) -> list[tuple[str, str]]:
        return drf_view_headers(self.path)

    @cached_property
    def route_name(self) -> str:
        """The latency metric's label, as for the view's own answers."""
        return resolve(self.path).view_name

    def content_type(self, status: int) -> str:
        return "application/json"

    def header_key(self, request, status: int) -> tuple:
        """What the answer's headers depend on (see site_headers)."""
        return request.is_secure(), status

    def answer_prepared(self, request, status: int) -> HttpResponse:
        """The view's response before the middlewares, without its body: with the headers DRF adds."""
        response = HttpResponse(status=status, content_type=self.content_type(status))
        for name, value in self.view_headers:
            response[name] = value
        return response

    def as_django_would_serve_kept(self, request, scope) -> bool:
        """as_django_would_serve, found once per request shape (the scheme, the server's address and every header
        but Authorization) and then kept, for a route whose header middlewares are HEADER_MIDDLEWARE: theirs, Host's
        and HTTPS's checks look at nothing else of a request to this route's one path, and a request with a cookie
        (the sessions') goes to Django before this. Like the middlewares themselves, built with the settings of now.
        A client's next search of the same shape skips the checks' Python (~0.1 ms a search); SHAPES_KEPT bounds
        what a client that keeps changing its headers can make the route keep."""
        shape = (scope["scheme"], scope.get("server"),
                 tuple(header for header in scope["headers"] if header[0] != b"authorization"))
        served = self.served_by_shape.get(shape)
        if served is None:
            served = self.as_django_would_serve(request)
            if len(self.served_by_shape) >= SHAPES_KEPT:
                self.served_by_shape.clear()
            self.served_by_shape[shape] = served
        return served

    def as_django_would_serve(self, request) -> bool:
        """Whether Django's own checks let the request reach the view: its Host allowed, and neither a redirect
        (HTTPS required, PREPEND_WWW) nor a refusal from the site's request middlewares."""
        try:
            request.get_host()
            return not any(middleware.process_request(request) for middleware in self.middlewares
                           if hasattr(middleware, "process_request"))
        except (DisallowedHost, PermissionDenied):
            return False

    async def answer(self, request, send, status: int, content: bytes) -> None:
        """One response: `content` with the headers the view and the site's middlewares give it."""
        context = request_context.current()
        if context is not None:
            context.route = self.route_name
        headers = [*self._site_headers(request, status), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _site_headers(self, request, status: int) -> list[tuple[bytes, bytes]]:
        key = self.header_key(request, status)
        if key not in self.site_headers:
            request.prepared_answer = self.answer_prepared(request, status)
            response = self.middlewares[0](request) if self.middlewares else request.prepared_answer
            self.site_headers[key] = [(name.lower().encode("latin-1"), value.encode("latin-1"))
                                      for name, value in response.items() if name.lower() != "content-length"]
        return self.site_headers[key]


class DatabaseThreads:
    """Threads for a fast route's database work. Django's request signals, which would give a request's connection
    back to the pool, do not run here: a thread keeps its connection while more work is waiting, and gives it back
    when none is, so an idle route holds no connection the rest of the site could use."""

    def __init__(self, threads: int, name: str):
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self.waiting = 0
        self.lock = threading.Lock()

    async def run(self, function, *args):
        with self.lock:
            self.waiting += 1
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._run, function, args)

    def _run(self, function, args):
        with self.lock:
            self.waiting -= 1
        try:
            return call_on_database_thread(function, *args)
        finally:
            with self.lock:
                idle = self.waiting == 0
            if idle:
                connection.close()


def call_on_database_thread(function, *args):
    """On a route's database thread, whose connection is kept between calls. A connection that broke (a database
    restart) is closed and the call made once more on a new one; any other error closes it too, so the next call
    starts clean."""
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


def token_key(headers: dict) -> str | None:
    """The token of `Authorization: Bearer <token>` (or `Token <token>`), or None for anything else."""
    parts = headers.get(b"authorization", b"").split()
    if len(parts) != 2 or parts[0].lower() not in KEYWORDS:
        return None
    return parts[1].decode("latin-1")


def sends_cookies(headers: dict) -> bool:
    """Cookies are for Django: a staff session, or a stale one that Django's answer deletes."""
    return b"cookie" in headers


def repeated(scope, names: set[bytes]) -> bool:
    """One of the headers `names` sent twice: Django joins the values, so let it decide."""
    sent = [name for name, _ in scope["headers"] if name in names]
    return len(sent) != len(set(sent))


def drf_view_headers(path: str) -> list[tuple[str, str]]:
    """The headers DRF's view for `path` adds to each of its answers (APIView.finalize_response: Allow, and
    Vary: Accept for a view with several renderers), from the view as the URL configuration builds it."""
    view_function = resolve(path).func
    view = view_function.cls(**view_function.initkwargs)
    view.action_map = dict(view_function.actions)
    if "get" in view.action_map:
        view.action_map.setdefault("head", view.action_map["get"])
    for method, action in view.action_map.items():  # as ViewSetMixin.as_view binds them
        setattr(view, method, getattr(view, action))
    view.headers = view.default_response_headers
    response = view.finalize_response(None, HttpResponse())
    return [(name, value) for name, value in response.items() if name.lower() != "content-type"]


def _middleware_chain(view, header_middleware=HEADER_MIDDLEWARE) -> list:
    """The site's header middlewares (`header_middleware`, in settings.MIDDLEWARE's order) around `view`, outermost
    first: calling the first runs them all, as Django's handler would."""
    chain = []
    for path in reversed([path for path in settings.MIDDLEWARE if path in header_middleware]):
        chain.insert(0, import_string(path)(chain[0] if chain else view))
    return chain


def _answer_prepared(request):
    """The innermost 'view': the answer already made on the event loop. The session is read as Django's stack reads
    it for every request (no cookie: nothing to load; a route that read the session itself, api.map_route, leaves its
    data in `session_read`), so that SessionMiddleware says what it says there."""
    session = getattr(request, "session", None)
    if session is not None:
        if getattr(request, "session_read", None) is not None:
            session._session_cache = request.session_read
        session.get(SESSION_KEY)
    return request.prepared_answer
