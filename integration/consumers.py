"""The live sockets: camera connectors push frames in, analysts' live views get them out.

ws/connector/<camera>/ is a camera connector, authenticated by its token (Authorization: Bearer ...).
It is told to start when someone watches and to stop when nobody does; every frame is checked (a real
JPEG within the size limit), masked, and handed to the relay. A connector that floods is throttled, then
cut off.

ws/live/<session>/ is one analyst's view of one live session they opened on the map. It re-checks the
rules when it opens and every half minute, ends at the session's limit, and closes at once when the
owner stops or pauses sharing or the analyst loses access.
"""

import asyncio
import json
import logging
import random
import time

import redis.asyncio as redis
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.consumers import revoke_concerns, staff_scope_allowed
from accounts.services import user_group
from common.socket_messages import BadMessage, message_parse, message_refused
from integration import broadcast, frames, live_crypto, selectors, services
from integration.gating import LiveRefused, live_view_check
from integration.models import LiveSession
from integration.relay import Inbox, hub

logger = logging.getLogger(__name__)

CLOSE_BAD_FRAMES = 4400
CLOSE_UNAUTHORISED = 4401
CLOSE_NOT_SHARED = 4403
CLOSE_ENDED = 4404
CLOSE_DUPLICATE = 4409
CLOSE_FLOODING = 4429
RECHECK_SECONDS = 30
FLOOD_WINDOW_SECONDS = 5
MAX_REJECTED_FRAMES = 50
STILL_SECONDS = 600


# What a connector may send as text (frames are binary): its source's state, for the log.
CONNECTOR_MESSAGES = {"status": {"source": str, "detail": str}}
CONNECTOR_TEXT_MAX_CHARS = 4096
SOURCE_STATES = ("ok", "error")
CONNECTOR_RECHECK_SECONDS = 5
PRESENCE_SECONDS = 3 * CONNECTOR_RECHECK_SECONDS
STILLS_EVERY_SECONDS = 3


def presence_key(camera_code) -> str:
    return f"live-connector:{camera_code}"


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


class ConnectorSocket(AsyncWebsocketConsumer):
    camera = None
    redis_warned_at = 0.0

    async def connect(self):
        self.camera_code = str(self.scope["url_route"]["kwargs"]["camera"])
        self.camera = await database_sync_to_async(services.connector_authenticate)(
            camera_code=self.camera_code, token=_bearer(self.scope))
        await self.accept()  # then close with a code the connector can act on
        if self.camera is None:
            await self._refuse(CLOSE_UNAUTHORISED, "unknown camera or wrong token")
            return
        problem = await database_sync_to_async(self._share_problem)()
        if problem:
            await self._refuse(CLOSE_NOT_SHARED, problem)
            return
        # One connector per camera: a second one (a copied token, a stray process) is refused.
        if not await cache.aadd(presence_key(self.camera_code), self.channel_name, PRESENCE_SECONDS):
            await self._refuse(CLOSE_DUPLICATE, "another connector is already connected for this camera")
            return
        self.present = True
        self.group = broadcast.connector_group(self.camera_code)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.budget = FrameBudget(settings.LIVE_MAX_FPS)
        self.max_bytes = settings.LIVE_FRAME_MAX_KB * 1024
        self.started = self.snapshot = False
        self.rejected = 0
        self.recorded: set[str] = set()
        self.throttle_told = False
        await self._masks_load()
        await self._send_json({"type": "hello", "fps": settings.LIVE_MAX_FPS, "width": settings.LIVE_WIDTH,
                               "quality": 75, "max_bytes": self.max_bytes})
        await self.connector_demand({})
        if await cache.aget(services.still_wanted_key(self.camera_code)):
            await self.connector_snapshot({})
        self.watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        """Every few seconds: the share, the token and the masks as they are in the database now, and the group
        membership renewed. Control messages are fast; this is the guarantee when one is lost (or the layer
        expired the membership), so a new mask or a stop never waits longer than this."""
        while True:
            await asyncio.sleep(CONNECTOR_RECHECK_SECONDS)
            problem = await database_sync_to_async(self._current_problem)()
            if problem:
                code = CLOSE_UNAUTHORISED if "token" in problem else CLOSE_NOT_SHARED
                self.started = False
                await self._send_json({"type": "stop"})
                await self._refuse(code, problem)
                return
            await self._masks_load()
            await cache.aset(presence_key(self.camera_code), self.channel_name, PRESENCE_SECONDS)
            await self.channel_layer.group_add(self.group, self.channel_name)
            await self.connector_demand({})

    def _current_problem(self) -> str:
        if not services.connector_token_valid(camera_id=self.camera.pk, token=_bearer(self.scope)):
            return "the connector token was revoked or replaced"
        self.camera.refresh_from_db()
        self.camera.owner.refresh_from_db()
        return self._share_problem()

    def _share_problem(self) -> str:
        share = selectors.live_share_current(self.camera)
        if share is None:
            return "the owner does not share this camera live"
        if share.paused_until and share.paused_until > timezone.now():
            return "the owner paused live sharing"
        return selectors.live_share_ineligible(self.camera, for_viewing=True)

    async def dispatch(self, message):
        """Frames skip Channels' close_old_connections(), a thread-pool round trip per frame: receive() touches
        the database only through database_sync_to_async, which closes old connections itself."""
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def _refuse(self, code: int, reason: str) -> None:
        recorded = await database_sync_to_async(services.connector_refused)(camera_code=self.camera_code,
                                                                             reason=reason)
        if not recorded:
            logger.info("live: connector refused for %s: %s", self.camera_code, reason)
        await self._send_json({"type": "error", "reason": reason})
        await self.close(code=code)

    async def _send_json(self, message: dict) -> None:
        await self.send(text_data=json.dumps(message))

    async def disconnect(self, code):
        if getattr(self, "watcher", None):
            self.watcher.cancel()
        if getattr(self, "present", False):
            await cache.adelete(presence_key(self.camera_code))
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if getattr(self, "group", None) is None:
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
            await cache.aset(selectors.still_cache_key(self.camera_code), sealed, STILL_SECONDS)
            await cache.adelete(services.still_wanted_key(self.camera_code))
        if self.started:
            await self._relay(bytes_data)

    async def _status(self, text_data: str) -> None:
        try:
            message = message_parse(text_data, schema=CONNECTOR_MESSAGES, max_chars=CONNECTOR_TEXT_MAX_CHARS)
            if message["source"] not in SOURCE_STATES:
                raise BadMessage(f"'status' needs 'source' of {' or '.join(SOURCE_STATES)}")
        except BadMessage as bad:
            await message_refused(self, bad, close=self._refuse)
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
            await self._refuse(CLOSE_FLOODING, f"flooding: more than {settings.LIVE_MAX_FPS} frames a second")
            return
        if not self.throttle_told:
            self.throttle_told = True
            await self._send_json({"type": "throttle", "fps": settings.LIVE_MAX_FPS})

    async def _frame_rejected(self, rejected: frames.FrameRejected) -> None:
        self.rejected += 1
        if rejected.kind not in self.recorded:  # each kind of bad frame is recorded once per connection
            self.recorded.add(rejected.kind)
            await database_sync_to_async(services.connector_refused)(
                camera_code=self.camera_code, reason="bad frame", detail=str(rejected), kind=rejected.kind)
            await self._send_json({"type": "error", "reason": str(rejected)})
        if self.rejected >= MAX_REJECTED_FRAMES:
            await self._refuse(CLOSE_BAD_FRAMES, f"{self.rejected} bad frames")

    async def _masks_load(self) -> None:
        masks = await database_sync_to_async(selectors.masks_of)(self.camera.pk)
        self.masks = frames.polygons_key(masks)

    # Channel-layer events ---------------------------------------------------------------------------------

    async def connector_demand(self, event):
        watching = await database_sync_to_async(
            LiveSession.objects.filter(camera_id=self.camera.pk, ended_at__isnull=True).exists)()
        if watching != self.started:
            self.started = watching
            await self._send_json({"type": "start" if watching else "stop"})

    async def connector_masks(self, event):
        await self._masks_load()

    async def connector_snapshot(self, event):
        self.snapshot = True
        await self._send_json({"type": "snapshot"})

    async def connector_closed(self, event):
        self.started = False
        await self._send_json({"type": "stop"})
        await self._refuse(CLOSE_NOT_SHARED, event["reason"])

    async def connector_kick(self, event):
        await self._send_json({"type": "error", "reason": event["reason"]})
        await self.close(code=CLOSE_UNAUTHORISED)


VIEWER_MESSAGES = {"still": {}, "ping": {}}  # what a live view may send


class LiveViewSocket(AsyncWebsocketConsumer):
    session: LiveSession | None = None
    closing = False

    async def connect(self):
        self.tasks: list[asyncio.Task] = []
        await self.accept()
        user = self.scope.get("user")
        if not await database_sync_to_async(staff_scope_allowed)(self.scope):
            await self._end_view(CLOSE_UNAUTHORISED, "Sign in as staff first.")
            return
        session = await database_sync_to_async(selectors.session_for_viewer)(
            code=self.scope["url_route"]["kwargs"]["session"], user_id=user.pk)
        if session is None or session.ended_at is not None:
            await self._end_view(CLOSE_ENDED, "This live view has ended. Open it again from the map.")
            return
        # Listen first, then check: a stop that commits in between is either seen by the check or heard.
        self.camera_code = str(session.camera.code)
        self.groups_joined = (broadcast.viewers_group(self.camera_code), user_group(user.pk))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        problem, first = await database_sync_to_async(self._open)(session)
        if problem:
            await self._end_view(CLOSE_NOT_SHARED, problem)
            return
        if not first:
            await self._end_view(CLOSE_DUPLICATE, "This live view is already open in another window.")
            return
        self.session = session
        self.inbox = Inbox(settings.LIVE_VIEWER_QUEUE)
        self.last_frame: bytes | None = None
        await hub().join(self.camera_code, self.inbox)
        self.tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._watch())]
        await self._send_json({"type": "session", "session": str(session.code), "camera": session.camera.label,
                               "ends_by": session.ends_by.isoformat(),
                               "case": session.incident.case_number if session.incident else None})
        await self.channel_layer.group_send(broadcast.connector_group(self.camera_code), {"type": "connector.demand"})

    def _open(self, session: LiveSession) -> tuple[str, bool]:
        """Re-checks the rules as the view opens; marks it watched once (a second window is refused)."""
        try:
            live_view_check(session.analyst, session.camera, session.incident, session.reason,
                            session.override_reason, opening=False)
        except LiveRefused as refused:
            services.live_session_end(session=session, reason=refused.end_reason, note=refused.message)
            return refused.message, False
        first = LiveSession.objects.filter(pk=session.pk, watched_at__isnull=True).update(watched_at=timezone.now())
        return "", bool(first)

    async def _send_json(self, message: dict) -> None:
        await self.send(text_data=json.dumps(message))

    async def _end_view(self, code: int, reason: str) -> None:
        """Says why, then closes; once only (several messages may announce the same end)."""
        if self.closing:
            return
        self.closing = True
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()  # no frame may follow the close
        await self._send_json({"type": "ended", "reason": reason})
        await self.close(code=code)

    async def _pump(self) -> None:
        """Frames from this viewer's inbox to its socket; a slow socket only makes its own inbox drop."""
        while True:
            frame = await self.inbox.get()
            self.last_frame = frame
            await self.send(bytes_data=frame)

    async def _watch(self) -> None:
        """Ends the view at its limit, and re-checks the rules every half minute in case a message was lost."""
        while True:
            remaining = (self.session.ends_by - timezone.now()).total_seconds()
            if remaining <= 0:
                reason = await database_sync_to_async(services.live_session_expire)(session=self.session)
                await self._end_view(CLOSE_ENDED, reason)
                return
            # Jittered, so views opened together do not all re-check at the same instant (bench/live_relay.py).
            await asyncio.sleep(min(remaining, RECHECK_SECONDS * random.uniform(0.5, 1)))
            if (self.session.ends_by - timezone.now()).total_seconds() > 0:
                problem = await database_sync_to_async(self._recheck)()
                if problem:
                    await self._end_view(CLOSE_NOT_SHARED, problem)
                    return

    def _recheck(self) -> str:
        # Everything as it is now: the analyst's permissions (not the ones cached when the view opened), the
        # camera, its owner and the incident.
        fresh = selectors.session_for_viewer(code=self.session.code, user_id=self.session.analyst_id)
        if fresh is None or fresh.ended_at is not None:
            return "This live view has ended."
        self.session = fresh
        if not staff_scope_allowed(self.scope):
            services.live_session_end(session=self.session, reason=LiveSession.EndReason.ACCESS_LOST)
            return "Your access has changed; sign in again."
        try:
            live_view_check(self.session.analyst, self.session.camera, self.session.incident, self.session.reason,
                            self.session.override_reason, opening=False)
        except LiveRefused as refused:
            services.live_session_end(session=self.session, reason=refused.end_reason, note=refused.message)
            return refused.message
        return ""

    async def disconnect(self, code):
        for task in self.tasks:
            task.cancel()
        try:
            if self.session is not None:
                await hub().leave(self.camera_code, self.inbox)
            for group in getattr(self, "groups_joined", ()):
                await self.channel_layer.group_discard(group, self.channel_name)
        finally:  # whatever Redis does, the session ends and the ledger says when
            if self.session is not None:
                reason = (LiveSession.EndReason.VIEWER_CLOSED if code in (1000, 1001)
                          else LiveSession.EndReason.VIEWER_LOST)
                await database_sync_to_async(services.live_session_end)(session=self.session, reason=reason)

    async def receive(self, text_data=None, bytes_data=None):
        if self.session is None or self.closing:
            return  # refused or ending: nothing it says matters now
        try:
            message = message_parse(text_data, schema=VIEWER_MESSAGES)
        except BadMessage as bad:
            await message_refused(self, bad, close=self._end_view)
            return
        if not await database_sync_to_async(staff_scope_allowed)(self.scope):
            await self.session_revoke({})
            return
        if self.closing:
            return
        if message["type"] == "still":
            await self._still()
        elif message["type"] == "ping":
            await self._send_json({"type": "pong", "dropped": self.inbox.dropped})

    async def _still(self) -> None:
        now = time.monotonic()
        if now - getattr(self, "still_at", -STILLS_EVERY_SECONDS) < STILLS_EVERY_SECONDS:
            await self._send_json({"type": "still_failed",
                                   "reason": f"One still every {STILLS_EVERY_SECONDS} seconds at most."})
            return
        self.still_at = now
        if self.last_frame is None:
            await self._send_json({"type": "still_failed", "reason": "No picture has arrived yet."})
            return
        try:
            clip = await database_sync_to_async(services.live_still_take)(
                session=self.session, frame=self.last_frame, user=self.session.analyst)
        except ValidationError as exc:
            await self._send_json({"type": "still_failed", "reason": " ".join(exc.messages)})
            return
        await self._send_json({"type": "still_saved", "clip": str(clip.code), "sha256": clip.sha256})

    # Channel-layer events ---------------------------------------------------------------------------------

    async def live_closed(self, event):
        await self._end_view(CLOSE_NOT_SHARED, event["reason"])

    async def live_session_closed(self, event):
        if self.session is not None and event["session"] == str(self.session.code):
            await self._end_view(CLOSE_ENDED, event["reason"])

    async def live_refresh(self, event):
        if self.session is None:
            return
        await database_sync_to_async(self.session.refresh_from_db)(fields=["ends_by", "ended_at"])
        for task in self.tasks[1:]:
            task.cancel()
        self.tasks[1:] = [asyncio.create_task(self._watch())]

    async def session_revoke(self, event):
        if self.session is None or not await revoke_concerns(self.scope, event):
            return  # another of the analyst's sessions ended (e.g. a lock from its address): not this one
        await database_sync_to_async(services.live_session_end)(
            session=self.session, reason=LiveSession.EndReason.ACCESS_LOST)
        await self._end_view(CLOSE_NOT_SHARED, "Your access has changed; sign in again.")
