"""The frame relay. Each frame crosses Redis once: the connector's socket PUBLISHes it on the camera's
channel, and every server process with viewers of that camera holds ONE subscription and hands the frame
to its local viewers' inboxes. Channels' group_send would serialise a copy per viewer instead.

Frames cross Redis sealed (integration/live_crypto.py, AES-GCM bound to the camera): the hub seals once per
frame as it publishes and opens once per frame and process as it reads, whatever the number of viewers.

An inbox is a short queue that drops its oldest frame when full, so a slow viewer loses frames of its
own and never slows the others or grows the server's memory.
"""

import asyncio
import logging
from collections import deque

import redis.asyncio as redis
from django.conf import settings

from common.redis_url import async_redis_client
from integration import live_crypto

logger = logging.getLogger(__name__)
CHANNEL_PREFIX = "connect:live:"


class Inbox:
    def __init__(self, size: int):
        self.frames: deque[bytes] = deque(maxlen=size)
        self.dropped = 0
        self._ready = asyncio.Event()

    def put(self, frame: bytes) -> None:
        if len(self.frames) == self.frames.maxlen:
            self.dropped += 1
        self.frames.append(frame)
        self._ready.set()

    async def get(self) -> bytes:
        while not self.frames:
            self._ready.clear()
            await self._ready.wait()
        return self.frames.popleft()


class FrameHub:
    """One per event loop (that is, per server process)."""

    def __init__(self, url: str):
        self._url = url
        self._publisher: redis.Redis | None = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._viewers: dict[str, set[Inbox]] = {}
        self._lock = asyncio.Lock()
        self._unreadable_warned_at = float("-inf")

    def _client(self) -> redis.Redis:
        if self._publisher is None:
            # RESP2: redis-py 8's RESP3 parser logs str(message) at DEBUG level for every pub/sub message, which
            # formats each 60 KB frame even with DEBUG off (a fifth of the server's CPU at 400 frames/s).
            self._publisher = async_redis_client(self._url, socket_connect_timeout=2, socket_timeout=5, protocol=2)
        return self._publisher

    async def publish(self, camera: str, frame: bytes) -> int:
        """Sends one frame, sealed, to every process watching this camera; returns how many processes got it."""
        return await self._client().publish(CHANNEL_PREFIX + camera, live_crypto.frame_seal(frame, camera_code=camera))

    async def join(self, camera: str, inbox: Inbox) -> None:
        async with self._lock:
            viewers = self._viewers.setdefault(camera, set())
            viewers.add(inbox)
            if len(viewers) == 1:
                await self._subscribe([camera])

    async def leave(self, camera: str, inbox: Inbox) -> None:
        async with self._lock:
            viewers = self._viewers.get(camera)
            if viewers is None:
                return
            viewers.discard(inbox)
            if not viewers:
                del self._viewers[camera]
                if self._pubsub is None:
                    return  # Redis is away; the reader's reconnect subscribes only to cameras with viewers
                try:
                    await self._pubsub.unsubscribe(CHANNEL_PREFIX + camera)
                except (redis.ConnectionError, redis.TimeoutError, OSError):
                    pass  # the same: the reconnect will not subscribe to it again

    async def _subscribe(self, cameras: list[str]) -> None:
        if self._pubsub is None:
            self._pubsub = self._client().pubsub()
        try:
            await self._pubsub.subscribe(*(CHANNEL_PREFIX + camera for camera in cameras))
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            logger.warning("live relay: cannot subscribe (%s); retrying in the background", exc)
            self._pubsub = None
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        """Hands each published frame to the local inboxes; survives Redis going away for a while."""
        prefix = len(CHANNEL_PREFIX)
        while True:
            if not self._viewers:
                await asyncio.sleep(0.2)
                continue
            try:
                if self._pubsub is None:
                    await asyncio.sleep(1)
                    async with self._lock:
                        self._pubsub = self._client().pubsub()
                        await self._pubsub.subscribe(*(CHANNEL_PREFIX + camera for camera in self._viewers))
                    logger.info("live relay: subscribed again after a Redis outage")
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                logger.warning("live relay: Redis unreachable (%s)", exc)
                self._pubsub = None
                continue
            if message is None or message.get("type") != "message":
                continue
            camera = message["channel"][prefix:].decode()
            viewers = tuple(self._viewers.get(camera, ()))
            if not viewers:
                continue
            try:
                frame = live_crypto.frame_open(message["data"], camera_code=camera)
            except live_crypto.Unreadable as exc:  # replayed from another camera, forged, or a key not listed here
                self._warn_unreadable(camera, exc)
                continue
            for inbox in viewers:
                inbox.put(frame)

    def _warn_unreadable(self, camera: str, exc: Exception) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._unreadable_warned_at > 10:  # once every ten seconds, not per frame
            self._unreadable_warned_at = now
            logger.warning("live relay: dropped a frame for %s that does not open: %s", camera, exc)


_hubs: dict[asyncio.AbstractEventLoop, FrameHub] = {}


def hub() -> FrameHub:
    """The hub of the running event loop (tests run several loops in one process)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        for stale in [other for other in _hubs if other.is_closed()]:
            del _hubs[stale]
        _hubs[loop] = FrameHub(settings.REDIS_URL)
    return _hubs[loop]
