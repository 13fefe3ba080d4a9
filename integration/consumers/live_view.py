"""ws/live/<session>/: one analyst's view of one live session they opened on the map.

It re-checks the rules when it opens and every half minute, ends at the session's limit, and closes at once when
the owner stops or pauses sharing or the analyst loses access. Before closing it says why ({"type": "ended"}).

When Redis goes away the socket stays open: the analyst reads why the picture stopped ({"type": "interrupted"}),
and once Redis is back the view reopens only if every rule still passes (the same re-check as every half minute:
sharing still on and not paused, the owner's hours and limit, training, the case open and near), then says so
again with {"type": "session"}. A view whose owner stopped sharing meanwhile ends instead (common/layer_aware.py).
"""

import asyncio
import random
import time
from typing import Literal, TypedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.consumers import revoke_concerns, staff_scope_allowed
from accounts.services import user_group
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
from integration import broadcast, frame_share, selectors, services
from integration.gating import LiveRefused, live_view_check
from integration.models import LiveSession
from integration.relay import Inbox, hub

RECHECK_SECONDS = 30
STILLS_EVERY_SECONDS = 3
VIEWER_MESSAGES = {"still": {}, "share": {}, "ping": {}}  # what a live view may send
CLIENT_CLOSED = (1000, 1001)  # the analyst closed the view or left the page
# Rules that fail because the session is over, rather than because viewing is not allowed.
SESSION_OVER = {LiveSession.EndReason.CASE_CLOSED, LiveSession.EndReason.TIME_LIMIT, LiveSession.EndReason.HOURS_ENDED}
SIGN_IN_AGAIN = "Your access has changed; sign in again."


class SessionInfo(TypedDict):
    type: Literal["session"]
    session: str
    camera: str
    ends_by: str
    case: str | None


class Ended(TypedDict):
    type: Literal["ended"]
    reason: str


class Pong(TypedDict):
    type: Literal["pong"]
    dropped: int


class StillSaved(TypedDict):
    type: Literal["still_saved"]
    clip: str
    sha256: str


class StillFailed(TypedDict):
    type: Literal["still_failed"]
    reason: str


def refusal_of(refused: LiveRefused) -> Refusal:
    """A failed rule as a close: ENDED when the session is over (case closed, limit or hours reached), else
    FORBIDDEN (the owner stopped or paused sharing, the analyst's training or permission is gone)."""
    return Refusal(Close.ENDED if refused.end_reason in SESSION_OVER else Close.FORBIDDEN, refused.message)


def view_admit(session: LiveSession) -> Refusal | None:
    """Re-checks the rules as a view opens; marks it watched once (a second window is refused). The wall's tiles
    (consumers/wall.py) open through this too."""
    try:
        live_view_check(session.analyst, session.camera, session.incident, session.reason,
                        session.override_reason, opening=False, approved=session.override_id is not None)
    except LiveRefused as refused:
        services.live_session_end(session=session, reason=refused.end_reason, note=refused.message)
        return refusal_of(refused)
    if session.ends_by <= timezone.now():  # asked for before an outage that outlasted the owner's limit
        return Refusal(Close.ENDED, services.live_session_expire(session=session))
    first = LiveSession.objects.filter(pk=session.pk, watched_at__isnull=True).update(watched_at=timezone.now())
    if not first:
        return Refusal(Close.DUPLICATE, "This live view is already open in another window.")
    return None


def view_recheck(scope, session: LiveSession, *, outside_ok: bool = False) -> tuple[LiveSession | None, Refusal | None]:
    """The session as it is now and, if it must end, why: everything as it is now (the analyst's permissions, not
    the ones cached when the view opened; the camera, its owner and the incident)."""
    fresh = selectors.session_for_viewer(code=session.code, user_id=session.analyst_id)
    if fresh is None:
        return None, Refusal(Close.ENDED, "This live view has ended.")
    if fresh.ended_at is not None:  # ended while no message could reach this socket (Redis away): say why
        return fresh, Refusal(Close.ENDED, f"This live view has ended. {fresh.get_end_reason_display()}.")
    if not staff_scope_allowed(scope, outside_ok=outside_ok):  # an agency's approved view only (not the wall)
        services.live_session_end(session=fresh, reason=LiveSession.EndReason.ACCESS_LOST)
        return fresh, Refusal(Close.UNAUTHENTICATED, SIGN_IN_AGAIN)
    try:
        live_view_check(fresh.analyst, fresh.camera, fresh.incident, fresh.reason, fresh.override_reason,
                        opening=False, approved=fresh.override_id is not None)
    except LiveRefused as refused:
        services.live_session_end(session=fresh, reason=refused.end_reason, note=refused.message)
        return fresh, refusal_of(refused)
    return fresh, None


class LiveViewSocket(LayerAware, AsyncWebsocketConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session: LiveSession | None = None  # set once the view is admitted; until then nothing it says counts
        self.asked: LiveSession | None = None  # the session asked for, admitted once Redis answers
        self.closing = False
        self.tasks: list[asyncio.Task] = []  # the frame pump, then the watch
        self.camera_code = ""
        self.inbox = Inbox(settings.LIVE_VIEWER_QUEUE)
        self.last_frame: bytes | None = None
        self.still_at = float("-inf")
        self.bad_messages = BadMessages()

    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        if not await database_sync_to_async(staff_scope_allowed)(self.scope, outside_ok=True):
            await self._end_view(Refusal(Close.UNAUTHENTICATED, "Sign in as staff first."))
            return
        session = await database_sync_to_async(selectors.session_for_viewer)(
            code=self.scope["url_route"]["kwargs"]["session"], user_id=user.pk)
        if session is None or session.ended_at is not None:
            await self._end_view(Refusal(Close.ENDED, "This live view has ended. Open it again from the map."))
            return
        # Listen first, then check: a stop that commits in between is either seen by the check or heard.
        self.camera_code = str(session.camera.code)
        self.asked = session
        if await self.layer_join(broadcast.viewers_group(self.camera_code), user_group(user.pk)):
            await self._admit()
        # else Redis is away: the analyst was told, and on_layer_back admits the view (rules checked then)

    async def _admit(self) -> None:
        session = self.asked
        refusal = await database_sync_to_async(self._open)(session)
        if refusal:
            await self._end_view(refusal)
            return
        self.session = session
        await hub().join(self.camera_code, self.inbox)
        self.tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._watch())]
        await self._live_again()

    async def _live_again(self) -> None:
        """Tells the analyst what they watch and until when, and the connector that someone watches."""
        session = self.session
        await message_send(self, SessionInfo(
            type="session", session=str(session.code), camera=session.camera.label,
            ends_by=session.ends_by.isoformat(), case=session.incident.case_number if session.incident else None))
        await self.layer_call(self.channel_layer.group_send(broadcast.connector_group(self.camera_code),
                                                            {"type": "connector.demand"}))

    async def on_layer_lost(self) -> None:
        """No picture and no still while Redis is away (a frozen frame would pass for live); the rules keep being
        checked against the database meanwhile (_watch)."""
        if self.closing:
            return
        if self.tasks:
            self.tasks[0].cancel()  # the frame pump
        self.last_frame = None
        await message_send(self, Interrupted(type="interrupted", reason=str(LIVE_SERVICE_LOST)))

    async def on_layer_back(self) -> None:
        if self.closing:
            return
        if self.session is None:
            await self._admit()  # asked for while Redis was away: the whole opening, rules included
            return
        refusal = await database_sync_to_async(self._recheck)()
        if refusal is None and self.session.ends_by <= timezone.now():
            refusal = Refusal(Close.ENDED, await database_sync_to_async(services.live_session_expire)(
                session=self.session))
        if refusal:
            await self._end_view(refusal)
            return
        self.inbox.frames.clear()  # nothing from before the outage
        if self.tasks:  # one pump, however the outage and the opening interleaved
            self.tasks[0].cancel()
            self.tasks[0] = asyncio.create_task(self._pump())
        await self._live_again()

    def _open(self, session: LiveSession) -> Refusal | None:
        return view_admit(session)

    async def _end_view(self, refusal: Refusal) -> None:
        """Says why, then closes; once only (several messages may announce the same end)."""
        if self.closing:
            return
        self.closing = True
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()  # no frame may follow the close
        await message_send(self, Ended(type="ended", reason=refusal.reason))
        await self.close(code=refusal.code)

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
                await self._end_view(Refusal(Close.ENDED, reason))
                return
            # Jittered, so views opened together do not all re-check at the same instant (bench/live_relay.py).
            await asyncio.sleep(min(remaining, RECHECK_SECONDS * random.uniform(0.5, 1)))
            if (self.session.ends_by - timezone.now()).total_seconds() > 0:
                refusal = await database_sync_to_async(self._recheck)()
                if refusal:
                    await self._end_view(refusal)
                    return

    def _recheck(self) -> Refusal | None:
        fresh, refusal = view_recheck(self.scope, self.session, outside_ok=True)
        self.session = fresh or self.session
        return refusal

    async def disconnect(self, code):
        for task in self.tasks:
            task.cancel()
        try:
            if self.session is not None:
                await hub().leave(self.camera_code, self.inbox)
            await self.layer_leave()
        finally:  # whatever Redis does, the session ends and the ledger says when
            if self.session is not None:
                reason = (LiveSession.EndReason.VIEWER_CLOSED if code in CLIENT_CLOSED
                          else LiveSession.EndReason.VIEWER_LOST)
                await database_sync_to_async(services.live_session_end)(session=self.session, reason=reason)

    async def receive(self, text_data=None, bytes_data=None):
        if self.session is None or self.closing:
            return  # refused or ending: nothing it says matters now
        try:
            message = message_parse(text_data, schema=VIEWER_MESSAGES)
        except BadMessage as bad:
            await self.bad_messages.refuse(self, bad, close=self._end_view)
            return
        if not await database_sync_to_async(staff_scope_allowed)(self.scope, outside_ok=True):
            await self.session_revoke({})
            return
        if self.closing:
            return
        if message["type"] == "still":
            await self._still()
        elif message["type"] == "share":
            await self._share()
        elif message["type"] == "ping":
            await message_send(self, Pong(type="pong", dropped=self.inbox.dropped))

    async def _still(self) -> None:
        now = time.monotonic()
        if now - self.still_at < STILLS_EVERY_SECONDS:
            await message_send(self, StillFailed(type="still_failed",
                                                 reason=f"One still every {STILLS_EVERY_SECONDS} seconds at most."))
            return
        self.still_at = now
        if self.last_frame is None:
            await message_send(self, StillFailed(type="still_failed", reason="No picture has arrived yet."))
            return
        try:
            clip = await database_sync_to_async(services.live_still_take)(
                session=self.session, frame=self.last_frame, user=self.session.analyst)
        except ValidationError as exc:
            await message_send(self, StillFailed(type="still_failed", reason=" ".join(exc.messages)))
            return
        await message_send(self, StillSaved(type="still_saved", clip=str(clip.code), sha256=clip.sha256))

    async def _share(self) -> None:
        """'Send this frame': holds the frame on screen for the page that shares it (integration/frame_share.py)."""
        if self.last_frame is None:
            await message_send(self, StillFailed(type="still_failed", reason="No picture has arrived yet."))
            return
        token = await database_sync_to_async(frame_share.frame_hold)(session=self.session, frame=self.last_frame)
        url = frame_share.target_url(token)
        if url is None:
            await message_send(self, StillFailed(type="still_failed", reason="Sharing frames is not available."))
            return
        await message_send(self, {"type": "frame_held", "url": url})

    # Channel-layer events ---------------------------------------------------------------------------------

    async def live_closed(self, event):
        """The owner stopped or paused sharing (integration.broadcast.camera_closed)."""
        await self._end_view(Refusal(Close.FORBIDDEN, event["reason"]))

    async def live_session_closed(self, event):
        if self.session is not None and event["session"] == str(self.session.code):
            await self._end_view(Refusal(Close.ENDED, event["reason"]))

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
        await self._end_view(Refusal(Close.UNAUTHENTICATED, SIGN_IN_AGAIN))
