"""ws/staff/: the staff map's live channel. Only active, verified staff connect, and the socket closes as
soon as the user signs out, is disabled, loses a role, the session runs out or a lock from the address its session
signed in from ends that session. While Redis is away it stays open (common/layer_aware.py) and, once Redis is
back, re-checks the session, since a sign-out announced meanwhile never reached it."""

import time
from importlib import import_module
from typing import Literal, TypedDict

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.middleware import SESSION_ADDRESS, session_expired
from accounts.services import session_in_lock, user_group
from common.access import is_outside, is_program_staff
from common.layer_aware import LayerAware
from common.socket_messages import BadMessage, BadMessages, Close, message_parse, message_send


class Hello(TypedDict):
    type: Literal["hello"]
    user: str


class Pong(TypedDict):
    type: Literal["pong"]


class StaffSocket(LayerAware, AsyncJsonWebsocketConsumer):
    accepted_messages = {"ping": {}}  # what the map may send: type -> {field: type}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group: str | None = None  # the user's own group, joined once the socket is accepted
        self.bad_messages = BadMessages()

    async def connect(self):
        if not await self._allowed():
            await self.close(code=Close.UNAUTHENTICATED)
            return
        self.group = user_group(self.scope["user"].pk)
        await self.accept()
        await self.layer_join(self.group)
        await message_send(self, Hello(type="hello", user=self.scope["user"].get_username()))

    async def disconnect(self, code):
        await self.layer_leave()

    async def on_layer_back(self) -> None:
        if not await self._allowed():
            await self.close(code=Close.UNAUTHENTICATED)

    async def session_revoke(self, event):
        if await revoke_concerns(self.scope, event):  # the session ended: signing in again opens a new socket
            await self.close(code=Close.UNAUTHENTICATED)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Junk is answered or closes the socket (common/socket_messages.py); only checked messages go on."""
        try:
            content = message_parse(text_data, schema=self.accepted_messages)
        except BadMessage as bad:
            await self.bad_messages.refuse(self, bad)
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if not await self._allowed():  # every event re-checks the session
            await self.close(code=Close.UNAUTHENTICATED)
            return
        if content.get("type") == "ping":
            await message_send(self, Pong(type="pong"))

    @database_sync_to_async
    def _allowed(self) -> bool:
        return staff_scope_allowed(self.scope)


class RecheckedStaffSocket(StaffSocket):
    """A staff socket whose events re-check the session and what the socket's work needs (`may`, run on a database
    thread) at most every RECHECK_S seconds: events may come ten times a second (dispatch's positions, bulletins'
    receipts). Closes with Close.UNAUTHENTICATED when the session is gone, Close.FORBIDDEN when `may` says no."""

    RECHECK_S = 2.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked_at = 0.0  # when the session and `may` were last found good; 0: check at the next event

    def may(self) -> bool:
        raise NotImplementedError

    async def refusal(self) -> Close | None:
        if not await self._allowed():
            return Close.UNAUTHENTICATED
        if not await database_sync_to_async(self.may)():
            return Close.FORBIDDEN
        return None

    async def still_allowed(self) -> bool:
        now = time.monotonic()
        if now - self.checked_at < self.RECHECK_S:
            return True
        refused = await self.refusal()
        if refused is not None:
            await self.close(code=refused)
            return False
        self.checked_at = now
        return True


def staff_scope_allowed(scope, *, outside_ok: bool = False) -> bool:
    """Whether a socket's user is still signed-in, active staff with a role (and MFA where required).
    `outside_ok`: an outside agency's signed-in person passes too (no role: the consumer's own rule decides what
    they reach, as the live view's gating does)."""
    user, scope_session = scope.get("user"), scope.get("session")
    if user is None or not user.is_authenticated or scope_session is None or not scope_session.session_key:
        return False
    # The session as it is now in the store, not as it was when the socket opened.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not store().exists(scope_session.session_key):
        return False
    session = store(session_key=scope_session.session_key)
    if session.get("_auth_user_id") != str(user.pk) or session_expired(session, time.time()):
        return False
    user.refresh_from_db(fields=["is_active", "is_staff", "is_superuser"])
    user.__dict__.pop("_connect_outside", None)  # asked afresh: a tie to an outside agency may be new
    outside = outside_ok and user.is_active and user.is_staff and is_outside(user)
    if not (outside or (is_program_staff(user) and (user.is_superuser or user.groups.exists()))):
        return False
    second_factor_done = not settings.MFA_REQUIRED or bool(session.get("otp_device_id"))
    if session_in_lock(username=user.get_username(), signed_in_from=session.get(SESSION_ADDRESS),
                       second_factor_done=second_factor_done):
        return False
    return second_factor_done


async def revoke_concerns(scope, event) -> bool:
    """Whether a `session.revoke` event (accounts.services.sessions_revoke) is for this socket: all the user's sockets
    close, or (a lock from one address, one session running out) only those of the sessions it ended. Else a
    stranger's failures elsewhere would close an officer's map and live views."""
    if event.get("sessions") is None and event.get("address") is None:
        return True
    session_key = scope["session"].session_key if scope.get("session") is not None else None
    if session_key in (event.get("sessions") or ()):
        return True
    return bool(event.get("address")) and await database_sync_to_async(session_address)(session_key) == event["address"]


def session_address(session_key: str | None) -> str | None:
    """Where the session signed in from, as its store says now (a request stamps sessions from before addresses)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store(session_key=session_key).get(SESSION_ADDRESS) if session_key else None
