"""An incident wall across a Redis outage, end to end (uvicorn, channels-redis, the frame relay, the real connector,
this checkout's own Redis stopped and started): the wall says why its pictures stopped, and once Redis is back each
tile reopens only if its rules still pass; a camera whose owner stopped sharing meanwhile ends in its tile."""

import asyncio
import json

import pytest
import websockets

from integration import services, wall
from integration.models import LiveSession
from tests.conftest import make_staff, start_connector
from tests.integration.conftest import REASON, run_async, session_cookie, trained
from tests.integration.test_redis_outage import DEADLINE, redis
from tests.integration.test_wall import at, camera
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_restored():
    from tests.connect.private_redis import private_redis

    yield
    private_redis("start")


def test_a_tile_whose_owner_stopped_sharing_in_the_outage_ends_and_the_others_reopen(asgi_server, redis_restored):
    incident = IncidentFactory(location=at(), radius_m=300)
    grocery, bakery = camera("Near grocery", east_m=20), camera("Corner bakery", north_m=40, direction=180, range_m=60)
    connectors = [start_connector(asgi_server, c.code, services.connector_token_issue(camera=c, by="owner"), fps=8)
                  for c in (grocery, bakery)]
    analyst = trained(make_staff("analyst"))
    sessions = {t.camera.label: str(t.session.code)
                for t in wall.wall_open(user=analyst, point=at(), incident=incident, reason=REASON)}
    cookie = session_cookie(analyst)

    async def scenario():
        headers = {"Cookie": f"sessionid={cookie}", "Origin": asgi_server}
        async with websockets.connect(asgi_server.replace("http", "ws") + "/ws/wall/", max_size=2**22,
                                      additional_headers=headers) as ws:
            slots = {}
            for code in sessions.values():
                await ws.send(json.dumps({"type": "watch", "session": code}))
            async with asyncio.timeout(DEADLINE):
                seen = set()
                async for message in ws:
                    if isinstance(message, bytes):
                        seen.add(message[0])
                    elif json.loads(message)["type"] == "tile":
                        slots[json.loads(message)["session"]] = json.loads(message)["slot"]
                    if len(slots) == 2 and seen >= set(slots.values()):
                        break
            await redis("stop")
            async with asyncio.timeout(DEADLINE):
                async for message in ws:
                    if isinstance(message, str) and json.loads(message)["type"] == "interrupted":
                        break
            await asyncio.get_running_loop().run_in_executor(None, lambda: services.live_share_stop(camera=grocery))
            await redis("start")
            told, frames_after = {}, set()
            async with asyncio.timeout(DEADLINE):
                async for message in ws:
                    if isinstance(message, bytes):
                        assert sessions["Corner bakery"] in told, "a frame before its tile said it is live again"
                        frames_after.add(message[0])
                        if slots[sessions["Corner bakery"]] in frames_after and len(told) == 2:
                            break
                        continue
                    body = json.loads(message)
                    if body["type"] in ("tile", "tile_ended"):
                        told[body["session"]] = body
            await ws.close(1000)
            return slots, told, frames_after

    try:
        slots, told, frames_after = run_async(scenario(), timeout=5 * DEADLINE)
    finally:
        for process in connectors:
            process.terminate()
            process.wait(timeout=10)
    assert told[sessions["Near grocery"]]["type"] == "tile_ended"
    assert "stopped sharing" in told[sessions["Near grocery"]]["reason"]
    assert told[sessions["Corner bakery"]]["type"] == "tile"
    assert slots[sessions["Near grocery"]] not in frames_after
    assert LiveSession.objects.get(camera=grocery).end_reason == LiveSession.EndReason.OWNER_STOPPED
