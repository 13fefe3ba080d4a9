"""What the logs and metrics know about the work in progress: a request's id, route and staff user, or a task's.

One mutable holder per request (or task) in a context variable. The ASGI layer (connect/observability.py) sets it
before anything else runs; Django's thread and uvicorn's access log line see the same holder, so the user id a
middleware finds on the request thread is in the access line written on the event loop afterwards.
"""

import contextvars
import re
import uuid
from dataclasses import dataclass

from django.conf import settings


@dataclass
class WorkContext:
    request_id: str = ""
    route: str = ""  # the URL pattern's name ("requests_app:clip_download"), never the raw path
    user_id: int | None = None  # staff only; owners and the public are not users
    task: str = ""
    task_id: str = ""


_current: contextvars.ContextVar[WorkContext | None] = contextvars.ContextVar("connect_work", default=None)
# A plain token: letters, digits and - _ . : (what proxies and load balancers make), so a client cannot put a line
# break, a quote or a megabyte into every log line of its request.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def current() -> WorkContext | None:
    return _current.get()


def begin(context: WorkContext) -> contextvars.Token:
    return _current.set(context)


def end(token: contextvars.Token) -> None:
    _current.reset(token)


def request_id_choose(offered: str | None) -> str:
    """The proxy's X-Request-ID when connect trusts a proxy and the value is a plain token; else a new one."""
    if offered and settings.TRUSTED_PROXIES > 0 and _REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class RequestUserMiddleware:
    """Puts the signed-in staff member's id and the resolved route's name into the request's context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        context = _current.get()
        if context is None:
            return None
        match = request.resolver_match
        context.route = (match.view_name or match.route) if match else ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            context.user_id = user.pk
        return None
