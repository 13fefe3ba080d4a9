"""ws/dispatch/: calls for service and officer positions on the staff map, live.

Same gate as ws/staff/ (an active, verified staff session, checked against the session store), plus the
permission to view calls. On connect the socket sends what is current (open calls with their nearest cameras,
each unit's latest position); then events as `dispatch.live` sends them. The session is re-checked on events
at most every RECHECK_S seconds (position batches come ten times a second), and a sign-out closes the socket
at once through the user's own group.
"""

import time

from channels.db import database_sync_to_async

from accounts.consumers import CLOSE_REVOKED, CLOSE_UNAUTHORISED, StaffSocket
from accounts.services import user_group
from audit.actions import Action
from audit.ledger import record
from dispatch import selectors
from dispatch.live import GROUP

VIEW_PERMISSION = "dispatch.view_callforservice"
RECHECK_S = 2.0
SNAPSHOT_CALLS = 200


class DispatchSocket(StaffSocket):
    async def connect(self):
        if not await self._allowed() or not await self._may_view():
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.checked_at = time.monotonic()
        self.group = user_group(self.scope["user"].pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()
        await self.send_json(await self._snapshot())

    async def disconnect(self, code):
        await super().disconnect(code)
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def dispatch_call(self, event):
        if await self._still_allowed():
            await self.send_json({"type": "call", "call": event["call"]})

    async def dispatch_positions(self, event):
        if await self._still_allowed():
            await self.send_json({"type": "positions", "positions": event["positions"]})

    async def _still_allowed(self) -> bool:
        now = time.monotonic()
        if now - self.checked_at < RECHECK_S:
            return True
        if not (await self._allowed() and await self._may_view()):
            await self.close(code=CLOSE_REVOKED)
            return False
        self.checked_at = now
        return True

    @database_sync_to_async
    def _may_view(self) -> bool:
        user = self.scope["user"]
        return user.has_perm(VIEW_PERMISSION) and user.has_perm("dispatch.view_officerposition")

    @database_sync_to_async
    def _snapshot(self) -> dict:
        calls = [selectors.call_payload(call) for call in selectors.calls_open()[:SNAPSHOT_CALLS]]
        positions = selectors.positions_latest()
        record(actor=self.scope["user"], action=Action.DISPATCH_LIVE_OPENED, target_type="dispatch", calls=len(calls),
               units=len(positions))
        return {"type": "snapshot", "calls": calls, "positions": positions}
