"""The staff sockets (live views, the map's dispatch feed, the staff socket) refuse an outside agency's account,
whatever roles it was given: their shared check (accounts.consumers.staff_scope_allowed) asks the central guard."""

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from common.socket_messages import Close
from connect.asgi import application
from tests.agencies.conftest import agency_user, roles_present
from tests.own_loop import run_async

pytestmark = pytest.mark.django_db(transaction=True)


def _refused(path: str, cookie: str):
    async def attempt():
        socket = WebsocketCommunicator(application, path, headers=[
            (b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", f"sessionid={cookie}".encode())])
        connected, code = await socket.connect(timeout=5)
        while connected:  # the live view accepts first, then says why and closes
            output = await socket.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                connected, code = False, output.get("code")
        await socket.disconnect()
        return connected, code

    return run_async(attempt())


@pytest.mark.parametrize("path", ["/ws/staff/", "/ws/dispatch/", "/ws/live/6f1c2f0e-8f0e-4a55-9d0b-1f2e3d4c5b6a/"])
def test_staff_sockets_refuse_an_agency_account_with_every_role(federal, path):
    """Refused as not signed in as staff (4401) or not allowed (4403): never let on to look for a session."""
    client = Client()
    client.force_login(agency_user(federal, "agent", with_every_role=True))
    connected, code = _refused(path, client.cookies["sessionid"].value)
    # The live socket lets an agency's person in to watch their own approved view (tests/agencies/test_live_view.py):
    # a session that is not theirs is answered as any analyst's guess is, "this live view has ended".
    refusals = (Close.UNAUTHENTICATED, Close.FORBIDDEN) + ((Close.ENDED,) if path.startswith("/ws/live/") else ())
    assert not connected and code in refusals


def test_the_same_roles_without_the_agency_tie_open_the_staff_socket(federal):
    """The check above fails for the tie, not for something else about the account."""
    from django.contrib.auth.models import Group, User

    from common import roles

    roles_present()
    user = User.objects.create_user("analyst2", is_staff=True)
    user.groups.set(Group.objects.filter(name__in=list(roles.ROLES)))
    client = Client()
    client.force_login(user)

    async def attempt():
        socket = WebsocketCommunicator(application, "/ws/staff/", headers=[
            (b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"),
            (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())])
        connected, _code = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected

    assert run_async(attempt())
