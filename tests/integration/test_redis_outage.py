"""Live views across a Redis outage (issue 15, item 5), end to end: uvicorn serving connect, the real channels-redis
layer and frame relay, the real camera connector, and this checkout's own Redis stopped and started again.

Before, Redis going away killed every websocket consumer with an unhandled exception: the analyst read "The live view
closed." with no reason, and connectors backed off to about a minute. Now the analyst's socket stays open and says
why the picture stopped; once Redis is back the view reopens if, and only if, the rules still pass."""

import asyncio
import json
import logging
import re

import pytest
import websockets
from django.utils import timezone

from integration import services
from integration.models import LiveSession
from tests.conftest import start_connector, wait_for
from tests.connect.private_redis import private_redis
from tests.integration.conftest import REASON, run_async, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)
DEADLINE = 60  # generous: a loaded machine must not turn this red; nothing here measures speed


def open_view(server_url: str, session, cookie: str):
    return websockets.connect(server_url.replace("http", "ws") + f"/ws/live/{session.code}/",
                              additional_headers={"Cookie": f"sessionid={cookie}", "Origin": server_url},
                              max_size=2**22)


async def next_text(view, kind: str, *, frames_allowed: bool = True) -> dict:
    """The next text message of `kind`; frames in between are skipped (or fail the test when not allowed)."""
    async with asyncio.timeout(DEADLINE):
        while True:
            message = await view.recv()
            if isinstance(message, bytes):
                assert frames_allowed, f"a frame arrived while waiting for {kind!r}"
                continue
            parsed = json.loads(message)
            if parsed["type"] == kind:
                return parsed
            assert parsed["type"] not in ("ended", "interrupted"), f"{parsed} while waiting for {kind!r}"


async def next_frame(view) -> bytes:
    async with asyncio.timeout(DEADLINE):
        while True:
            message = await view.recv()
            if isinstance(message, bytes):
                return message
            assert json.loads(message)["type"] not in ("ended", "interrupted"), message


async def redis(action: str) -> None:
    await asyncio.get_running_loop().run_in_executor(None, private_redis, action)


@pytest.fixture
def connector_of(asgi_server, live_camera, token):
    started = []

    def start():
        started.append(start_connector(asgi_server, live_camera.code, token, fps=8))
        return started[-1]

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_restored():
    yield
    private_redis("start")  # whatever the test did, the next one finds Redis up (a no-op when it is)


@pytest.fixture
def unhandled(caplog):
    """What uvicorn logged as an unhandled exception of the application (in this process: the server's thread)."""
    caplog.set_level(logging.ERROR, logger="uvicorn.error")
    return lambda: [r.getMessage() for r in caplog.records if "Exception in ASGI application" in r.getMessage()]


def test_the_view_says_why_it_stopped_and_reopens_when_redis_is_back(
        asgi_server, connector_of, live_camera, session, analyst, redis_restored, unhandled):
    connector_of()
    cookie = session_cookie(analyst)

    async def scenario():
        async with open_view(asgi_server, session, cookie) as view:
            await next_text(view, "session")
            await next_frame(view)
            await redis("stop")
            interrupted = await next_text(view, "interrupted")
            await redis("start")
            # No frame between the interruption and the reopening: a frozen picture would pass for live.
            reopened = await next_text(view, "session", frames_allowed=False)
            after = await next_frame(view)
            await view.close(1000)
            return interrupted, reopened, after

    interrupted, reopened, frame = run_async(scenario(), timeout=4 * DEADLINE)
    assert interrupted["reason"] == "The live service lost its connection; reopening…"
    assert reopened["session"] == str(session.code) and frame[:2] == b"\xff\xd8"
    # One session from start to end, closed by the analyst: no second view, no ledger entry of a lost one.
    wait_for(lambda: LiveSession.objects.get(pk=session.pk).end_reason == LiveSession.EndReason.VIEWER_CLOSED,
             timeout=DEADLINE, what="the view's end recorded as closed by the analyst")
    assert LiveSession.objects.count() == 1
    assert not unhandled()


def test_a_view_whose_owner_stopped_sharing_during_the_outage_does_not_reopen(
        asgi_server, connector_of, live_camera, session, analyst, redis_restored, unhandled):
    connector_of()
    cookie = session_cookie(analyst)

    async def scenario():
        async with open_view(asgi_server, session, cookie) as view:
            await next_frame(view)
            await redis("stop")
            await next_text(view, "interrupted")
            # The owner presses "Stop sharing now" while Redis is away: the message to the viewers is lost.
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: services.live_share_stop(camera=live_camera))
            await redis("start")
            ended = await next_text(view, "ended", frames_allowed=False)
            try:
                async with asyncio.timeout(DEADLINE):
                    async for message in view:
                        assert not isinstance(message, bytes), "a frame after the owner stopped sharing"
            except websockets.ConnectionClosed:
                pass
            return ended, view.close_code

    ended, code = run_async(scenario(), timeout=4 * DEADLINE)
    assert "owner stopped sharing" in ended["reason"] and code in (4403, 4404)
    assert LiveSession.objects.get(pk=session.pk).end_reason == LiveSession.EndReason.OWNER_STOPPED
    assert not unhandled()


def test_a_connector_that_meets_the_outage_comes_back_within_seconds_for_a_waiting_analyst(
        asgi_server, connector_of, live_camera, analyst, incident_near, redis_restored, unhandled):
    cookie = session_cookie(analyst)
    session = services.live_session_open(user=analyst, camera=live_camera, incident=incident_near, reason=REASON)

    async def scenario():
        await redis("stop")
        connector = await asyncio.get_running_loop().run_in_executor(None, connector_of)
        async with open_view(asgi_server, session, cookie) as view:
            # Opened during the outage: told why there is no picture, and admitted once Redis is back.
            interrupted = await next_text(view, "interrupted")
            await asyncio.sleep(12)  # the connector's own backoff would be past 8 s by now
            await redis("start")
            await next_text(view, "session", frames_allowed=False)
            await next_frame(view)
            await view.close(1000)
        return interrupted, connector

    interrupted, connector = run_async(scenario(), timeout=4 * DEADLINE)
    assert "lost its connection" in interrupted["reason"]
    connector.terminate()
    log = connector.communicate(timeout=10)[1].decode()
    # The server said when to come back (an analyst was waiting), and the connector never waited longer.
    assert "asks to connect again within 2 s" in log, log
    delays = [float(d) for d in re.findall(r"close code 4503.*?connecting again in ([\d.]+) s", log)]
    assert len(delays) >= 3 and max(delays) <= 2.0, log
    assert not unhandled()


def test_the_dispatch_map_says_it_lost_the_feed_and_catches_up_when_redis_is_back(asgi_server, redis_restored,
                                                                                   unhandled):
    from dispatch import services as dispatch_services
    from tests.conftest import make_staff

    cookie = session_cookie(make_staff("analyst"))

    def call(dispatch_id: str) -> None:
        dispatch_services.call_receive(dispatch_id=dispatch_id, call_type="Burglary", priority=2, latitude=35.7796,
                                       longitude=-78.6382, received_at=timezone.now())

    async def scenario():
        in_thread = asyncio.get_running_loop().run_in_executor
        async with websockets.connect(asgi_server.replace("http", "ws") + "/ws/dispatch/",
                                      additional_headers={"Cookie": f"sessionid={cookie}",
                                                          "Origin": asgi_server}) as feed:
            first = await next_json(feed, "snapshot")
            await redis("stop")
            interrupted = await next_json(feed, "interrupted")
            await in_thread(None, call, "D-1")  # pushed while Redis is away: its event is lost
            await redis("start")
            caught_up = await next_json(feed, "snapshot")
            await in_thread(None, call, "D-2")  # the restarted Redis forgot the group: the socket joined it again
            heard = await next_json(feed, "call")
            return first, interrupted, caught_up, heard

    first, interrupted, caught_up, heard = run_async(scenario(), timeout=4 * DEADLINE)
    assert first["calls"] == [] and "lost its connection" in interrupted["reason"]
    assert [c["dispatch_id"] for c in caught_up["calls"]] == ["D-1"]
    assert heard["call"]["dispatch_id"] == "D-2"
    assert not unhandled()


async def next_json(feed, kind: str) -> dict:
    async with asyncio.timeout(DEADLINE):
        while True:
            message = json.loads(await feed.recv())
            if message["type"] == kind:
                return message


def test_a_sign_out_during_the_outage_closes_the_staff_socket_once_redis_is_back(asgi_server, analyst,
                                                                                 redis_restored, unhandled):
    from importlib import import_module

    from django.conf import settings

    cookie = session_cookie(analyst)

    async def scenario():
        async with websockets.connect(asgi_server.replace("http", "ws") + "/ws/staff/",
                                      additional_headers={"Cookie": f"sessionid={cookie}",
                                                          "Origin": asgi_server}) as socket:
            await next_json(socket, "hello")
            await redis("stop")
            # Signed out elsewhere while Redis is away: the message that would close this socket is lost.
            store = import_module(settings.SESSION_ENGINE).SessionStore
            await asyncio.get_running_loop().run_in_executor(None, lambda: store(session_key=cookie).delete())
            await redis("start")
            try:
                async with asyncio.timeout(DEADLINE):
                    async for _ in socket:
                        pass
            except websockets.ConnectionClosed:
                pass
            return socket.close_code

    assert run_async(scenario(), timeout=4 * DEADLINE) == 4401
    assert not unhandled()
