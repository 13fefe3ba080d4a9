"""ws/dispatch/: calls for service and officer positions on the staff map, live.

Same gate as ws/staff/ (an active, verified staff session, checked against the session store), plus the permission to
view calls. On connect the socket sends what is current (open calls with their nearest cameras, each unit's latest
position); then events as `dispatch.live` sends them. The session is re-checked on events at most every few seconds
(accounts.consumers.RecheckedStaffSocket: position batches come ten times a second), and a sign-out closes the socket at
once through the user's own group. Closes with Close.UNAUTHENTICATED when the session is gone and Close.FORBIDDEN when
the role lacks the permission (the map hides the feed then). While Redis is away the socket stays open and says so
({"type": "interrupted"}); once Redis is back it re-checks the session and sends a fresh snapshot, since the events of
the outage are lost (common/layer_aware.py)."""

import time
from typing import Literal, TypedDict

from channels.db import database_sync_to_async

from accounts.consumers import RecheckedStaffSocket
from accounts.services import user_group
from audit.actions import Action
from audit.ledger import record
from common.socket_messages import LIVE_SERVICE_LOST, Interrupted, message_send
from dispatch import selectors
from dispatch.live import GROUP
from dispatch.selectors import CallPayload, PositionPayload

VIEW_PERMISSION = "dispatch.view_callforservice"
SNAPSHOT_CALLS = 200


class Snapshot(TypedDict):
    type: Literal["snapshot"]
    calls: list[CallPayload]
    positions: list[PositionPayload]


class CallEvent(TypedDict):
    type: Literal["call"]
    call: CallPayload


class PositionsEvent(TypedDict):
    type: Literal["positions"]
    positions: list[PositionPayload]


class DispatchSocket(RecheckedStaffSocket):
    async def connect(self):
        refused = await self.refusal()
        if refused is not None:
            await self.close(code=refused)
            return
        self.checked_at = time.monotonic()
        self.group = user_group(self.scope["user"].pk)
        await self.accept()
        if await self.layer_join(self.group, GROUP):  # joined before the snapshot: no event falls in between
            await message_send(self, await self._snapshot())
        # else Redis is away: the map was told, and on_layer_back sends the snapshot

    async def on_layer_lost(self) -> None:
        await message_send(self, Interrupted(type="interrupted", reason=str(LIVE_SERVICE_LOST)))

    async def on_layer_back(self) -> None:
        self.checked_at = 0.0  # a sign-out or a removed role announced during the outage never arrived
        if await self.still_allowed():
            await message_send(self, await self._snapshot())

    async def dispatch_call(self, event):
        if await self.still_allowed():
            await message_send(self, CallEvent(type="call", call=event["call"]))

    async def dispatch_positions(self, event):
        if await self.still_allowed():
            await message_send(self, PositionsEvent(type="positions", positions=event["positions"]))

    def may(self) -> bool:
        user = self.scope["user"]
        return user.has_perm(VIEW_PERMISSION) and user.has_perm("dispatch.view_officerposition")

    @database_sync_to_async
    def _snapshot(self) -> Snapshot:
        calls = [selectors.call_payload(call) for call in selectors.calls_open()[:SNAPSHOT_CALLS]]
        positions = selectors.positions_latest()
        record(actor=self.scope["user"], action=Action.DISPATCH_LIVE_OPENED, target_type="dispatch", calls=len(calls),
               units=len(positions))
        return Snapshot(type="snapshot", calls=calls, positions=positions)
