"""The incident wall: the integrated cameras around an incident opened as live views, each through the same gate as a
single view; their frames on one socket, multiplexed by tile; ordered nearest and facing first, then toward a
direction of flight."""

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.gis.geos import Point
from django.utils import timezone

from audit.models import AccessEntry
from integration import services, wall
from integration.models import LiveSession
from registry.models import Camera
from registry.owner_history import history_rows
from requests_app import services as requests_services
from tests.accounts.socket_junk import JUNK, answers_every_junk_message, closes_after_too_many
from tests.conftest import make_staff
from tests.integration.conftest import (
    connector_socket,
    jpeg,
    receive_json_type,
    run_async,
    session_cookie,
    share_camera,
    trained,
)
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

SPOT = (35.7800, -78.6382)  # lat, lng
M_LAT, M_LNG = 1 / 111_320, 1 / 90_320  # degrees per metre here
REASON = "Robbery suspect fled on foot"


def at(north_m=0.0, east_m=0.0) -> Point:
    return Point(SPOT[1] + east_m * M_LNG, SPOT[0] + north_m * M_LAT, srid=4326)


def camera(label, *, north_m=0.0, east_m=0.0, direction=90, fov=90, range_m=30, shared=True, owner_name=None, **limits):
    made = CameraFactory(owner=OwnerFactory(kind="business", name=owner_name or f"Owner of {label}"), label=label,
                         location=at(north_m, east_m), direction_deg=direction, field_of_view_deg=fov, range_m=range_m)
    if shared:
        share_camera(made, **limits)
        made.refresh_from_db()
    return made


@pytest.fixture
def spot_incident(db):
    return IncidentFactory(location=at(), radius_m=300)


@pytest.fixture
def around(db):
    """A faces the spot from 40 m north; B is nearest (20 m east) looking away; C is 100 m south, D 150 m west."""
    return {"A": camera("A north", north_m=40, direction=180, range_m=60),
            "B": camera("B east", east_m=20, direction=90),
            "C": camera("C south", north_m=-100, direction=0),
            "D": camera("D west", east_m=-150, direction=270)}


def labels(cameras) -> list[str]:
    return [c.label[0] for c in cameras]


# --- order ------------------------------------------------------------------------------------------------------

def test_the_wall_puts_cameras_facing_the_spot_first_then_the_nearest(around):
    ordered = wall.wall_cameras(point=at())
    assert labels(ordered) == ["A", "B", "C", "D"]
    assert ordered[0].facing and not ordered[1].facing
    assert 15 < ordered[1].distance_m < 25


def test_a_direction_of_flight_puts_the_cameras_ahead_first(around):
    assert labels(wall.wall_cameras(point=at(), heading=180)) == ["C", "B", "D", "A"]  # south: C ahead, A behind
    assert labels(wall.wall_cameras(point=at(), heading=270)) == ["D", "A", "C", "B"]  # west: D ahead, B behind
    codes = [str(c.code) for c in around.values()]
    assert labels(wall.wall_reorder(point=at(), codes=codes, heading=0)) == ["A", "B", "D", "C"]


def test_the_wall_takes_at_most_the_configured_number_and_only_integrated_cameras(around, settings):
    camera("E registered only", east_m=5, shared=False)
    settings.WALL_CAMERAS = 3
    assert labels(wall.wall_cameras(point=at())) == ["A", "B", "C"]


def test_the_order_endpoint_reorders_the_walls_cameras_for_analysts_only(around, client):
    query = {"lat": SPOT[0], "lng": SPOT[1], "heading": "180", "camera": [str(c.code) for c in around.values()]}
    client.force_login(make_staff("investigator"))
    assert client.get("/live/wall/order.json", query).status_code == 403
    client.force_login(trained(make_staff("analyst")))
    body = client.get("/live/wall/order.json", query).json()
    assert [c["label"][0] for c in body["cameras"]] == ["C", "B", "D", "A"]


# --- gate -------------------------------------------------------------------------------------------------------

def open_wall(client, incident, reason=REASON, heading=None):
    return client.post("/live/wall/open/", json.dumps({"incident": str(incident.code), "lat": SPOT[0], "lng": SPOT[1],
                                                       "reason": reason, "heading": heading}),
                       content_type="application/json")


def test_the_wall_opens_only_the_cameras_the_gate_allows_and_says_why_for_the_others(spot_incident, client):
    near = camera("Near grocery", east_m=20, owner_name="Casey Grocer")
    far = camera("Far garage", east_m=-150, incident_radius_m=50)  # the owner allows only incidents within 50 m
    paused = camera("Paused shop", north_m=60)
    services.live_share_pause(camera=paused, until=timezone.now() + timedelta(hours=1))
    camera("Registered only", east_m=10, shared=False)
    analyst = trained(make_staff("analyst"))
    client.force_login(analyst)

    response = open_wall(client, spot_incident)
    assert response.status_code == 201
    tiles = {t["camera"]["label"]: t for t in response.json()["tiles"]}
    assert set(tiles) == {"Near grocery", "Far garage", "Paused shop"}  # never a camera that is not integrated
    assert tiles["Near grocery"]["session"] and not tiles["Near grocery"]["refused"]
    assert tiles["Far garage"]["session"] is None and "50 m" in tiles["Far garage"]["refused"]
    assert tiles["Paused shop"]["session"] is None and "paused" in tiles["Paused shop"]["refused"]
    assert "Casey" not in response.content.decode() and "@" not in response.content.decode()  # no owner data

    # Each tile is a live view like any other: counted, time-boxed, in its owner's history.
    session = LiveSession.objects.get(camera=near)
    assert session.analyst == analyst and session.reason == REASON and session.incident == spot_incident
    assert session.ends_by <= timezone.now() + timedelta(minutes=30)
    started = AccessEntry.objects.get(action="live.started")
    assert started.owner_code == str(near.owner.code) and started.camera_code == str(near.code)
    history = history_rows(owner=near.owner)
    assert any("started watching live" in json.dumps(row, default=str) for row in history)
    refused = AccessEntry.objects.filter(action="live.refused")
    assert {e.camera_code for e in refused} == {str(far.code), str(paused.code)}
    opened = AccessEntry.objects.get(action="live.wall_opened")
    assert opened.detail["cameras"] == 3 and opened.detail["opened"] == 1


def test_an_analyst_without_training_opens_no_tile(spot_incident, around, client):
    untrained = make_staff("analyst")
    client.force_login(untrained)
    tiles = open_wall(client, spot_incident).json()["tiles"]
    assert len(tiles) == 4
    assert all(t["session"] is None and "no privacy training" in t["refused"] for t in tiles)
    assert not LiveSession.objects.exists()


def test_roles_without_live_viewing_and_strangers_cannot_open_a_wall(spot_incident, around, client):
    assert open_wall(client, spot_incident).status_code == 401
    assert client.get(f"/live/wall/?incident={spot_incident.code}").status_code == 302  # to sign in
    for role in ("investigator", "auditor"):
        client.force_login(make_staff(role))
        assert open_wall(client, spot_incident).status_code == 403
        assert client.get(f"/live/wall/?incident={spot_incident.code}").status_code == 403
    assert not LiveSession.objects.exists()


def test_a_wall_needs_a_reason_and_a_spot(spot_incident, around, client):
    client.force_login(trained(make_staff("analyst")))
    response = open_wall(client, spot_incident, reason="short")
    assert response.status_code == 400 and "at least 10" in response.json()["detail"]
    bad = client.post("/live/wall/open/", json.dumps({"lat": "north", "lng": 3, "reason": REASON}),
                      content_type="application/json")
    assert bad.status_code == 400 and "lat and lng" in bad.json()["detail"]
    assert not LiveSession.objects.exists()
    page = client.get(f"/live/wall/?case={spot_incident.case_number}")
    assert page.status_code == 200 and spot_incident.case_number in page.content.decode()


def test_the_incident_admin_page_links_the_wall_for_those_who_may_watch_live(spot_incident, client):
    page = f"/admin/requests_app/incident/{spot_incident.pk}/change/"
    client.force_login(trained(make_staff("supervisor")))
    assert f'/live/wall/?incident={spot_incident.code}' in client.get(page).content.decode()
    investigator = make_staff("investigator")
    requests_services.incident_investigators_set(incident=spot_incident, users=[investigator])
    client.force_login(investigator)
    response = client.get(page)
    assert response.status_code == 200 and "/live/wall/" not in response.content.decode()


# --- the socket -------------------------------------------------------------------------------------------------

def wall_socket(cookie: str):
    from connect.asgi import application

    return WebsocketCommunicator(application, "/ws/wall/", headers=[
        (b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", f"sessionid={cookie}".encode())])


async def frames_by_slot(socket, connectors: dict, wanted: set, timeout: float = 8) -> dict[int, bytes]:
    """Pushes a frame from each connector until a frame of every slot in `wanted` arrived."""
    loop = asyncio.get_running_loop()
    deadline, got = loop.time() + timeout, {}
    while loop.time() < deadline and not wanted <= set(got):
        for (connector, frame) in connectors.values():
            await connector.send_to(bytes_data=frame)
        while not await socket.receive_nothing(timeout=0.2, interval=0.02):
            message = await socket.receive_output()
            if message.get("bytes"):
                got[message["bytes"][0]] = message["bytes"][1:]
    assert wanted <= set(got), f"frames of slots {wanted - set(got)} never came"
    return got


@pytest.fixture
def two_live(spot_incident, transactional_db):
    cameras = [camera("Near grocery", east_m=20), camera("Corner bakery", north_m=40, direction=180, range_m=60)]
    tokens = [services.connector_token_issue(camera=c, by="owner") for c in cameras]
    return cameras, tokens


@pytest.mark.django_db(transaction=True)
def test_one_socket_carries_every_tile_and_stop_sharing_closes_only_that_tile(spot_incident, two_live):
    (grocery, bakery), tokens = two_live
    analyst = trained(make_staff("analyst"))
    tiles = wall.wall_open(user=analyst, point=at(), incident=spot_incident, reason=REASON)
    sessions = {t.camera.label: str(t.session.code) for t in tiles}
    cookie = session_cookie(analyst)
    red, blue = jpeg(color=(220, 20, 20)), jpeg(color=(20, 20, 220))

    async def scenario():
        connectors = {}
        for cam, token, frame in ((grocery, tokens[0], red), (bakery, tokens[1], blue)):
            socket = connector_socket(cam.code, token)
            assert (await socket.connect(timeout=5))[0]
            await receive_json_type(socket, "hello")
            connectors[cam.label] = (socket, frame)
        view = wall_socket(cookie)
        assert (await view.connect(timeout=5))[0]
        slots = {}
        for label, code in sessions.items():
            await view.send_json_to({"type": "watch", "session": code})
            opened = await receive_json_type(view, "tile")
            assert opened["session"] == code and opened["case"] == spot_incident.case_number
            slots[label] = opened["slot"]
            await receive_json_type(connectors[label][0], "start")  # watched: the connector streams
        got = await frames_by_slot(view, connectors, set(slots.values()))
        assert got[slots["Near grocery"]] == red and got[slots["Corner bakery"]] == blue

        # Scrolled out: no frame of that tile is sent while the other's still are, and its connector stops (nobody
        # else watches that camera); back in sight, it starts again.
        await view.send_json_to({"type": "unwatch", "session": sessions["Corner bakery"]})
        await receive_json_type(connectors["Corner bakery"][0], "stop", timeout=3)
        await asyncio.sleep(0.3)  # let frames already in flight arrive
        while not await view.receive_nothing(timeout=0.2):
            await view.receive_output()
        got = await frames_by_slot(view, connectors, {slots["Near grocery"]})
        assert slots["Corner bakery"] not in got
        await view.send_json_to({"type": "watch", "session": sessions["Corner bakery"]})
        await receive_json_type(connectors["Corner bakery"][0], "start", timeout=3)
        await frames_by_slot(view, connectors, {slots["Corner bakery"]})

        # The grocer stops sharing: that tile ends and says why, the bakery's goes on.
        await sync_to_async(services.live_share_stop)(camera=grocery)
        ended = await receive_json_type(view, "tile_ended", timeout=3)
        assert ended["session"] == sessions["Near grocery"] and "stopped sharing" in ended["reason"]
        got = await frames_by_slot(view, {"b": connectors["Corner bakery"]}, {slots["Corner bakery"]})
        assert slots["Near grocery"] not in got

        # Closing a tile ends its view and the connector stops: nobody watches it now.
        await view.send_json_to({"type": "close", "session": sessions["Corner bakery"]})
        assert (await receive_json_type(view, "tile_ended"))["session"] == sessions["Corner bakery"]
        await receive_json_type(connectors["Corner bakery"][0], "stop", timeout=3)
        await view.disconnect(code=1000)
        for socket, _frame in connectors.values():
            await socket.disconnect()

    run_async(scenario(), timeout=60)
    ends = dict(LiveSession.objects.values_list("camera__label", "end_reason"))
    assert ends == {"Near grocery": "owner_stopped", "Corner bakery": "viewer_closed"}


@pytest.mark.django_db(transaction=True)
def test_the_wall_socket_opens_no_one_elses_session_and_nothing_for_a_lapsed_training(spot_incident, two_live):
    (grocery, _bakery), _tokens = two_live
    analyst, other = trained(make_staff("analyst")), trained(make_staff("supervisor"))
    mine = services.live_session_open(user=analyst, camera=grocery, incident=spot_incident, reason=REASON)
    theirs = services.live_session_open(user=other, camera=_bakery, incident=spot_incident, reason=REASON)
    # The analyst's training lapses after the wall opened: the tile is refused when the socket asks for it.
    analyst.training_records.update(completed_on=timezone.localdate() - timedelta(days=4000))

    async def scenario():
        view = wall_socket(session_cookie(analyst))
        assert (await view.connect(timeout=5))[0]
        for code in (str(theirs.code), str(mine.code), "not-a-code"):
            await view.send_json_to({"type": "watch", "session": code})
            ended = await receive_json_type(view, "tile_ended")
            assert ended["session"] == code
            assert ("training expired" in ended["reason"]) == (code == str(mine.code))
        assert await view.receive_nothing(timeout=0.5)  # not a frame
        await view.disconnect(code=1000)

    run_async(scenario())
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.ended_at is not None and mine.watched_at is None and theirs.ended_at is None


def test_the_camera_level_in_the_test_data_is_integrated(around):
    assert all(c.level == Camera.Level.INTEGRATED for c in around.values())


@pytest.mark.django_db(transaction=True)
def test_the_wall_socket_answers_junk_and_closes_after_too_much_ending_its_tiles(spot_incident, two_live):
    (grocery, _bakery), _tokens = two_live
    analyst = trained(make_staff("analyst"))
    session = services.live_session_open(user=analyst, camera=grocery, incident=spot_incident, reason=REASON)
    cookie = session_cookie(analyst)

    async def scenario():
        view = wall_socket(cookie)
        assert (await view.connect(timeout=5))[0]
        await view.send_json_to({"type": "watch", "session": str(session.code)})
        await receive_json_type(view, "tile")
        reasons = await answers_every_junk_message(view)
        code = await closes_after_too_many(view)
        return reasons, code

    reasons, code = run_async(scenario())
    assert len(reasons) == len(JUNK) and code == 4400
    session.refresh_from_db()
    assert session.ended_at is not None  # no tile outlives its socket
