"""ASGI middleware in front of everything: a request id for each request and websocket, and its latency metric.

The id is the trusted proxy's X-Request-ID or a new one (common.request_context); it is in every log line of the
request (the context variable reaches Django's thread and uvicorn's access line) and in the response's
X-Request-ID header. The latency is observed when the response's headers go out, labelled with the route's name
that RequestUserMiddleware found (a route Django never resolved, such as a 404, is "unmatched").
"""

import time

from django.conf import settings

from common import metrics, request_context

_HEADER = settings.REQUEST_ID_HEADER.lower().encode()


class RequestObservation:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        offered = next((value for name, value in scope.get("headers", ()) if name == _HEADER), b"")
        context = request_context.WorkContext(request_id=request_context.request_id_choose(
            offered.decode("latin-1")))
        token = request_context.begin(context)
        try:
            if scope["type"] == "websocket":
                return await self.app(scope, receive, send)
            await self._http(scope, receive, send, context)
        finally:
            request_context.end(token)

    async def _http(self, scope, receive, send, context) -> None:
        started = time.perf_counter()
        request_id = context.request_id.encode()

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", ()) if name.lower() != _HEADER]
                message = {**message, "headers": [*headers, (_HEADER, request_id)]}
                metrics.request_observe(route=context.route, method=scope["method"],
                                        status=message["status"], seconds=time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, send_with_id)

