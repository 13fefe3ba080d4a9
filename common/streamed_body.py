"""Request bodies a view reads as they arrive, instead of after the server has stored them whole.

A view marked `@streams_body` is handed the body straight from the ASGI server (connect.asgi_body does the
wiring): nothing is read before the view asks, so it can check the sender before it accepts a byte, and it
can write each piece where it belongs as it comes (an upload sealed once, on the fly). Under any other
handler (WSGI, Django's test client) `body_chunks` reads the body Django has already buffered instead.
"""

import asyncio
import io
from collections.abc import AsyncIterator, Callable

from asgiref.sync import sync_to_async
from django.core.exceptions import RequestAborted
from django.http import UnreadablePostError

READ_SIZE = 1024 * 1024


def streams_body(view: Callable) -> Callable:
    """Marks an async view that reads its request body itself, with `body_chunks`."""
    view.streams_body = True  # functools.wraps copies it onto every decorator's wrapper
    return view


class StreamedBody(io.RawIOBase):
    """The body of one request, still in the ASGI server: read once, by its view, with `chunks()`.

    Called as an ASGI `receive`, it is what Django's disconnect listener gets: nothing until the view has read
    the body (or stopped reading it), then what follows the body, the client's disconnect."""

    def __init__(self, receive):
        super().__init__()
        self._receive = receive
        self._released = asyncio.Event()
        self.read_started = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # Django's CSRF check reads a form body's token; it treats this as a broken upload and refuses it.
        raise UnreadablePostError("this request's body is read by its view as it arrives")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's pieces as the server receives them; RequestAborted if the client goes away first."""
        if self.read_started:
            raise RuntimeError("a streamed body can be read only once")
        self.read_started = True
        try:
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    raise RequestAborted()
                if message.get("body"):
                    yield message["body"]
                if not message.get("more_body", False):
                    return
        finally:
            self._released.set()

    async def __call__(self):
        await self._released.wait()
        while True:
            message = await self._receive()
            if message["type"] != "http.request":  # the rest of a body the view stopped reading is dropped
                return message


async def body_chunks(request) -> AsyncIterator[bytes]:
    """The request body in pieces, as it arrives under connect's ASGI handler, else from Django's buffer."""
    body = getattr(request, "streamed_body", None)
    if body is not None:
        async for chunk in body.chunks():
            yield chunk
        return
    read = sync_to_async(request.read, thread_sensitive=False)
    while chunk := await read(READ_SIZE):
        yield chunk

