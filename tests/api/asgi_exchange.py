"""One HTTP request through an ASGI app in-process, as uvicorn would deliver it: for the fast routes' parity tests."""

import asyncio

from tests.own_loop import run_async


class CountingApp:
    """Wraps an app and counts the requests that reach it (did the fast route answer, or pass it on?)."""

    def __init__(self, app):
        self.app, self.calls = app, 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        await self.app(scope, receive, send)


def exchange(app, *, method: str, path: str, query: bytes = b"", headers: list, body: bytes = b""):
    """Returns (status, {header name: value}, body) of one request to `app`."""
    return exchanges(app, [{"method": method, "path": path, "query": query, "headers": headers, "body": body}])[0]


def exchanges(app, requests: list[dict]) -> list:
    """Sends the requests (each exchange()'s keywords) to `app` all at once, on one event loop, as uvicorn would
    deliver concurrent clients' requests; returns each one's (status, {header name: value}, body), in order."""

    async def all_at_once():
        return await asyncio.gather(*(_one_request(app, **request) for request in requests))

    return run_async(all_at_once())


async def _one_request(app, *, method: str, path: str, query: bytes = b"", headers: list, body: bytes = b""):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        if pending:
            return pending.pop(0)
        await asyncio.Future()  # the client stays connected until the answer is sent

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    content = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    names = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], names, content
