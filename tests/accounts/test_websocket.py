"""ws/staff/ closes within 5 seconds when the user signs out, is disabled, loses their role or a lock from the address
its session signed in from ends that session; a stranger's failures elsewhere leave it open."""

import asyncio
import logging
import threading

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from connect.asgi import application
from tests.accounts.addresses import HOME, OFFICE, STRANGER, signed_in_from
from tests.accounts.socket_junk import (
    answers_every_junk_message,
    closes_after_too_many,
    closes_on_a_huge_message,
    next_text,
)
from tests.conftest import make_staff
from tests.own_loop import OwnLoop, run_async

pytestmark = pytest.mark.django_db(transaction=True)


def open_socket(cookie: str | None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/staff/", headers=headers)


def closes_after(cookie: str, revoke) -> float:
    opened = threading.Event()

    async def scenario():
        socket = open_socket(cookie)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
        opened.set()
        loop = asyncio.get_running_loop()
        started = loop.time()
        message = await socket.receive_output(timeout=5)  # raises if nothing comes within 5 s
        assert message["type"] == "websocket.close" and message["code"] == 4401  # the sign-in ended
        await socket.wait()
        return loop.time() - started

    running = OwnLoop(scenario())
    assert opened.wait(10)
    revoke()
    return running.result(timeout=15)


def signed_in(role: str):
    user = make_staff(role)
    client = Client()
    client.force_login(user)
    return user, client, client.cookies["sessionid"].value


def test_signing_out_closes_the_socket():
    _, client, cookie = signed_in("analyst")
    assert closes_after(cookie, client.logout) < 5


def test_disabling_the_account_closes_the_socket():
    user, _, cookie = signed_in("investigator")

    def disable():
        user.is_active = False
        user.save()

    assert closes_after(cookie, disable) < 5


def test_removing_the_role_closes_the_socket():
    user, _, cookie = signed_in("supervisor")
    assert closes_after(cookie, user.groups.clear) < 5


def test_anonymous_and_staff_without_a_role_are_refused(django_user_model):
    async def attempt(cookie):
        socket = open_socket(cookie)
        connected, code = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected, code

    assert run_async(attempt(None)) == (False, 4401)
    user = django_user_model.objects.create_user("norole", is_staff=True)
    client = Client()
    client.force_login(user)
    assert run_async(attempt(client.cookies["sessionid"].value)) == (False, 4401)


def test_a_foreign_origin_is_refused():
    _, _, cookie = signed_in("analyst")

    async def attempt():
        socket = WebsocketCommunicator(application, "/ws/staff/", headers=[
            (b"origin", b"https://evil.example"), (b"cookie", f"sessionid={cookie}".encode())])
        connected, _ = await socket.connect(timeout=5)
        return connected

    assert run_async(attempt()) is False


def connects(cookie: str) -> bool:
    async def attempt():
        socket = open_socket(cookie)
        connected, _ = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected

    return run_async(attempt())


def test_signing_out_in_one_browser_closes_and_shuts_out_the_other_browsers_socket():
    user, laptop, _ = signed_in("analyst")
    phone = Client()
    phone.force_login(user)
    phone_cookie = phone.cookies["sessionid"].value
    assert closes_after(phone_cookie, laptop.logout) < 5
    assert not connects(phone_cookie)  # no reconnecting with the old session


def test_failures_from_the_sessions_own_address_close_its_socket_and_it_cannot_reconnect():
    from accounts.services import sign_in_failed

    make_staff("investigator")
    cookie = signed_in_from("investigator", OFFICE).cookies["sessionid"].value

    def lock():
        for _ in range(5):
            sign_in_failed(username="investigator", address=OFFICE)

    assert closes_after(cookie, lock) < 5
    assert not connects(cookie)


def stays_open(cookie: str, fail) -> bool:
    """`fail` runs while the socket is open; the socket then still answers, and still after a while."""
    opened_now = threading.Event()

    async def scenario():
        socket = await opened(cookie)
        opened_now.set()
        await asyncio.get_running_loop().run_in_executor(None, fail)
        answers = []
        for _ in range(2):
            await socket.send_json_to({"type": "ping"})
            answers.append(await next_text(socket))
            assert await socket.receive_nothing(timeout=1)  # no close arrives late either
        await socket.disconnect()
        return answers == [{"type": "pong"}] * 2

    return run_async(scenario())


def test_a_strangers_failures_from_other_addresses_leave_the_socket_and_the_session_working():
    from accounts.services import sign_in_failed

    make_staff("investigator")
    office = signed_in_from("investigator", OFFICE)
    cookie = office.cookies["sessionid"].value

    def strangers_fail():
        for attempt in range(5):  # from five addresses: the name-wide lock
            sign_in_failed(username="investigator", address=f"198.51.100.{attempt}")
        for _ in range(5):  # and from one: that address's lock
            sign_in_failed(username="investigator", address=STRANGER)

    assert stays_open(cookie, strangers_fail)
    assert connects(cookie)  # the session was not ended
    assert office.get("/map/").status_code == 200


def test_a_lock_from_one_address_closes_only_the_socket_signed_in_from_there():
    from accounts.services import sign_in_failed

    make_staff("investigator")
    office_cookie = signed_in_from("investigator", OFFICE).cookies["sessionid"].value
    home_cookie = signed_in_from("investigator", HOME).cookies["sessionid"].value

    def lock():
        for _ in range(5):
            sign_in_failed(username="investigator", address=OFFICE)

    async def scenario():
        office, home = await opened(office_cookie), await opened(home_cookie)
        await asyncio.get_running_loop().run_in_executor(None, lock)
        closed = await office.receive_output(timeout=5)  # raises if nothing comes within 5 s
        await home.send_json_to({"type": "ping"})
        pong = await next_text(home)
        assert await home.receive_nothing(timeout=1)
        await home.disconnect()
        return closed, pong

    closed, pong = run_async(scenario())
    assert (closed["type"], closed["code"]) == ("websocket.close", 4401) and pong == {"type": "pong"}
    assert connects(home_cookie) and not connects(office_cookie)


async def opened(cookie: str):
    socket = open_socket(cookie)
    assert (await socket.connect(timeout=5))[0]
    assert (await socket.receive_json_from(timeout=5))["type"] == "hello"
    return socket


def test_junk_messages_are_answered_and_the_socket_keeps_working(caplog):
    _, _, cookie = signed_in("analyst")

    async def scenario():
        socket = await opened(cookie)
        reasons = await answers_every_junk_message(socket)
        await socket.send_json_to({"type": "ping"})
        pong = await next_text(socket)
        await socket.disconnect()
        return reasons, pong

    reasons, pong = run_async(scenario())
    assert pong == {"type": "pong"}  # still open, still answering
    assert "not valid JSON" in reasons[0] and "JSON object" in reasons[2] and "unknown message type" in reasons[8]
    assert "binary" in reasons[-1]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_huge_message_closes_the_socket_as_too_big():
    _, _, cookie = signed_in("analyst")

    async def scenario():
        return await closes_on_a_huge_message(await opened(cookie))

    assert run_async(scenario()) == 1009


def test_a_stream_of_junk_closes_the_socket():
    _, _, cookie = signed_in("analyst")

    async def scenario():
        return await closes_after_too_many(await opened(cookie))

    assert run_async(scenario()) == 4400
