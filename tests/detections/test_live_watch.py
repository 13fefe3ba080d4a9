"""Live watches ("alert me when a match appears") through the real ASGI application, channel layer and Redis relay:
a rendered figure on a connector's live picture is marked on its analyst's view; a watch for someone else is not;
another analyst gets nothing; a detector crash pauses the watch and the picture goes on; everything in the ledger."""

import asyncio

import cv2
import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from guardian.shortcuts import assign_perm

from audit import transparency
from audit.actions import Action
from audit.models import AccessEntry
from detections import live, services, synthetic
from detections.models import LiveWatch, LiveWatchMatch
from integration import services as integration_services
from requests_app.services import incident_close
from tests.conftest import make_staff_named
from tests.detections.conftest import SUSPECT
from tests.integration import conftest as live_fixtures
from tests.integration.conftest import (
    connector_socket,
    receive_close,
    receive_frame,
    receive_json_type,
    run_async,
    session_cookie,
    trained,
    viewer_socket,
)

pytestmark = pytest.mark.django_db(transaction=True)
# The live fixtures: an integrated camera, its connector token, a trained analyst, a case nearby, its live session.
analyst, live_camera, token = live_fixtures.analyst, live_fixtures.live_camera, live_fixtures.token
incident_near, session = live_fixtures.incident_near, live_fixtures.session
WANTED = {"kind": "person", "upper_colour": "red", "hat": True, "hat_colour": "white", "bag": True}
SOMEONE_ELSE = {"kind": "person", "upper_colour": "yellow", "lower_colour": "green"}


def rendered_frame() -> bytes:
    """The live picture of a test-pattern camera showing the known figure (red top, white hat, backpack)."""
    figure = synthetic.Figure(**{**SUSPECT.__dict__, "x": 500, "dx": 0, "start_s": 0.0})
    ok, jpeg = cv2.imencode(".jpg", synthetic.frame_at(0, [figure], [], synthetic.background(960, 540)),
                            [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return jpeg.tobytes()


def watch_socket(session_code, cookie):
    from connect.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", f"sessionid={cookie}".encode())]
    return WebsocketCommunicator(application, f"/ws/watch/{session_code}/", headers=headers)


@pytest.fixture
def searcher(analyst, incident_near):
    """The analyst may search the case (assigned to it)."""
    assign_perm("requests_app.view_incident", analyst, incident_near)
    return analyst


def watch(user, incident, criteria=WANTED):
    return services.watch_set(user=user, incident=incident, criteria=criteria, reason="Robbery suspect seen on foot",
                              minutes=30)


async def live_with_watch(camera_code, token_, session_, cookie):
    connector = connector_socket(camera_code, token_)
    assert (await connector.connect(timeout=5))[0]
    await receive_json_type(connector, "hello")
    viewer = viewer_socket(session_.code, cookie)
    assert (await viewer.connect(timeout=5))[0]
    await receive_json_type(viewer, "session")
    await receive_json_type(connector, "start")
    marks = watch_socket(session_.code, cookie)
    assert (await marks.connect(timeout=5))[0]
    return connector, viewer, marks


async def feed_until(connector, socket, wanted: str, frame: bytes, timeout: float = 40):
    """Sends frames ten a second until `socket` says `wanted` (the watch samples about one a second)."""
    pending = asyncio.ensure_future(receive_json_type(socket, wanted, timeout=timeout))
    while not pending.done():
        await connector.send_to(bytes_data=frame)
        await asyncio.sleep(0.1)
    return pending.result()


def test_a_known_figure_on_a_live_view_is_marked_and_a_watch_for_someone_else_is_not(
        live_camera, token, session, searcher, incident_near):
    wanted, other = watch(searcher, incident_near), watch(searcher, incident_near, SOMEONE_ELSE)
    cookie = session_cookie(searcher)

    async def scenario():
        connector, viewer, marks = await live_with_watch(live_camera.code, token, session, cookie)
        listed = await receive_json_type(marks, "watches", timeout=10)
        assert {w["watch"] for w in listed["watches"]} == {str(wanted.code), str(other.code)}
        shown = [await feed_until(connector, marks, "mark", rendered_frame())]
        shown.append(await feed_until(connector, marks, "mark", rendered_frame()))
        await receive_frame(viewer)  # the picture itself went on
        for socket in (marks, viewer, connector):
            await socket.disconnect()
        return shown

    shown = run_async(scenario(), timeout=90)
    assert {mark["watch"] for mark in shown} == {str(wanted.code)}
    first = shown[0]
    assert first["new"] and "red top" in first["label"] and "white hat" in first["label"]
    x, y, w, h = first["box"]
    assert 0.25 < x < 0.45 and 0.05 < w < 0.25 and 0.3 < h < 0.6  # a box around the figure, as fractions of it
    assert not shown[1]["new"] and shown[1]["match"] == first["match"]  # the same sighting, not a second match
    assert LiveWatchMatch.objects.filter(watch=wanted).count() == 1
    assert not LiveWatchMatch.objects.filter(watch=other).exists()
    checked = AccessEntry.objects.get(action=Action.LIVE_WATCH_CHECKED)
    assert checked.owner_code == str(live_camera.owner.code)
    assert sorted(checked.detail["watches"]) == sorted([str(wanted.code), str(other.code)])
    match_entry = AccessEntry.objects.get(action=Action.LIVE_WATCH_MATCH_SHOWN)
    assert match_entry.case_number == incident_near.case_number and match_entry.owner_code == checked.owner_code
    assert Action.LIVE_WATCH_MATCH_SHOWN.owner_sees and Action.LIVE_WATCH_CHECKED.owner_sees
    assert AccessEntry.objects.filter(action=Action.LIVE_WATCH_SET).count() == 2
    month = transparency.monthly(months=1)[-1]  # the public report counts them
    assert (month["live_watches"], month["live_watch_matches"]) == (2, 1)


def test_another_analyst_gets_no_marks(live_camera, session, searcher, incident_near):
    watch(searcher, incident_near)
    stranger = trained(make_staff_named("analyst", "analyst2"))
    # Their own live view of the same camera for the same case, but the case is not theirs to search.
    theirs = integration_services.live_session_open(user=stranger, camera=live_camera, incident=incident_near,
                                                    reason="Looking at the corner for another case")
    cookie = session_cookie(stranger)

    async def scenario():
        codes = []
        for code in (session.code, theirs.code):  # the searcher's view, then their own
            socket = watch_socket(code, cookie)
            await socket.connect(timeout=5)
            codes.append(await receive_close(socket))
        return codes

    assert run_async(scenario()) == [4404, 4404]


def test_a_detector_crash_pauses_the_watch_and_the_picture_goes_on(live_camera, token, session, searcher,
                                                                   incident_near, monkeypatch):
    wanted = watch(searcher, incident_near)

    def crashing(*_args):
        raise RuntimeError("the detector fell over")

    monkeypatch.setattr(live, "frame_check", crashing)
    cookie = session_cookie(searcher)

    async def scenario():
        connector, viewer, marks = await live_with_watch(live_camera.code, token, session, cookie)
        paused = await feed_until(connector, marks, "watch_paused", rendered_frame())
        await connector.send_to(bytes_data=rendered_frame())
        frame = await receive_frame(viewer)
        for socket in (marks, viewer, connector):
            await socket.disconnect()
        return paused, frame

    paused, frame = run_async(scenario(), timeout=90)
    assert "the detector fell over" in paused["reason"]
    assert frame.startswith(b"\xff\xd8")
    wanted.refresh_from_db()
    assert wanted.state == LiveWatch.State.PAUSED and "the detector fell over" in wanted.note
    page = Client()
    page.force_login(searcher)
    body = page.get(f"/cases/{incident_near.code}/search/").content.decode()
    assert "paused: RuntimeError: the detector fell over" in body


def test_a_watch_set_from_the_search_page_ends_with_the_case(searcher, incident_near):
    page = Client()
    page.force_login(searcher)
    url = f"/cases/{incident_near.code}/search/"
    refused = page.post(url, {"kind": "person", "reason": "Robbery suspect", "action": "watch", "minutes": "30"})
    assert refused.status_code == 400 and "Pick at least one attribute" in refused.content.decode()
    made = page.post(url, {"kind": "person", "upper_colour": "red", "hat": "on", "bag": "on", "since": "",
                           "reason": "Robbery suspect", "action": "watch", "minutes": "30"})
    assert made.status_code == 302
    watch_ = LiveWatch.objects.get()
    assert watch_.criteria == {"kind": "person", "upper_colour": "red", "hat": True, "bag": True}
    assert "on until" in page.get(url).content.decode()
    incident_close(incident=incident_near, user=searcher)
    watch_.refresh_from_db()
    assert watch_.state == LiveWatch.State.ENDED and watch_.note == "the case was closed"
    assert AccessEntry.objects.filter(action=Action.LIVE_WATCH_ENDED).count() == 1


def test_a_watch_ends_at_its_time_limit_and_only_searchers_of_the_case_reach_it(searcher, incident_near):
    made = watch(searcher, incident_near)
    stranger = make_staff_named("analyst", "analyst2")  # may search, but not this case
    other = Client()
    other.force_login(stranger)
    url = f"/cases/{incident_near.code}/search/"
    assert other.post(url, {"kind": "person", "upper_colour": "red", "reason": "Just looking around",
                            "action": "watch", "minutes": "30"}).status_code == 404
    assert other.post(f"/cases/{incident_near.code}/watches/{made.code}/end/").status_code == 404
    assert LiveWatch.objects.get().state == LiveWatch.State.ON
    LiveWatch.objects.filter(pk=made.pk).update(ends_at=made.set_at)  # its 30 minutes are over
    page = Client()
    page.force_login(searcher)
    assert "ended: its time limit was reached" in page.get(url).content.decode()
    assert AccessEntry.objects.get(action=Action.LIVE_WATCH_ENDED).case_number == incident_near.case_number
