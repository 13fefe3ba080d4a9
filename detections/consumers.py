"""ws/watch/<session>/: the marks of the case's live watches on one analyst's live view (beside ws/live/, which
carries the picture: a slow or crashed check never delays a frame).

Deny by default: only the analyst holding the open live view, who may also search its case, gets its marks; it is
re-checked every few seconds with the watches. Frames come from the relay's hub into a one-frame inbox (the newest
replaces the last, nothing piles up), are sampled CONNECT_LIVE_WATCH_FPS times a second while a watch is on, checked
in a small thread pool off the event loop, and dropped: never kept, never written to disk."""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.urls import reverse

from accounts.consumers import staff_scope_allowed
from common.layer_aware import LayerAware
from common.socket_messages import Close, message_send
from detections import live, selectors, services
from detections.detector import detector_make
from integration.relay import Inbox, hub
from integration.selectors import session_for_viewer

logger = logging.getLogger(__name__)
REFRESH_SECONDS = 5
MATCH_GAP_SECONDS = 10  # a watch seen again on a view within this is the same match (its box moves), not a new one
_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=settings.LIVE_WATCH_THREADS, thread_name_prefix="live-watch")
    return _pool


class Ready(TypedDict):
    type: Literal["ready"]
    search: str


class Watches(TypedDict):
    type: Literal["watches"]
    watches: list[dict]


class MarkShown(TypedDict):
    type: Literal["mark"]
    watch: str
    match: int
    new: bool
    kind: str
    box: list[float]
    label: str
    at: str


class WatchPaused(TypedDict):
    type: Literal["watch_paused"]
    watches: list[str]
    reason: str


class WatchSocket(LayerAware, AsyncWebsocketConsumer):
    # It joins no channel-layer group (frames come from the relay's hub): through a Redis outage it stays open and
    # simply gets no frames to check, as the live view beside it says; LayerAware keeps its close handling the same.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = None
        self.inbox = Inbox(1)
        self.camera_code = ""
        self.task: asyncio.Task | None = None
        self.joined = False

    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        if not await database_sync_to_async(staff_scope_allowed)(self.scope, outside_ok=False):
            await self.close(code=Close.UNAUTHENTICATED)
            return
        session = await database_sync_to_async(self._session)(user)
        if session is None:
            await self.close(code=Close.ENDED)
            return
        self.session = session
        self.camera_code = str(session.camera.code)
        await hub().join(self.camera_code, self.inbox)
        self.joined = True
        # Where to set a watch for this view's case (the analyst may search it, or this socket would be closed).
        await message_send(self, Ready(type="ready", search=reverse("detections:case_search",
                                                                   args=[session.incident.code]) + "#det-watch-form"))
        self.task = asyncio.create_task(self._run_safely())

    def _session(self, user):
        session = session_for_viewer(code=self.scope["url_route"]["kwargs"]["session"], user_id=user.pk)
        return session if selectors.may_get_marks(user, session) else None

    def _refresh(self) -> dict[str, dict] | None:
        """The watches on now, or None when this socket must close (the view ended, the access went)."""
        if not staff_scope_allowed(self.scope, outside_ok=False) or self._session(self.scope["user"]) is None:
            return None
        services.watches_expire(incident=self.session.incident)
        return selectors.watches_on(incident_id=self.session.incident_id)

    async def _run_safely(self) -> None:
        """The watch loop; if it fails (the database away), the socket closes rather than stay open and silent."""
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("live watch marks stopped for session %s", self.session.code)
            await self.close(code=Close.UNAVAILABLE)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        detector, watches, checked, refreshed = None, {}, set(), float("-inf")
        last_match: dict[str, tuple[float, int]] = {}  # watch -> (when, match id) of its last match on this view
        while True:
            await asyncio.sleep(1 / settings.LIVE_WATCH_FPS)
            if loop.time() - refreshed >= REFRESH_SECONDS:
                fresh = await database_sync_to_async(self._refresh)()
                refreshed = loop.time()
                if fresh is None:
                    await self.close(code=Close.ENDED)
                    return
                if fresh.keys() != watches.keys():
                    await message_send(self, Watches(type="watches", watches=[
                        {"watch": code, "criteria": criteria} for code, criteria in fresh.items()]))
                watches = fresh
            if not watches or not self.inbox.frames:
                self.inbox.frames.clear()
                continue
            frame = self.inbox.frames.pop()
            new = sorted(set(watches) - checked)
            if new:
                await database_sync_to_async(services.watch_checked)(watch_codes=new, session=self.session,
                                                                     user=self.scope["user"])
                checked.update(new)
            try:
                detector = detector or detector_make()
                marks = await loop.run_in_executor(pool(), live.frame_check, frame, watches, detector)
            except Exception as exc:  # the detector crashed on this frame: the watches pause, the view goes on
                reason = f"{type(exc).__name__}: {exc}"[:300]
                for code in watches:
                    await database_sync_to_async(services.watch_pause)(watch_code=code, reason=reason)
                await message_send(self, WatchPaused(type="watch_paused", watches=list(watches), reason=reason))
                detector, watches = None, {}
                continue
            finally:
                del frame  # held no longer than its check
            for mark in marks:
                await self._show(mark, last_match, loop.time())

    async def _show(self, mark: live.Mark, last_match: dict, now: float) -> None:
        from django.utils import timezone

        previous = last_match.get(mark.watch)
        new = previous is None or now - previous[0] > MATCH_GAP_SECONDS
        if new:
            match = await database_sync_to_async(services.watch_match_record)(
                watch_code=mark.watch, session=self.session, user=self.scope["user"], kind=mark.kind, box=mark.box,
                label=mark.label)
            match_id = match.pk
        else:
            match_id = previous[1]
        last_match[mark.watch] = (now, match_id)
        await message_send(self, MarkShown(type="mark", watch=mark.watch, match=match_id, new=new, kind=mark.kind,
                                           box=list(mark.box), label=mark.label, at=timezone.now().isoformat()))

    async def disconnect(self, code):
        if self.task is not None:
            self.task.cancel()
        if self.joined:
            await hub().leave(self.camera_code, self.inbox)

    async def receive(self, text_data=None, bytes_data=None):
        return  # it only listens
