"""ws/patrol/: a patrol officer's bulletins, live; ws/bulletins/<code>/: who received, opened and acknowledged one.

Both are staff sockets (accounts.consumers.StaffSocket: an active, verified session, closed at sign-out), deny by
default: the patrol socket needs the receive permission and forwards only the bulletins naming its own user among the
recipients (all patrol sockets share one group: bulletins/live.py says why); the receipts socket opens only for the
bulletin's sender, supervisors and auditors. Sign-out, a disabled account or a removed role close both at once (the
user's group hears the revocation); on top of that the receipts socket re-checks on events at most every few seconds
(accounts.consumers.RecheckedStaffSocket), and the patrol socket on a timer (every WATCH_S seconds, jittered) rather
than on each bulletin: a bulletin reaches every patrol socket of a process at once, and 200 session checks in a row held
the last officer's copy back by seconds (bench/bulletin_fanout.py). A new bulletin's still follows its message on the
same socket as a binary frame, each recipient checked and each delivery recorded first (bulletins.still_delivery); the
page fetches it over HTTP only when told to ("still_by_page") or when it reconnects (the snapshot carries the still's
address). The sockets that got a bulletin at the same moment stamp their receipts in one transaction
(services.receipts_mark_received), where 200 in a row on Django's one sync thread held each socket's next bulletin back
behind its own."""

import asyncio
import logging
import random
import time

from channels.db import database_sync_to_async

from accounts.consumers import RecheckedStaffSocket
from accounts.services import user_group
from bulletins import batched, live, selectors, services, still_delivery
from common.socket_messages import message_send

logger = logging.getLogger(__name__)
_received = batched.Batched(batched.database.run, lambda asks: services.receipts_mark_received(asks))
WATCH_S = 30.0


class PatrolSocket(RecheckedStaffSocket):
    accepted_messages = {"ping": {}, "open": {"code": str}, "ack": {"code": str}}

    def may(self) -> bool:
        return selectors.may_receive(self.scope["user"])

    async def connect(self):
        refused = await self.refusal()
        if refused is not None:
            await self.close(code=refused)
            return
        self.checked_at = time.monotonic()
        user = self.scope["user"]
        self.group = user_group(user.pk)
        await self.accept()
        self.watch = asyncio.create_task(self._watch())
        if await self.layer_join(self.group, live.PATROL_GROUP):  # before the snapshot: none lost
            await message_send(self, await self._snapshot())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_S * random.uniform(0.5, 1))
            refused = await self.refusal()
            if refused is not None:
                await self.close(code=refused)
                return
            self.checked_at = time.monotonic()

    async def disconnect(self, code):
        watch = getattr(self, "watch", None)
        if watch is not None and watch is not asyncio.current_task():
            watch.cancel()
        await super().disconnect(code)

    async def on_layer_back(self) -> None:
        self.checked_at = 0.0
        if await self.still_allowed():
            await message_send(self, await self._snapshot())

    @database_sync_to_async
    def _snapshot(self) -> dict:
        user = self.scope["user"]
        rows = selectors.bulletins_received(user=user)
        for bulletin, _ in rows:
            services.receipt_mark(user=user, code=bulletin.code, step="received")
        return {"type": "snapshot", "bulletins": [
            selectors.bulletin_payload(b, state=r.state if r.received_at else "received") for b, r in rows]}

    async def bulletin_new(self, event):
        if self.scope["user"].pk not in event["to"]:  # for others: never forwarded
            return
        payload = {**event["bulletin"], "state": "received"}
        still = payload.get("media_kind") == "image"  # a clip segment is played from its address, in ranges
        if still:
            payload["still_on_socket"] = True  # the page waits for the frame rather than fetching the still
        await message_send(self, {"type": "bulletin", "bulletin": payload})
        if still:
            await self._still_send(payload["code"])
        try:  # with the other sockets' receipts of the moment: one transaction, not one each in a row
            await _received.ask((payload["code"], self.scope["user"].pk))
        except Exception:  # the page's next snapshot stamps it
            logger.warning("bulletins: receipt of %s not stamped", payload["code"], exc_info=True)

    async def _still_send(self, code: str) -> None:
        """The still as a binary frame once this officer was checked and the delivery recorded; else the page is
        told to fetch it (the still's page checks and records again, and answers what it answers)."""
        session = self.scope.get("session")
        delivery = still_delivery.Delivery(code=code, user_id=self.scope["user"].pk,
                                           session_key=(session.session_key or "") if session is not None else "")
        try:
            data = await still_delivery.still_for(delivery)
        except Exception:  # the database away, say: nothing sent unrecorded
            logger.warning("bulletins: still %s not delivered on the socket", code, exc_info=True)
            data = None
        if data is None:
            self.checked_at = 0.0  # refused, perhaps: the session and role as they are now close the socket if so
            if await self.still_allowed():
                await message_send(self, {"type": "still_by_page", "code": code})
            return
        await self.send(bytes_data=still_delivery.frame_of(code, data))

    async def receive_json(self, content, **kwargs):
        if content["type"] == "ping":
            return await super().receive_json(content, **kwargs)
        self.checked_at = 0.0  # acting on a bulletin: the session and role as they are now
        if not await self.still_allowed():
            return
        step = "opened" if content["type"] == "open" else "acknowledged"
        recipient = await database_sync_to_async(services.receipt_mark)(user=self.scope["user"],
                                                                         code=content["code"], step=step)
        if recipient is None:
            await message_send(self, {"type": "error", "reason": "No such bulletin for you."})
        else:
            await message_send(self, {"type": "receipt", "code": content["code"], "state": recipient.state})


class ReceiptsSocket(RecheckedStaffSocket):
    def may(self) -> bool:
        return selectors.bulletin_supervisable(user=self.scope["user"],
                                               code=self.scope["url_route"]["kwargs"]["code"]) is not None

    async def connect(self):
        refused = await self.refusal()
        if refused is not None:
            await self.close(code=refused)
            return
        self.checked_at = time.monotonic()
        self.group = user_group(self.scope["user"].pk)
        await self.accept()
        thread = await database_sync_to_async(self._thread_code)()
        if await self.layer_join(self.group, live.receipts_group(thread)):
            await message_send(self, await database_sync_to_async(self._snapshot)())

    def _thread_code(self) -> str:
        bulletin = selectors.bulletin_supervisable(user=self.scope["user"],
                                                   code=self.scope["url_route"]["kwargs"]["code"])
        return str((bulletin.thread or bulletin).code)

    def _snapshot(self) -> dict:
        bulletin = selectors.bulletin_supervisable(user=self.scope["user"],
                                                   code=self.scope["url_route"]["kwargs"]["code"])
        root = bulletin.thread or bulletin
        receipts = [selectors.receipt_payload(r) for b in [root, *root.updates.all()] for r in selectors.receipts_of(b)]
        return {"type": "receipts", "receipts": receipts}

    async def bulletin_receipt(self, event):
        if await self.still_allowed():
            await message_send(self, {"type": "receipt", "receipt": event["receipt"]})

    async def bulletin_receipts(self, event):
        if await self.still_allowed():
            await message_send(self, {"type": "receipts", "receipts": event["receipts"]})
