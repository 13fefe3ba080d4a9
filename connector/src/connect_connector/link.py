"""The connection to the connect server: one websocket, kept up with backoff, speaking the connector protocol.

Server to connector, JSON text messages:
    {"type": "hello", "fps": F, "width": W, "quality": Q, "max_bytes": N}   the server's limits (each optional)
    {"type": "start"}      someone watches: send frames
    {"type": "stop"}       nobody watches: send nothing
    {"type": "snapshot"}   send one frame now, even when stopped
    {"type": "throttle", "fps": F}   at most F frames a second from now on
    {"type": "retry", "seconds": S}  before a 4503 close: try again after at most S seconds (the server lost its
                                     Redis; S is a couple of seconds when an analyst waits for this camera)

Handshake: GET {server}/ws/connector/{code}/ with ``Authorization: Bearer {token}`` and ``Origin: {server's
origin}``; the token is never in the URL or the log.

Connector to server: each binary message is one JPEG frame of at most max_bytes; text messages
    {"type": "status", "source": "ok" | "error", "detail": "..."}   when the source fails or recovers.

Server to connector also: {"type": "error", "reason": "..."} when it refused a frame or message (logged).

Close codes from the server: 4401 the token was refused, 4403 the camera is not shared live now, 4409 another
connector is connected for the camera, 4429 too many frames, 4400 too many bad frames or messages, 1009 a message
too big, 4503 the server cannot reach its Redis now. Every close or
network error is followed by a reconnection after ``backoff_delay``; a refused token waits the longest delay; a
"retry" message caps the next delay (so a connector is back within seconds of Redis when someone is watching).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import random
import time
import urllib.parse

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Origin

from . import __version__
from .capture import Capture, Control
from .frames import FrameQueue, Limits
from .sources import Source, SourceError

log = logging.getLogger(__name__)

BASE_DELAY_S = 1.0
MAX_DELAY_S = 60.0
STABLE_AFTER_S = 30.0  # a connection that lasted this long resets the backoff
USER_AGENT = f"connect-connector/{__version__}"
# The server's close codes this program acts on (common/socket_messages.py Close; a test keeps them in step).
REFUSED = 4401
NOT_SHARED = 4403
DUPLICATE = 4409
THROTTLED = 4429
UNAVAILABLE = 4503
STATUS_DETAIL_MAX = 1000
CLOSE_MEANINGS = {
    REFUSED: "the server refused the token (unknown camera, wrong or revoked token): check --camera and --token",
    NOT_SHARED: "the camera is not shared live right now (paused or switched off by its owner)",
    DUPLICATE: "another connector is already connected for this camera (a second copy of this program?)",
    THROTTLED: "the server throttled this connector for sending too much",
    UNAVAILABLE: "the server cannot reach its live service (Redis) right now",
}
RETRY_MIN_S = 0.5  # the least delay a "retry" message can ask for


def websocket_url(server: str, camera: str) -> str:
    """``{server}/ws/connector/{camera}/`` with http turned into ws and https into wss."""
    parts = urllib.parse.urlsplit(server.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise ValueError(f"{server!r} is not an http:// or https:// address")
    if parts.username or parts.password:
        raise ValueError("the server address must not contain a user name or password")
    path = parts.path.rstrip("/") + f"/ws/connector/{urllib.parse.quote(camera, safe='')}/"
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, "", ""))


def server_origin(server: str) -> str:
    """The server's own origin (``https://host[:port]``), sent as the handshake's Origin header: the connector
    is no browser, and its own path (/ws/connector/) checks none, but a proxy in front may refuse a handshake
    without one."""
    parts = urllib.parse.urlsplit(server.strip())
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower(), parts.scheme.lower())
    return urllib.parse.urlunsplit((scheme, parts.netloc, "", "", ""))


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def backoff_delay(attempt: int, *, base: float = BASE_DELAY_S, cap: float = MAX_DELAY_S, jitter: float = 0.25,
                  rng=random.random) -> float:
    """Seconds to wait before reconnection number ``attempt`` (0 for the first): ``base`` doubling up to
    ``cap``, each less a random part of up to ``jitter`` so that many connectors do not return at once."""
    nominal = min(cap, base * 2 ** min(attempt, 32))
    return nominal * (1 - jitter * rng())


def _number(value, kind=float):
    """A positive number from a server message, or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return kind(value)


class Connector:
    def __init__(self, *, server: str, camera: str, token: str, source: Source, limits: Limits,
                 base_delay: float = BASE_DELAY_S, max_delay: float = MAX_DELAY_S,
                 stable_after: float = STABLE_AFTER_S, source_opened: bool = True,
                 source_error: SourceError | None = None):
        self.url = websocket_url(server, camera)
        self.origin = server_origin(server)
        self.camera = camera
        self._token = token
        self.source = source
        self.control = Control(limits)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self._source_opened = source_opened
        self._source_error = source_error  # why the source did not open at start-up: the capture thread retries
        self.queue: FrameQueue | None = None
        self.capture: Capture | None = None
        self.sent = 0
        self.connections = 0
        self.delays: list[float] = []  # every backoff delay used, for the curious and for tests
        self._status = ("ok", "")
        self._status_changed: asyncio.Event | None = None
        self._retry_within: float | None = None  # the server's "retry" of the last connection, in seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Connects, serves the server's requests, reconnects; returns once ``stop`` is set."""
        loop = asyncio.get_running_loop()
        self.queue = FrameQueue(loop)
        self._status_changed = asyncio.Event()

        def on_status(state: str, detail: str) -> None:  # called from the capture thread
            def update():
                self._status = (state, detail)
                self._status_changed.set()

            with contextlib.suppress(RuntimeError):  # the loop closed while shutting down
                loop.call_soon_threadsafe(update)

        self.capture = Capture(self.source, self.control, self.queue, on_status, opened=self._source_opened,
                               first_error=self._source_error)
        self.capture.start()
        if not self.url.startswith("wss:") and not is_loopback(self.url):
            log.warning("the server address is plain http: the token and the video travel unencrypted; "
                        "use https:// unless this is a test")
        attempt = 0
        try:
            while not stop.is_set():
                began = time.monotonic()
                self._retry_within = None
                code, why = await self._connect_once(stop)
                self.control.reset()
                if stop.is_set():
                    break
                if time.monotonic() - began >= self.stable_after:
                    attempt = 0
                if code == REFUSED:
                    delay = backoff_delay(64, base=self.base_delay, cap=self.max_delay)
                else:
                    delay = backoff_delay(attempt, base=self.base_delay, cap=self.max_delay)
                if self._retry_within is not None and code != REFUSED:
                    delay = min(delay, self._retry_within)
                attempt += 1
                self.delays.append(delay)
                log_level = logging.ERROR if code == REFUSED else logging.WARNING
                log.log(log_level, "%s; connecting again in %.1f s", why, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        finally:
            self.control.close()
            await asyncio.to_thread(self.capture.join, 5.0)
            if self.capture.is_alive():
                log.warning("the source did not let go within 5 s; exiting anyway")
            log.info("stopped; %d frames sent in all", self.sent)

    async def _connect_once(self, stop: asyncio.Event) -> tuple[int | None, str]:
        """One connection, from opening to closing. Returns the close code (None when there was none) and
        what happened, in words."""
        try:
            async with connect(
                self.url,
                origin=Origin(self.origin),
                additional_headers={"Authorization": f"Bearer {self._token}"},
                user_agent_header=USER_AGENT,
                compression=None,  # JPEG does not compress
                open_timeout=10,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=3,
                max_size=64 * 1024,  # the server sends only small control messages
            ) as ws:
                self.connections += 1
                log.info("connected to %s", self.url)
                await self._session(ws, stop)
        except InvalidStatus as exc:
            status = exc.response.status_code
            code = REFUSED if status == 401 else None
            return code, f"the server answered HTTP {status} instead of opening the websocket" + (
                f": {CLOSE_MEANINGS[REFUSED]}" if code else "")
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            return None, f"cannot connect to {self.url}: {getattr(exc, 'strerror', None) or exc}"
        except ConnectionClosed as exc:
            return self._closed(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "")
        if stop.is_set():
            return 1000, "stopped"
        return self._closed(ws.close_code, ws.close_reason or "")

    def _closed(self, code: int | None, reason: str) -> tuple[int | None, str]:
        meaning = CLOSE_MEANINGS.get(code, "the connection closed")
        extra = f": {reason}" if reason else ""
        return code, f"{meaning} (close code {code if code is not None else 'none'}{extra})"

    async def _session(self, ws: ClientConnection, stop: asyncio.Event) -> None:
        if self._status[0] != "ok":
            self._status_changed.set()  # tell the new connection the source is down
        tasks = [asyncio.create_task(coro) for coro in
                 (self._receive(ws), self._send_frames(ws), self._send_status(ws), stop.wait())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if stop.is_set():
            await ws.close(1000, "connector stopping")

    async def _receive(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                if isinstance(message, bytes):
                    log.debug("ignored a binary message from the server")
                    continue
                self.handle(message)

    def handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            log.warning("ignored a message from the server that is not JSON")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "hello":
            limits = {"fps": _number(message.get("fps")), "width": _number(message.get("width"), int),
                      "quality": _number(message.get("quality"), int),
                      "max_bytes": _number(message.get("max_bytes"), int)}
            self.control.hello(**limits)
            applied = self.control.state().limits
            log.info("server limits %s; sending at most %g fps, %d px wide, quality %d, %d bytes a frame",
                     {k: v for k, v in limits.items() if v is not None}, applied.fps, applied.width,
                     applied.quality, applied.max_bytes)
        elif kind == "start":
            log.info("someone is watching: sending frames")
            self.control.start()
        elif kind == "stop":
            log.info("nobody is watching: not sending (%d frames sent so far, %d dropped on a slow network)",
                     self.sent, self.queue.dropped if self.queue else 0)
            self.control.stop()  # frames still queued are dropped by _send_frames
        elif kind == "snapshot":
            log.info("the server asked for one picture")
            self.control.snapshot()
        elif kind == "throttle":
            fps = _number(message.get("fps"))
            if fps is None:
                log.warning("ignored a throttle message without a valid fps")
                return
            self.control.throttle(fps)
            log.info("the server asked for at most %g fps", fps)
        elif kind == "retry":
            seconds = _number(message.get("seconds"))
            if seconds is None:
                log.warning("ignored a retry message without a valid number of seconds")
                return
            self._retry_within = min(max(seconds, RETRY_MIN_S), self.max_delay)
            log.info("the server asks to connect again within %g s", self._retry_within)
        elif kind == "error":
            log.warning("the server says: %s", str(message.get("reason", ""))[:500])
        else:
            log.debug("ignored a message of type %r", kind)

    async def _send_frames(self, ws: ClientConnection) -> None:
        while True:
            frame = await self.queue.get()
            if frame.snapshot or self.control.streaming:
                await ws.send(frame.jpeg)
                self.sent += 1

    async def _send_status(self, ws: ClientConnection) -> None:
        while True:
            await self._status_changed.wait()
            self._status_changed.clear()
            state, detail = self._status
            # Bounded: the server closes the socket on a status message over 4096 characters.
            await ws.send(json.dumps({"type": "status", "source": state, "detail": detail[:STATUS_DETAIL_MAX]}))
