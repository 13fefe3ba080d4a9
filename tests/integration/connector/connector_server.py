"""A real websockets server on 127.0.0.1 speaking the server side of the connector protocol, driven by each
test step by step, and helpers to run a connector against it."""

import asyncio
import contextlib
import io
import json
import socket

from connect_connector.frames import Limits
from connect_connector.link import Connector
from connect_connector.sources import PatternSource, Source
from PIL import Image
from websockets.asyncio.server import ServerConnection, serve

from tests import own_loop

TOKEN = "tok-7c1e2b9a"
CAMERA = "cam-1"


def run_async(coroutine, timeout: float = 30):
    return own_loop.run_async(coroutine, timeout)


class LocalServer:
    """Accepts connector websockets and hands each to the test through ``next_connection``; a connection
    stays open until the test (or the connector) closes it. ``max_queue`` and ``rcvbuf`` make a server that
    stops reading when the test does not call ``recv``."""

    def __init__(self, *, max_queue: int = 16, rcvbuf: int | None = None, refuse_with: int | None = None):
        self.max_queue = max_queue
        self.rcvbuf = rcvbuf
        self.refuse_with = refuse_with  # an HTTP status answering every handshake instead of a websocket
        self.refused = 0
        self.connections: asyncio.Queue[ServerConnection] = asyncio.Queue()
        self.url = ""

    async def __aenter__(self):
        sock = socket.socket()
        if self.rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)  # accepted sockets inherit it
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server = await serve(self._handler, sock=sock, ping_interval=None, max_queue=self.max_queue,
                                   process_request=self._refuse if self.refuse_with else None)
        return self

    async def __aexit__(self, *exc):
        self._server.close()
        await self._server.wait_closed()

    def _refuse(self, ws: ServerConnection, request):
        self.refused += 1
        return ws.respond(self.refuse_with, "refused\n")

    async def _handler(self, ws: ServerConnection) -> None:
        await self.connections.put(ws)
        await ws.wait_closed()

    async def next_connection(self, timeout: float = 5) -> ServerConnection:
        return await asyncio.wait_for(self.connections.get(), timeout)


async def send(ws: ServerConnection, kind: str, **fields) -> None:
    await ws.send(json.dumps({"type": kind, **fields}))


async def receive_for(ws: ServerConnection, seconds: float) -> tuple[list[bytes], list[dict]]:
    """Every frame and every text message the connector sends within ``seconds``."""
    frames, texts = [], []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            break
        if isinstance(message, bytes):
            frames.append(message)
        else:
            texts.append(json.loads(message))
    return frames, texts


def jpeg_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()  # raises on a truncated or broken picture
    return image.size


def make_connector(server: LocalServer, source: Source | None = None, *, fps: float = 10, width: int = 320,
                   quality: int = 70, **options) -> Connector:
    if source is None:
        source = PatternSource("motion", label=CAMERA)
    source.open()
    return Connector(server=server.url, camera=CAMERA, token=TOKEN, source=source,
                     limits=Limits(fps=fps, width=width, quality=quality), **options)


@contextlib.asynccontextmanager
async def running(connector: Connector):
    stop = asyncio.Event()
    task = asyncio.create_task(connector.run(stop))
    try:
        yield connector
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
