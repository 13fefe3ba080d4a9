"""ws/staff/ closes within 5 seconds when the user signs out, is disabled or loses their role."""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from connect.asgi import application
from tests.accounts.socket_junk import (
    answers_every_junk_message,
    closes_after_too_many,
    closes_on_a_huge_message,
    next_text,
)
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def open_socket(cookie: str | None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/staff/", headers=headers)


def run_async(coroutine):
    # A thread of its own: Playwright's tests may leave an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


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
        assert message["type"] == "websocket.close" and message["code"] == 4403
        await socket.wait()
        return loop.time() - started

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(asyncio.run, scenario())
        assert opened.wait(10)
        revoke()
        return future.result(timeout=15)


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


def test_a_lock_closes_the_socket_and_it_cannot_reconnect():
    from accounts.services import sign_in_failed

    _, _, cookie = signed_in("investigator")

    def lock():
        for attempt in range(5):
            sign_in_failed(username="investigator", address=f"198.51.100.{attempt}")

    assert closes_after(cookie, lock) < 5
    assert not connects(cookie)


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
