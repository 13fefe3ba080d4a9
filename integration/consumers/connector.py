"""ws/connector/<camera>/: a camera connector, authenticated by its token (Authorization: Bearer ...).

It is told to start when someone watches and to stop when nobody does; every frame is checked (a real JPEG
within the size limit), masked, and handed to the relay. A connector that floods is throttled, then cut off.
What it hears and the close codes it acts on are connector/src/connect_connector/link.py's protocol: keep them stable.

Redis going away does not end a connected connector: it is told to stop, its share and token keep being checked
against the database, and once Redis answers it joins its group again and starts if someone watches. A connector
that connects while Redis is away cannot be checked for a twin (the presence key lives in Redis): it is told when
to try again ({"type": "retry", "seconds": N}, a couple of seconds when an analyst waits for its picture) and
closed with Close.UNAVAILABLE.
"""

import asyncio
import contextlib
import logging
import time
from typing import Literal, TypedDict

import redis.asyncio as redis
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from common.channel_layer import REDIS_DOWN
from common.layer_aware import LayerAware
from common.socket_messages import (
    BadMessage,
    BadMessages,
    Close,
    ErrorMessage,
    Refusal,
    message_parse,
    message_send,
)
from integration import broadcast, frames, live_crypto, selectors, services
from integration.models import LiveSession
from integration.relay import hub

logger = logging.getLogger(__name__)

FLOOD_WINDOW_SECONDS = 5
MAX_REJECTED_FRAMES = 50
STILL_SECONDS = 600
# What a connector may send as text (frames are binary): its source's state, for the log.
CONNECTOR_MESSAGES = {"status": {"source": str, "detail": str}}
CONNECTOR_TEXT_MAX_CHARS = 4096
SOURCE_STATES = ("ok", "error")
CONNECTOR_RECHECK_SECONDS = 5
PRESENCE_SECONDS = 3 * CONNECTOR_RECHECK_SECONDS
JPEG_QUALITY = 75
RETRY_SOON_SECONDS = 2  # Redis away and an analyst waiting: try again this soon
RETRY_LATER_SECONDS = 15  # Redis away and nobody waiting


class Hello(TypedDict):
    type: Literal["hello"]
    fps: int
    width: int
    quality: int
    max_bytes: int


class Control(TypedDict):
    type: Literal["start", "stop", "snapshot"]


class Throttle(TypedDict):
    type: Literal["throttle"]
    fps: int


class Retry(TypedDict):
    type: Literal["retry"]
    seconds: int


def presence_key(camera_code) -> str:
    return f"{selectors.CONNECTOR_PRESENCE_PREFIX}{camera_code}"


def _bearer(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


class FrameBudget:
    """A token bucket of `rate` frames a second; remembers when frames were refused."""

    def __init__(self, rate: int):
        self.rate = rate
        self.tokens = float(rate)
        self.stamp = time.monotonic()
        self.refused: list[float] = []

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused = [at for at in self.refused if at > now - FLOOD_WINDOW_SECONDS] + [now]
        return False

    @property
    def flooding(self) -> bool:
        """Sending more than twice the allowed rate for the whole window."""
        return len(self.refused) > self.rate * FLOOD_WINDOW_SECONDS


class ConnectorSocket(LayerAware, AsyncWebsocketConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.camera_code = ""
        self.camera = None  # set once the token is accepted
        self.group: str | None = None  # set once the connector is admitted; until then its frames are ignored
        self.present = False  # holds the camera's one-connector presence key
        self.watcher: asyncio.Task | None = None
        self.budget = FrameBudget(settings.LIVE_MAX_FPS)
        self.max_bytes = settings.LIVE_FRAME_MAX_KB * 1024
        self.started = False  # someone watches: frames go to the relay
        self.snapshot = False  # the next good frame is the owner's still
        self.masks: tuple = ()  # the privacy masks, as frames.masks_apply takes them
        self.rejected = 0
        self.recorded: set[str] = set()  # the kinds of bad frame already in the ledger for this connection
        self.throttle_told = False
        self.redis_warned_at = 0.0
        self.bad_messages = BadMessages()

    async def connect(self):
        self.camera_code = str(self.scope["url_route"]["kwargs"]["camera"])
        self.camera = await database_sync_to_async(services.connector_authenticate)(
            camera_code=self.camera_code, token=_bearer(self.scope))
        await self.accept()  # then close with a code the connector can act on
        if self.camera is None:
            await self._refuse(Refusal(Close.UNAUTHENTICATED, "unknown camera or wrong token"))
            return
        refusal = await database_sync_to_async(self._share_refusal)()
        if refusal:
            await self._refuse(refusal)
            return
        # One connector per camera: a second one (a copied token, a stray process) is refused.
        try:
            alone = await cache.aadd(presence_key(self.camera_code), self.channel_name, PRESENCE_SECONDS)
        except REDIS_DOWN:
            await self._retry_later()
            return
        if not alone:
            await self._refuse(Refusal(Close.DUPLICATE, "another connector is already connected for this camera"))
            return
        self.present = True
        self.group = broadcast.connector_group(self.camera_code)
        joined = await self.layer_join(self.group)
        await self._masks_load()
        await message_send(self, Hello(type="hello", fps=settings.LIVE_MAX_FPS, width=settings.LIVE_WIDTH,
                                       quality=JPEG_QUALITY, max_bytes=self.max_bytes))
        if joined:
            await self._catch_up()
        self.watcher = asyncio.create_task(self._watch())

    async def _catch_up(self) -> None:
        """Starts if someone watches, takes the owner's still if one is wanted."""
        await self.connector_demand({})
        try:
            wanted = await cache.aget(services.still_wanted_key(self.camera_code))
        except REDIS_DOWN:
            await self.layer_lost({})
            return
        if wanted:
            await self.connector_snapshot({})

    async def _retry_later(self) -> None:
        """Redis is away as the connector connects: when to try again, sooner when an analyst waits."""
        waiting = await database_sync_to_async(
            LiveSession.objects.filter(camera_id=self.camera.pk, ended_at__isnull=True).exists)()
        seconds = RETRY_SOON_SECONDS if waiting else RETRY_LATER_SECONDS
        logger.warning("live: connector of %s told to retry in %d s: Redis unreachable", self.camera_code, seconds)
        await message_send(self, Retry(type="retry", seconds=seconds))
        await self.close(code=Close.UNAVAILABLE)

    async def on_layer_lost(self) -> None:
        """Frames cannot cross Redis now: the connector stops sending until it is back."""
        self.snapshot = False
        if self.started:
            self.started = False
            await message_send(self, Control(type="stop"))

    async def on_layer_back(self) -> None:
        # A restarted Redis forgot the presence key: this connector takes it again.
        if await self.layer_call(cache.aset(presence_key(self.camera_code), self.channel_name, PRESENCE_SECONDS)):
            await self._catch_up()

    async def _watch(self) -> None:
        """Every few seconds: the share, the token and the masks as they are in the database now, and the group
        membership renewed. Control messages are fast; this is the guarantee when one is lost (or the layer
        expired the membership), so a new mask or a stop never waits longer than this."""
        while True:
            await asyncio.sleep(CONNECTOR_RECHECK_SECONDS)
            refusal = await database_sync_to_async(self._current_refusal)()
            if refusal:
                self.started = False
                await message_send(self, Control(type="stop"))
                await self._refuse(refusal)
                return
            await self._masks_load()
            if not self.layer_down and await self.layer_call(
                    cache.aset(presence_key(self.camera_code), self.channel_name, PRESENCE_SECONDS)):
                await self.layer_call(self.channel_layer.group_add(self.group, self.channel_name))
            await self.connector_demand({})

    def _current_refusal(self) -> Refusal | None:
        if not services.connector_token_valid(camera_id=self.camera.pk, token=_bearer(self.scope)):
            return Refusal(Close.UNAUTHENTICATED, "the connector token was revoked or replaced")
        self.camera.refresh_from_db()
        self.camera.owner.refresh_from_db()
        return self._share_refusal()

    def _share_refusal(self) -> Refusal | None:
        share = selectors.live_share_current(self.camera)
        if share is None:
            return Refusal(Close.FORBIDDEN, "the owner does not share this camera live")
        if share.paused_until and share.paused_until > timezone.now():
            return Refusal(Close.FORBIDDEN, "the owner paused live sharing")
        problem = selectors.live_share_ineligible(self.camera, for_viewing=True)
        return Refusal(Close.FORBIDDEN, problem) if problem else None

    async def dispatch(self, message):
        """Frames skip Channels' close_old_connections(), a thread-pool round trip per frame: receive() touches
        the database only through database_sync_to_async, which closes old connections itself."""
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def _refuse(self, refusal: Refusal) -> None:
        recorded = await database_sync_to_async(services.connector_refused)(camera_code=self.camera_code,
                                                                             reason=refusal.reason)
        if not recorded:
            logger.info("live: connector refused for %s: %s", self.camera_code, refusal.reason)
        await message_send(self, ErrorMessage(type="error", reason=refusal.reason))
        await self.close(code=refusal.code)

    async def disconnect(self, code):
        if self.watcher:
            self.watcher.cancel()
        if self.present:
            with contextlib.suppress(*REDIS_DOWN):  # Redis away: the key expires by itself
                await cache.adelete(presence_key(self.camera_code))
        await self.layer_leave()

    async def receive(self, text_data=None, bytes_data=None):
        if self.group is None:
            return  # anything from a connector being refused
        if bytes_data is None:
            await self._status(text_data)
            return
        if not self.budget.take():  # before anything else: a flood costs nothing but this check
            await self._over_budget()
            return
        if not (self.started or self.snapshot):
            return  # frames in flight after a stop are dropped
        try:
            frames.frame_check(bytes_data, max_bytes=self.max_bytes)
        except frames.FrameRejected as exc:
            await self._frame_rejected(exc)
            return
        if self.snapshot:  # for the owner's mask editor: the owner's own picture, kept ten minutes
            self.snapshot = False
            # Sealed like relayed frames: the owner's unmasked picture never sits in Redis in plaintext.
            sealed = live_crypto.still_seal(bytes_data, camera_code=self.camera_code)
            if await self.layer_call(cache.aset(selectors.still_cache_key(self.camera_code), sealed, STILL_SECONDS)):
                await self.layer_call(cache.adelete(services.still_wanted_key(self.camera_code)))
        if self.started:
            await self._relay(bytes_data)

    async def _status(self, text_data: str) -> None:
        try:
            message = message_parse(text_data, schema=CONNECTOR_MESSAGES, max_chars=CONNECTOR_TEXT_MAX_CHARS)
            if message["source"] not in SOURCE_STATES:
                raise BadMessage(f"'status' needs 'source' of {' or '.join(SOURCE_STATES)}")
        except BadMessage as bad:
            await self.bad_messages.refuse(self, bad, close=self._refuse)
            return
        if message["source"] == "error":
            logger.info("live: connector of %s reports its source failing: %r", self.camera_code,
                        message["detail"][:200])

    async def _relay(self, frame: bytes) -> None:
        if self.masks:
            try:
                frame = await asyncio.to_thread(frames.masks_apply, frame, self.masks)
            except (OSError, ValueError, SyntaxError):  # fail closed: a frame that cannot be masked is not sent
                await self._frame_rejected(frames.FrameRejected("frame is not a decodable JPEG image", "undecodable"))
                return
        try:
            await hub().publish(self.camera_code, frame)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            if time.monotonic() - self.redis_warned_at > 10:  # once every ten seconds, not per frame
                self.redis_warned_at = time.monotonic()
                logger.warning("live: frames of %s dropped, Redis unreachable: %s", self.camera_code, exc)

    async def _over_budget(self) -> None:
        if self.budget.flooding:
            await self._refuse(Refusal(Close.FLOODING, f"flooding: more than {settings.LIVE_MAX_FPS} frames a second"))
            return
        if not self.throttle_told:
            self.throttle_told = True
            await message_send(self, Throttle(type="throttle", fps=settings.LIVE_MAX_FPS))

    async def _frame_rejected(self, rejected: frames.FrameRejected) -> None:
        self.rejected += 1
        if rejected.kind not in self.recorded:  # each kind of bad frame is recorded once per connection
            self.recorded.add(rejected.kind)
            await database_sync_to_async(services.connector_refused)(
                camera_code=self.camera_code, reason="bad frame", detail=str(rejected), kind=rejected.kind)
            await message_send(self, ErrorMessage(type="error", reason=str(rejected)))
        if self.rejected >= MAX_REJECTED_FRAMES:
            await self._refuse(Refusal(Close.BAD_MESSAGES, f"{self.rejected} bad frames"))

    async def _masks_load(self) -> None:
        masks = await database_sync_to_async(selectors.masks_of)(self.camera.pk)
        self.masks = frames.polygons_key(masks)

    # Channel-layer events ---------------------------------------------------------------------------------

    async def connector_demand(self, event):
        try:
            watching = await database_sync_to_async(selectors.camera_watched)(self.camera.pk)
        except REDIS_DOWN:
            watching = False
        watching = watching and not self.layer_down  # frames cannot reach anyone without Redis
        if watching != self.started:
            self.started = watching
            await message_send(self, Control(type="start" if watching else "stop"))

    async def connector_masks(self, event):
        await self._masks_load()

    async def connector_snapshot(self, event):
        self.snapshot = True
        await message_send(self, Control(type="snapshot"))

    async def connector_closed(self, event):
        self.started = False
        await message_send(self, Control(type="stop"))
        await self._refuse(Refusal(Close.FORBIDDEN, event["reason"]))

    async def connector_kick(self, event):
        await message_send(self, ErrorMessage(type="error", reason=event["reason"]))
        await self.close(code=Close.UNAUTHENTICATED)
