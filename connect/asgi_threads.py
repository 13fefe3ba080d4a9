"""Django's sync code under ASGI on threads kept from one request to the next.

Django runs a request's sync middlewares and view in a ThreadSensitiveContext, and asgiref gives each such context a
new single-thread executor: a thread started and joined for every request (9 % of an API request's time,
bench/api_nearby.py), and whatever lives per thread built again each time. asgiref 3.13 lets a ThreadSensitiveContext
take an executor; Django's own context, entered inside this one, then changes nothing (only the outermost one
counts). Each request takes an idle single-thread executor or makes one, and hands it back when it ends: one request's
sync code still runs on one thread, which no other request uses meanwhile, and there is no cap on requests served at
once (a slow upload must not hold others up), only on the idle threads kept.
"""

import inspect
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.http import FileResponse

IDLE_KEPT = 32  # enough for the requests a process serves at once; a burst beyond it gets threads of its own
_TAKES_EXECUTOR = "executor" in inspect.signature(ThreadSensitiveContext).parameters  # asgiref >= 3.13


class ReusedRequestThreads:
    """ASGI middleware for HTTP in front of Django's handler. Used on one event loop (its lists are not locked)."""

    def __init__(self, app, *, idle_kept: int = IDLE_KEPT):
        self.app = app
        self.idle_kept = idle_kept
        self.idle: list[ThreadPoolExecutor] = []
        self.started = 0  # threads made, for tests and benchmarks

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not _TAKES_EXECUTOR:
            return await self.app(scope, receive, send)
        executor = self.idle.pop() if self.idle else self._new_executor()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.app(scope, receive, send)
        except BaseException:
            executor.shutdown(wait=False)  # cancelled or failed: its thread may still be busy, so not reused
            raise
        if len(self.idle) < self.idle_kept:
            self.idle.append(executor)
        else:
            executor.shutdown(wait=False)

    def _new_executor(self) -> ThreadPoolExecutor:
        self.started += 1
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="django-request")


class SyncStackInOneHop:
    """Mixin for Django's ASGIHandler: the middlewares and the view in one call on the request's thread.

    Django's ASGI handler builds its middleware chain for async; with every middleware sync, the chain runs on the
    request's thread, hands back to the event loop for URL resolving, and then back to the thread for the view: two
    more thread switches per request, each waiting for the GIL behind the event loop. Built for sync, as under WSGI,
    the whole chain is one call. Reading the body, sending the answer and the request signals stay as Django has them.
    """

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def run_get_response(self, request):
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # as Django's own: the server chunks file answers
        return response
