"""ws/wall/: one analyst's incident wall, every tile's frames on one socket.

Each tile is a live session the analyst opened (integration.wall.wall_open); the socket admits it, re-checks it and
ends it exactly as ws/live/<session>/ does one view (view_admit, view_recheck), so a wall is no way around the rules.

The page says what it shows: {"type": "watch", "session"} for a tile in sight, {"type": "unwatch", "session"} for
one scrolled out (its frames stop, the session stays), {"type": "close", "session"} for a tile closed (its session
ends, and the connector stops once nobody else watches). Frames go out as binary messages: one byte, the tile's
slot, then the JPEG. A tile that ends says why ({"type": "tile_ended", "session", "reason"}); the socket stays.
"""

import asyncio
import random
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.consumers import revoke_concerns, staff_scope_allowed
from accounts.services import user_group
from common.codes import parse_code
from common.layer_aware import LayerAware
from common.socket_messages import (
    LIVE_SERVICE_LOST,
    BadMessage,
    BadMessages,
    Close,
    Interrupted,
    Refusal,
    message_parse,
    message_send,
)
from integration import broadcast, selectors, services
from integration.consumers.live_view import CLIENT_CLOSED, RECHECK_SECONDS, SIGN_IN_AGAIN, view_admit, view_recheck
from integration.models import LiveSession
from integration.relay import Inbox, hub

WALL_MESSAGES = {"watch": {"session": str}, "unwatch": {"session": str}, "close": {"session": str}, "ping": {}}


class TileOpen(TypedDict):
    type: Literal["tile"]
    session: str
    slot: int
    camera: str
    ends_by: str
    case: str | None


class TileEnded(TypedDict):
    type: Literal["tile_ended"]
    session: str
    reason: str


class WallPong(TypedDict):
    type: Literal["pong"]
    dropped: int


@dataclass(eq=False)
class Tile:
    session: LiveSession
    slot: int
    camera_code: str
    inbox: Inbox = field(default_factory=lambda: Inbox(settings.LIVE_VIEWER_QUEUE))
    visible: bool = False  # frames flowing to the page now
    wanted: bool = True  # the page has it in sight (watch / unwatch), whatever Redis does meanwhile
    pump: asyncio.Task | None = None
    watch: asyncio.Task | None = None


class WallSocket(LayerAware, AsyncWebsocketConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tiles: dict[str, Tile] = {}  # by session code
        self.asked: list[str] = []  # sessions asked for while Redis was away: admitted once it is back
        self.closing = False
        self.bad_messages = BadMessages()

    async def connect(self):
        await self.accept()
        if not await database_sync_to_async(staff_scope_allowed)(self.scope):
            await self._close_all(Refusal(Close.UNAUTHENTICATED, "Sign in as staff first."))
            return
        await self.layer_join(user_group(self.scope["user"].pk))

    # What the page says -----------------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        try:
            message = message_parse(text_data, schema=WALL_MESSAGES)
        except BadMessage as bad:
            await self.bad_messages.refuse(self, bad, close=self._close_all)
            return
        if message["type"] == "ping":
            dropped = sum(tile.inbox.dropped for tile in self.tiles.values())
            await message_send(self, WallPong(type="pong", dropped=dropped))
            return
        if not await database_sync_to_async(staff_scope_allowed)(self.scope):
            await self.session_revoke({})
            return
        code, tile = message["session"], self.tiles.get(message["session"])
        if message["type"] == "watch":
            if tile:
                tile.wanted = True
                await self._show(tile)
            else:
                await self._admit(code)
        elif tile and message["type"] == "unwatch":
            tile.wanted = False
            await self._hide(tile)
        elif tile and message["type"] == "close":
            await self._end_tile(tile, "You closed this tile.", LiveSession.EndReason.VIEWER_CLOSED)

    async def _admit(self, code: str) -> None:
        if len(self.tiles) >= settings.WALL_CAMERAS:
            await message_send(self, TileEnded(type="tile_ended", session=code,
                                               reason=f"A wall shows at most {settings.WALL_CAMERAS} cameras."))
            return
        session = await database_sync_to_async(self._session_of)(code)
        if session is None or session.ended_at is not None:
            await message_send(self, TileEnded(type="tile_ended", session=code,
                                               reason="This live view has ended. Open the wall again."))
            return
        camera_code = str(session.camera.code)
        # Listen first, then check: a stop that commits in between is either seen by the check or heard.
        if not await self.layer_join(broadcast.viewers_group(camera_code)):
            self.asked.append(code)  # Redis is away: the page was told; admitted, rules checked, once it is back
            return
        refusal = await database_sync_to_async(view_admit)(session)
        if refusal:
            await message_send(self, TileEnded(type="tile_ended", session=code, reason=refusal.reason))
            return
        slot = min(set(range(256)) - {tile.slot for tile in self.tiles.values()})
        tile = self.tiles[code] = Tile(session=session, slot=slot, camera_code=camera_code)
        tile.watch = asyncio.create_task(self._watch(tile))
        await self._tile_open(tile)
        await self._show(tile)

    async def _tile_open(self, tile: Tile) -> None:
        session = tile.session
        await message_send(self, TileOpen(type="tile", session=str(session.code), slot=tile.slot,
                                          camera=session.camera.label, ends_by=session.ends_by.isoformat(),
                                          case=session.incident.case_number if session.incident else None))

    def _session_of(self, code: str) -> LiveSession | None:
        parsed = parse_code(code)  # junk is nobody's session, like another analyst's
        return selectors.session_for_viewer(code=parsed, user_id=self.scope["user"].pk) if parsed else None

    async def _show(self, tile: Tile) -> None:
        if tile.visible or self.layer_down:
            return
        tile.visible = True
        tile.inbox.frames.clear()
        await hub().join(tile.camera_code, tile.inbox)
        tile.pump = asyncio.create_task(self._pump(tile))
        if await self.layer_call(cache.adelete(selectors.session_hidden_key(tile.session.code))):
            await self._demand(tile)

    async def _hide(self, tile: Tile) -> None:
        """Out of sight: no frame of it is sent, none is read from Redis here, and unless someone else watches the
        camera its connector stops until the tile is back in sight."""
        tile.visible = False
        if tile.pump:
            tile.pump.cancel()
        await hub().leave(tile.camera_code, tile.inbox)
        seconds = max(60, int((tile.session.ends_by - timezone.now()).total_seconds()) + 60)
        if await self.layer_call(cache.aset(selectors.session_hidden_key(tile.session.code), True, seconds)):
            await self._demand(tile)

    async def _demand(self, tile: Tile) -> None:
        """The camera's connector re-checks whether anyone watches (start or stop)."""
        await self.layer_call(self.channel_layer.group_send(broadcast.connector_group(tile.camera_code),
                                                            {"type": "connector.demand"}))

    async def _pump(self, tile: Tile) -> None:
        header = bytes([tile.slot])
        while True:
            frame = await tile.inbox.get()
            await self.send(bytes_data=header + frame)

    async def _watch(self, tile: Tile) -> None:
        """Ends the tile at its limit, and re-checks its rules every half minute in case a message was lost."""
        while True:
            remaining = (tile.session.ends_by - timezone.now()).total_seconds()
            if remaining <= 0:
                reason = await database_sync_to_async(services.live_session_expire)(session=tile.session)
                await self._end_tile(tile, reason)
                return
            await asyncio.sleep(min(remaining, RECHECK_SECONDS * random.uniform(0.5, 1)))
            if (tile.session.ends_by - timezone.now()).total_seconds() > 0:
                fresh, refusal = await database_sync_to_async(view_recheck)(self.scope, tile.session)
                tile.session = fresh or tile.session
                if refusal:
                    await self._end_tile(tile, refusal.reason)
                    return

    async def _end_tile(self, tile: Tile, reason: str, end_reason: str | None = None) -> None:
        """Stops the tile's frames, ends its session if it is not over yet, and says why; the socket stays."""
        if self.tiles.pop(str(tile.session.code), None) is None:
            return  # already ended
        current = asyncio.current_task()
        for task in (tile.pump, tile.watch):
            if task and task is not current:
                task.cancel()
        await hub().leave(tile.camera_code, tile.inbox)
        if end_reason:
            await database_sync_to_async(services.live_session_end)(session=tile.session, reason=end_reason)
        if not self.closing:
            await message_send(self, TileEnded(type="tile_ended", session=str(tile.session.code), reason=reason))

    async def _close_all(self, refusal: Refusal) -> None:
        if self.closing:
            return
        self.closing = True
        for tile in list(self.tiles.values()):
            await self._end_tile(tile, refusal.reason, LiveSession.EndReason.ACCESS_LOST)
        await message_send(self, TileEnded(type="tile_ended", session="", reason=refusal.reason))
        await self.close(code=refusal.code)

    async def disconnect(self, code):
        self.closing = True
        reason = LiveSession.EndReason.VIEWER_CLOSED if code in CLIENT_CLOSED else LiveSession.EndReason.VIEWER_LOST
        try:
            for tile in list(self.tiles.values()):
                await self._end_tile(tile, "", reason)
        finally:
            await self.layer_leave()

    # Redis away and back: no picture meanwhile (a frozen frame would pass for live) -----------------------

    async def on_layer_lost(self) -> None:
        if self.closing:
            return
        for tile in self.tiles.values():
            if tile.pump:
                tile.pump.cancel()
            tile.visible, tile.pump = False, None  # still in the hub, like a single view: it resubscribes itself
        await message_send(self, Interrupted(type="interrupted", reason=str(LIVE_SERVICE_LOST)))

    async def on_layer_back(self) -> None:
        """Each tile re-checked as after half a minute: one whose rules no longer pass ends (its owner may have stopped
        sharing meanwhile, and that message was lost); the others say so again, and those in sight get frames."""
        if self.closing:
            return
        for tile in list(self.tiles.values()):
            fresh, refusal = await database_sync_to_async(view_recheck)(self.scope, tile.session)
            tile.session = fresh or tile.session
            if refusal is None and tile.session.ends_by <= timezone.now():
                reason = await database_sync_to_async(services.live_session_expire)(session=tile.session)
                refusal = Refusal(Close.ENDED, reason)
            if refusal:
                await self._end_tile(tile, refusal.reason)
                continue
            await self._tile_open(tile)
            if tile.wanted:
                await self._show(tile)
        asked, self.asked = self.asked, []
        for code in asked:
            await self._admit(code)

    # Channel-layer events: the same as a single view's, for the tile of that camera or session ---------------

    def _tiles_of_camera(self, event) -> list[Tile]:
        return [tile for tile in self.tiles.values() if tile.camera_code == event.get("camera")]

    async def live_closed(self, event):
        """The owner stopped or paused sharing that camera: its tile ends, the others go on."""
        for tile in self._tiles_of_camera(event):
            await self._end_tile(tile, event["reason"])

    async def live_session_closed(self, event):
        tile = self.tiles.get(event["session"])
        if tile:
            await self._end_tile(tile, event["reason"])

    async def live_refresh(self, event):
        for tile in self._tiles_of_camera(event):
            await database_sync_to_async(tile.session.refresh_from_db)(fields=["ends_by", "ended_at"])
            if tile.watch:
                tile.watch.cancel()
            tile.watch = asyncio.create_task(self._watch(tile))

    async def session_revoke(self, event):
        if not await revoke_concerns(self.scope, event):
            return
        await self._close_all(Refusal(Close.UNAUTHENTICATED, SIGN_IN_AGAIN))
