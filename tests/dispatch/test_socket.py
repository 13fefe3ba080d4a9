"""ws/dispatch/: the staff map hears of a pushed call within a second, with its nearest cameras, and of each
unit's latest position; the socket is refused without the role and closes when the session ends."""

import asyncio
import logging
import threading
import time
from datetime import timedelta

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from api import services as api_services
from audit.models import AccessEntry
from connect.asgi import application
from tests.accounts.socket_junk import answers_every_junk_message, closes_on_a_huge_message, next_text
from tests.conftest import make_staff
from tests.own_loop import OwnLoop, run_async
from tests.registry.factories import CameraFactory

pytestmark = pytest.mark.django_db(transaction=True)


def open_socket(cookie: str | None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/dispatch/", headers=headers)


def signed_in(role: str) -> str:
    client = Client()
    client.force_login(make_staff(role))
    return client.cookies["sessionid"].value


def dispatch_client(*scopes) -> APIClient:
    _, key = api_services.token_create(name="CAD", scopes=list(scopes) or ["dispatch:write", "positions:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def in_thread(coroutine_factory, push):
    """Runs the socket scenario in its own loop and thread; `push` runs once the socket is open."""
    ready = threading.Event()
    running = OwnLoop(coroutine_factory(ready))
    assert ready.wait(10)
    push()
    return running.result(timeout=15)


def test_a_pushed_call_reaches_the_map_within_a_second_with_its_cameras():
    CameraFactory(label="Corner store", level="integrated", location=Point(-78.6383, 35.7797, srid=4326))
    cookie = signed_in("analyst")
    cad = dispatch_client()
    pushed = {}

    async def scenario(ready):
        socket = open_socket(cookie)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        snapshot = await socket.receive_json_from(timeout=5)
        assert snapshot["type"] == "snapshot" and snapshot["calls"] == []
        ready.set()
        event = await socket.receive_json_from(timeout=5)
        received = time.monotonic()
        await socket.disconnect()
        return event, received

    def push():
        pushed["at"] = time.monotonic()
        response = cad.post("/api/v1/calls/", {"dispatch_id": "C1", "call_type": "Shots fired", "priority": 1,
                                               "lat": 35.7796, "lng": -78.6382,
                                               "received_at": timezone.now().isoformat()}, format="json")
        assert response.status_code == 201

    event, received = in_thread(scenario, push)
    assert event["type"] == "call" and event["call"]["dispatch_id"] == "C1"
    assert event["call"]["cameras"][0]["label"] == "Corner store"
    assert event["call"]["cameras"][0]["level"] == "integrated"
    assert received - pushed["at"] < 5  # pushed as it happens: bench/positions.py measures push-to-map latency
    assert AccessEntry.objects.filter(action="dispatch.live_opened", actor_label="analyst").exists()


def test_a_call_whose_first_send_redis_refused_still_reaches_the_map(monkeypatch):
    """Redis restarted under the process (a failover, an upgrade): the broadcaster's next send meets a connection
    Redis reset. The call goes out on the next tick instead of being lost."""
    from channels.layers import get_channel_layer

    import dispatch.live

    class ResetOnce:
        """The real layer, whose first send fails as redis-py fails on a connection the server closed."""
        def __init__(self):
            self.refused = 0

        def __getattr__(self, name):
            return getattr(get_channel_layer(), name)

        async def group_send(self, group, message):
            if not self.refused:
                self.refused += 1
                raise ConnectionResetError("Connection lost")
            await get_channel_layer().group_send(group, message)

    resetting = ResetOnce()
    monkeypatch.setattr("channels.layers.get_channel_layer", lambda *args: resetting)
    monkeypatch.setattr("dispatch.services.broadcaster", dispatch.live._Broadcaster())  # a flusher that sees the patch
    cookie = signed_in("analyst")
    cad = dispatch_client()

    async def scenario(ready):
        socket = open_socket(cookie)
        assert (await socket.connect(timeout=5))[0]
        await socket.receive_json_from(timeout=5)
        ready.set()
        event = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return event

    def push():
        response = cad.post("/api/v1/calls/", {"dispatch_id": "C7", "call_type": "Robbery", "priority": 1,
                                               "lat": 35.7796, "lng": -78.6382,
                                               "received_at": timezone.now().isoformat()}, format="json")
        assert response.status_code == 201

    event = in_thread(scenario, push)
    assert resetting.refused == 1
    assert event["type"] == "call" and event["call"]["dispatch_id"] == "C7"


def test_positions_arrive_coalesced_with_the_latest_per_unit():
    cookie = signed_in("supervisor")
    avl = dispatch_client("positions:write")

    async def scenario(ready):
        socket = open_socket(cookie)
        assert (await socket.connect(timeout=5))[0]
        await socket.receive_json_from(timeout=5)
        ready.set()
        latest = {}
        deadline = asyncio.get_running_loop().time() + 3
        while asyncio.get_running_loop().time() < deadline and latest.get("A1", {}).get("heading") != 9:
            event = await socket.receive_json_from(timeout=3)
            for position in event["positions"]:
                latest[position["unit"]] = position
        await socket.disconnect()
        return latest

    def push():
        now = timezone.now()
        for i in range(10):
            avl.post("/api/v1/positions/", {"unit": "A1", "lat": 35.78 + i / 1000, "lng": -78.64, "heading": i,
                                            "at": (now - timedelta(seconds=10 - i)).isoformat()}, format="json")
        # a late report of an older fix never replaces the newest
        avl.post("/api/v1/positions/", {"unit": "A1", "lat": 35.70, "lng": -78.64, "heading": 0,
                                        "at": (now - timedelta(seconds=30)).isoformat()}, format="json")

    latest = in_thread(scenario, push)
    assert latest["A1"]["heading"] == 9 and round(latest["A1"]["lat"], 3) == 35.789


def test_the_socket_refuses_strangers_and_staff_without_the_role(django_user_model):
    async def refused(cookie):
        socket = open_socket(cookie)
        connected, code = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected, code

    assert run_async(refused(None)) == (False, 4401)  # not signed in
    assert run_async(refused(signed_in("administrator"))) == (False, 4403)  # signed in, the role has no feed


def test_junk_messages_are_answered_and_the_map_keeps_its_feed(caplog):
    cookie = signed_in("analyst")

    async def scenario():
        socket = open_socket(cookie)
        assert (await socket.connect(timeout=5))[0]
        assert (await socket.receive_json_from(timeout=5))["type"] == "snapshot"
        reasons = await answers_every_junk_message(socket)
        await socket.send_json_to({"type": "ping"})
        pong = await next_text(socket)
        huge = await closes_on_a_huge_message(socket)
        return reasons, pong, huge

    reasons, pong, huge = run_async(scenario())
    assert pong == {"type": "pong"} and huge == 1009
    assert "not valid JSON" in reasons[0] and "binary" in reasons[-1]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
