"""Frames on their way out: the limits they must respect, JPEG encoding within a byte budget, and the small
queue between the capture thread and the websocket."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import io
import logging
import threading

from PIL import Image

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1024 * 1024  # until the server's hello says otherwise (websockets' default message limit)
QUEUE_SIZE = 2


@dataclasses.dataclass(frozen=True)
class Limits:
    fps: float
    width: int
    quality: int
    max_bytes: int = DEFAULT_MAX_BYTES

    def lower(self, other: Limits) -> Limits:
        return Limits(fps=min(self.fps, other.fps), width=min(self.width, other.width),
                      quality=min(self.quality, other.quality), max_bytes=min(self.max_bytes, other.max_bytes))


@dataclasses.dataclass(frozen=True)
class Frame:
    jpeg: bytes
    snapshot: bool = False  # answers a snapshot request: sent even while stopped


def qualities(quality: int) -> list[int]:
    """The JPEG qualities to try, best first, until a picture fits its byte budget."""
    steps = list(range(quality, 10, -20)) + [10]
    return sorted(set(steps), reverse=True)


def encode_jpeg(image: Image.Image, *, quality: int, max_bytes: int) -> bytes | None:
    """The picture as a JPEG of at most ``max_bytes``, at the best quality from ``qualities`` that fits; None
    when even the lowest does not. Carries no metadata from the source."""
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    for q in qualities(quality):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=q)
        if buffer.tell() <= max_bytes:
            if q != quality:
                _once("lowered", logging.WARNING, "frames over the server's limit of %d bytes at quality %d are "
                      "re-encoded at a lower quality (this one: %d)", max_bytes, quality, q)
            return buffer.getvalue()
    _once("skipped", logging.WARNING, "a %dx%d frame does not fit in %d bytes even at quality %d: skipped "
          "(lower --width)", *image.size, max_bytes, q)
    return None


_logged: set[str] = set()


def _once(key: str, level: int, message: str, *args) -> None:
    if key not in _logged:
        _logged.add(key)
        log.log(level, message + " (said once)", *args)


class FrameQueue:
    """At most ``QUEUE_SIZE`` frames between the capture thread and the websocket. ``put`` (any thread) never
    blocks: when full, the oldest frame is dropped, so a slow network costs frames, never memory."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int = QUEUE_SIZE):
        self._loop = loop
        self._items: collections.deque[Frame] = collections.deque(maxlen=size)
        self._lock = threading.Lock()
        self._ready = asyncio.Event()
        self.put_count = 0
        self.dropped = 0
        self.most = 0  # the most frames ever waiting at once

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def put(self, frame: Frame) -> None:
        with self._lock:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(frame)
            self.put_count += 1
            self.most = max(self.most, len(self._items))
        try:
            self._loop.call_soon_threadsafe(self._ready.set)
        except RuntimeError:  # the event loop has closed: the connector is shutting down
            pass

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    async def get(self) -> Frame:
        while True:
            with self._lock:
                if self._items:
                    return self._items.popleft()
                self._ready.clear()
            await self._ready.wait()
