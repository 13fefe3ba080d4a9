"""The live sockets through the real ASGI application, channel layer and Redis relay: who may connect,
what reaches a viewer (masked), and how fast a view closes when the owner stops sharing."""

import asyncio
import io
import json
import logging
import os
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from PIL import Image

from audit.models import AccessEntry
from integration import services
from integration.models import LiveSession
from requests_app.services import incident_close
from tests.accounts.socket_junk import (
    JUNK,
    answers_every_junk_message,
    closes_after_too_many,
    closes_on_a_huge_message,
)
from tests.conftest import make_staff
from tests.integration.conftest import (
    connector_socket,
    jpeg,
    pixel,
    receive_close,
    receive_frame,
    receive_json_type,
    run_async,
    session_cookie,
    viewer_socket,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def connected_pair(camera_code, token, session, cookie):
    """A connector that was told to start and a viewer that is watching."""
    connector = connector_socket(camera_code, token)
    assert (await connector.connect(timeout=5))[0]
    hello = await receive_json_type(connector, "hello")
    assert hello["max_bytes"] > 0
    viewer = viewer_socket(session.code, cookie)
    assert (await viewer.connect(timeout=5))[0]
    info = await receive_json_type(viewer, "session")
    assert info["case"] == session.incident.case_number
    await receive_json_type(connector, "start")
    return connector, viewer


async def push_until_frame(connector, viewer, frame: bytes, timeout: float = 5) -> bytes:
    """Sends frames until one reaches the viewer (the viewer's relay subscription may still be settling)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await connector.send_to(bytes_data=frame)
        # receive_nothing waits without consuming; a timed-out receive would cancel the application.
        if not await viewer.receive_nothing(timeout=0.3, interval=0.02):
            return await receive_frame(viewer)
    raise AssertionError("no frame reached the viewer")


def test_frames_reach_the_viewer_and_stop_when_nobody_watches(live_camera, token, session, analyst):
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        frame = jpeg()
        received = await push_until_frame(connector, viewer, frame)
        assert received == frame  # no masks: the very bytes the camera sent
        await viewer.disconnect(code=1000)
        await receive_json_type(connector, "stop")
        await connector.disconnect()

    run_async(scenario())
    session.refresh_from_db()
    assert session.end_reason == "viewer_closed" and session.watched_at is not None
    ended = AccessEntry.objects.get(action="live.ended")
    assert ended.detail["end_reason"] == "viewer_closed" and ended.detail["minutes"] is not None


def test_masked_regions_are_black_in_what_the_viewer_receives(live_camera, token, session, analyst):
    services.privacy_masks_set(camera=live_camera, masks=[[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]]])
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        received = await push_until_frame(connector, viewer, jpeg(320, 240, (250, 250, 250)))
        await viewer.disconnect(code=1000)
        await connector.disconnect()
        return received

    frame = run_async(scenario())
    assert max(pixel(frame, 40, 40)) <= 8 and max(pixel(frame, 150, 110)) <= 8  # inside the mask: black
    assert min(pixel(frame, 250, 200)) >= 240  # outside: untouched


def test_stop_sharing_closes_every_view_within_a_second(live_camera, token, session, analyst):
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await push_until_frame(connector, viewer, jpeg())
        started = time.monotonic()
        await sync_to_async(services.live_share_stop)(camera=live_camera)
        ended = await receive_json_type(viewer, "ended", timeout=2)
        code = await receive_close(viewer, timeout=2)
        elapsed = time.monotonic() - started
        await receive_json_type(connector, "stop", timeout=2)
        assert await receive_close(connector, timeout=2) == 4403
        return ended, code, elapsed

    ended, code, elapsed = run_async(scenario())
    assert "stopped sharing" in ended["reason"] and code == 4403
    assert elapsed < 5, f"the view closed {elapsed:.2f} s after the owner stopped sharing"  # pushed, not polled
    session.refresh_from_db()
    assert session.end_reason == "owner_stopped"


def test_pausing_closes_the_view_and_the_connector(live_camera, token, session, analyst):
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await sync_to_async(services.live_share_pause)(camera=live_camera, until=timezone.now() + timedelta(hours=1))
        ended = await receive_json_type(viewer, "ended", timeout=2)
        assert await receive_close(connector, timeout=2) == 4403
        return ended

    assert "paused sharing until" in run_async(scenario())["reason"]


def test_closing_the_case_closes_its_live_views_within_a_second(live_camera, token, session, analyst,
                                                                incident_near):
    cookie = session_cookie(analyst)
    investigator = make_staff("investigator")

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await push_until_frame(connector, viewer, jpeg())
        started = time.monotonic()
        await sync_to_async(incident_close)(incident=incident_near, user=investigator)
        ended = await receive_json_type(viewer, "ended", timeout=2)
        code = await receive_close(viewer, timeout=2)
        elapsed = time.monotonic() - started
        await receive_json_type(connector, "stop", timeout=2)  # nobody watches now
        await connector.disconnect()
        return ended, code, elapsed

    ended, code, elapsed = run_async(scenario())
    assert ended["reason"] == f"Case {incident_near.case_number} is closed." and code == 4404
    assert elapsed < 5, f"the view closed {elapsed:.2f} s after the case was closed"  # pushed, not polled
    session.refresh_from_db()
    assert session.end_reason == "case_closed"
    entry = AccessEntry.objects.get(action="live.ended")
    assert entry.detail["end_reason"] == "case_closed" and entry.case_number == incident_near.case_number
    # what the transparency report groups live views by
    assert entry.detail["offense_type"] == incident_near.offense_type and entry.detail["district"]


def test_a_case_closed_while_its_message_was_lost_ends_the_view_with_the_same_code(live_camera, token, session,
                                                                                    analyst, incident_near,
                                                                                    monkeypatch):
    """The half-minute re-check finds what the lost message would have said, and closes as the message does."""
    from integration.consumers import live_view

    monkeypatch.setattr(live_view, "RECHECK_SECONDS", 0.5)
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        # Written straight to the database: no message reaches the view's socket.
        await sync_to_async(type(incident_near).objects.filter(pk=incident_near.pk).update)(status="closed")
        ended = await receive_json_type(viewer, "ended", timeout=5)
        code = await receive_close(viewer, timeout=2)
        await connector.disconnect()
        return ended, code

    ended, code = run_async(scenario())
    assert ended["reason"] == f"Case {incident_near.case_number} is closed." and code == 4404
    session.refresh_from_db()
    assert session.end_reason == "case_closed"


def test_the_view_ends_itself_at_the_session_limit(live_camera, token, session, analyst):
    LiveSession.objects.filter(pk=session.pk).update(ends_by=timezone.now() + timedelta(seconds=1.5))
    session.refresh_from_db()
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        ended = await receive_json_type(viewer, "ended", timeout=4)
        assert await receive_close(viewer) == 4404
        await receive_json_type(connector, "stop", timeout=3)
        return ended

    ended = run_async(scenario())
    assert "ended" in ended["reason"].lower() or "limit" in ended["reason"].lower()
    session.refresh_from_db()
    assert session.ended_at is not None and session.end_reason in ("time_limit", "hours_ended")


@pytest.mark.parametrize("bad_token", [None, "cct_wrong", "not-even-a-token"])
def test_a_connector_with_a_wrong_token_is_refused_and_recorded(live_camera, token, bad_token):
    async def scenario():
        connector = connector_socket(live_camera.code, bad_token)
        await connector.connect(timeout=5)
        error = await receive_json_type(connector, "error")
        return error, await receive_close(connector)

    error, code = run_async(scenario())
    assert code == 4401 and "wrong token" in error["reason"]
    assert AccessEntry.objects.filter(action="connector.refused", camera_code=str(live_camera.code)).exists()


def test_a_revoked_or_replaced_token_stops_working_and_cuts_the_connector_off(live_camera, token):
    async def scenario():
        connector = connector_socket(live_camera.code, token)
        await connector.connect(timeout=5)
        await receive_json_type(connector, "hello")
        await sync_to_async(services.connector_token_issue)(camera=live_camera, by="owner")
        assert await receive_close(connector, timeout=2) == 4401
        again = connector_socket(live_camera.code, token)
        await again.connect(timeout=5)
        return await receive_close(again)

    assert run_async(scenario()) == 4401


def test_a_connector_of_a_camera_not_shared_is_refused(live_camera, token):
    services.live_share_stop(camera=live_camera)

    async def scenario():
        connector = connector_socket(live_camera.code, token)
        await connector.connect(timeout=5)
        return await receive_close(connector)

    assert run_async(scenario()) == 4403


def test_bad_frames_are_refused_with_a_reason_and_recorded_once(live_camera, token, session, analyst, settings):
    settings.LIVE_FRAME_MAX_KB = 16
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        reasons = []
        for bad in (b"GIF89a not a jpeg", b"GIF89a again", jpeg(2000, 2000, (1, 2, 3))[:10] + b"\x00" * 17000):
            await connector.send_to(bytes_data=bad)
        for _ in range(2):
            reasons.append((await receive_json_type(connector, "error"))["reason"])
        good = await push_until_frame(connector, viewer, jpeg())
        await viewer.disconnect(code=1000)
        await connector.disconnect()
        return reasons, good

    reasons, good = run_async(scenario())
    assert any("not a JPEG" in r for r in reasons) and any("larger than the 16 KB" in r for r in reasons)
    assert good  # the connector keeps working after bad frames
    assert AccessEntry.objects.filter(action="connector.refused", reason="bad frame").count() == 2


def test_a_flooding_connector_is_throttled_then_cut_off(live_camera, token, session, analyst, settings):
    settings.LIVE_MAX_FPS = 2
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        frame = jpeg(64, 48)
        throttle = None
        for _ in range(40):
            await connector.send_to(bytes_data=frame)
        throttle = await receive_json_type(connector, "throttle")
        for _ in range(40):
            await connector.send_to(bytes_data=frame)
        code = await receive_close(connector)
        # The viewer is not disturbed: it is still open and answers.
        await viewer.send_to(text_data=json.dumps({"type": "ping"}))
        pong = await receive_json_type(viewer, "pong")
        await viewer.disconnect(code=1000)
        return throttle, code, pong

    throttle, code, pong = run_async(scenario())
    assert throttle["fps"] == 2 and code == 4429 and "dropped" in pong
    assert AccessEntry.objects.filter(action="connector.refused", reason__startswith="flooding").exists()


def test_a_viewer_cannot_open_someone_elses_session_or_open_it_twice(live_camera, session, analyst):
    other = make_staff("supervisor")
    other_cookie, own_cookie = session_cookie(other), session_cookie(analyst)

    async def scenario():
        stranger = viewer_socket(session.code, other_cookie)
        await stranger.connect(timeout=5)
        refused = await receive_close(stranger)
        anonymous = viewer_socket(session.code, None)
        await anonymous.connect(timeout=5)
        anonymous_code = await receive_close(anonymous)
        first = viewer_socket(session.code, own_cookie)
        await first.connect(timeout=5)
        await receive_json_type(first, "session")
        second = viewer_socket(session.code, own_cookie)
        await second.connect(timeout=5)
        duplicate = await receive_close(second)
        await first.disconnect(code=1000)
        return refused, anonymous_code, duplicate

    assert run_async(scenario()) == (4404, 4401, 4409)


def test_a_viewer_whose_training_lapsed_since_opening_is_refused(live_camera, session, analyst):
    analyst.training_records.all().delete()
    cookie = session_cookie(analyst)

    async def scenario():
        viewer = viewer_socket(session.code, cookie)
        await viewer.connect(timeout=5)
        ended = await receive_json_type(viewer, "ended")
        return ended, await receive_close(viewer)

    ended, code = run_async(scenario())
    assert code == 4403 and "training" in ended["reason"]
    session.refresh_from_db()
    assert session.ended_at is not None


def test_signing_the_analyst_out_closes_the_view(live_camera, token, session, analyst):
    from accounts.services import sessions_revoke

    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await sync_to_async(sessions_revoke)(user=analyst, reason="signed out")
        assert await receive_close(viewer, timeout=2) == 4401  # the sign-in ended: sign in again
        await connector.disconnect()

    run_async(scenario())
    session.refresh_from_db()
    assert session.end_reason == "access_lost"


def test_a_strangers_failures_elsewhere_leave_the_live_view_running(live_camera, token, session, analyst):
    """Lockout as a weapon (issue 12, item 6): a stranger's failed sign-ins, which lock the analyst's name from
    their address and everywhere for minutes, neither close the view nor end its session."""
    from accounts.services import sign_in_failed

    cookie = session_cookie(analyst)

    def strangers_fail():
        for attempt in range(5):
            sign_in_failed(username="analyst", address=f"203.0.113.{attempt}")
        for _ in range(5):
            sign_in_failed(username="analyst", address="198.51.100.66")

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await sync_to_async(strangers_fail)()
        await push_until_frame(connector, viewer, jpeg())
        await viewer.send_json_to({"type": "ping"})
        pong = await receive_json_type(viewer, "pong")
        await viewer.disconnect()
        await connector.disconnect()
        return pong

    assert run_async(scenario())["type"] == "pong"
    session.refresh_from_db()
    assert session.end_reason != "access_lost"


def test_a_still_is_saved_as_encrypted_evidence_of_the_case(live_camera, token, session, analyst):
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await push_until_frame(connector, viewer, jpeg())
        await viewer.send_to(text_data=json.dumps({"type": "still"}))
        saved = await receive_json_type(viewer, "still_saved")
        await viewer.disconnect(code=1000)
        await connector.disconnect()
        return saved

    saved = run_async(scenario())
    from requests_app.models import Clip

    clip = Clip.objects.get(code=saved["clip"])
    assert clip.incident == session.incident and clip.uploaded_by == analyst.username and clip.media_format
    entry = AccessEntry.objects.get(action="clip.still_taken")
    assert entry.owner_code == str(live_camera.owner.code) and entry.detail["sha256"] == clip.sha256


def test_a_frame_that_cannot_be_masked_is_never_sent(live_camera, token, session, analyst):
    services.privacy_masks_set(camera=live_camera, masks=[[[0, 0], [1, 0], [1, 1]]])
    cookie = session_cookie(analyst)
    noise = io.BytesIO()
    Image.frombytes("RGB", (320, 240), os.urandom(320 * 240 * 3)).save(noise, format="JPEG")
    broken = noise.getvalue()[:5000]  # a real JPEG header, then the picture data stops

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await connector.send_to(bytes_data=broken)
        error = await receive_json_type(connector, "error")
        sent = not await viewer.receive_nothing(timeout=1)
        good = await push_until_frame(connector, viewer, jpeg())
        await viewer.disconnect(code=1000)
        await connector.disconnect()
        return error, sent, good

    error, sent, good = run_async(scenario())
    assert "decodable" in error["reason"] and not sent and good


@pytest.mark.parametrize("withdraw", ["pause", "delete"])
def test_pausing_or_deleting_the_camera_itself_closes_its_views(live_camera, token, session, analyst, withdraw):
    from registry import services as registry_services

    cookie = session_cookie(analyst)

    def act():
        if withdraw == "pause":
            registry_services.camera_set_paused(camera=live_camera, paused=True)
        else:
            registry_services.owner_delete(owner=live_camera.owner)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await sync_to_async(act)()
        ended = await receive_json_type(viewer, "ended", timeout=2)
        return ended, await receive_close(viewer, timeout=2)

    ended, code = run_async(scenario())
    assert code == 4403 and ("paused" in ended["reason"] or "deleted" in ended["reason"])
    assert AccessEntry.objects.filter(action="live.ended", camera_code=str(live_camera.code)).exists()


def test_knocks_on_unknown_cameras_are_not_recorded_and_repeats_only_once_a_minute(live_camera, token):
    import uuid

    async def knock(code, bearer):
        connector = connector_socket(code, bearer)
        await connector.connect(timeout=5)
        return await receive_close(connector)

    async def scenario():
        codes = [await knock(uuid.uuid4(), "cct_nope") for _ in range(5)]
        codes += [await knock(live_camera.code, "cct_wrong") for _ in range(3)]
        return codes

    assert set(run_async(scenario())) == {4401}
    refused = AccessEntry.objects.filter(action="connector.refused")
    assert [entry.camera_code for entry in refused] == [str(live_camera.code)]


def test_a_second_connector_for_the_same_camera_is_refused(live_camera, token):
    async def scenario():
        first = connector_socket(live_camera.code, token)
        await first.connect(timeout=5)
        await receive_json_type(first, "hello")
        second = connector_socket(live_camera.code, token)
        await second.connect(timeout=5)
        error = await receive_json_type(second, "error")
        code = await receive_close(second)
        await first.disconnect()
        third = connector_socket(live_camera.code, token)  # once the first is gone, a new one is welcome
        await third.connect(timeout=5)
        await receive_json_type(third, "hello")
        await third.disconnect()
        return error, code

    error, code = run_async(scenario())
    assert code == 4409 and "already connected" in error["reason"]


def test_a_mask_saved_while_its_message_was_lost_applies_within_seconds(live_camera, token, session, analyst,
                                                                       monkeypatch):
    from integration.consumers import connector
    from integration.models import PrivacyMask

    monkeypatch.setattr(connector, "CONNECTOR_RECHECK_SECONDS", 0.5)
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        white = jpeg(320, 240, (250, 250, 250))
        before = await push_until_frame(connector, viewer, white)
        # Written straight to the database: no message reaches the connector's socket.
        await sync_to_async(PrivacyMask.objects.create)(camera=live_camera, points=[[0, 0], [1, 0], [1, 1], [0, 1]])
        await asyncio.sleep(1.2)
        after = await push_until_frame(connector, viewer, white)
        await viewer.disconnect(code=1000)
        await connector.disconnect()
        return before, after

    before, after = run_async(scenario())
    assert min(pixel(before, 160, 120)) >= 240 and max(pixel(after, 160, 120)) <= 8


def test_stills_are_limited_to_one_every_few_seconds(live_camera, token, session, analyst):
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        await push_until_frame(connector, viewer, jpeg())
        await viewer.send_to(text_data=json.dumps({"type": "still"}))
        await receive_json_type(viewer, "still_saved")
        await viewer.send_to(text_data=json.dumps({"type": "still"}))
        refused = await receive_json_type(viewer, "still_failed")
        await viewer.disconnect(code=1000)
        await connector.disconnect()
        return refused

    assert "One still every" in run_async(scenario())["reason"]


def errors_logged(caplog) -> list:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_junk_from_a_viewer_is_answered_and_the_view_goes_on(live_camera, token, session, analyst, caplog):
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        reasons = await answers_every_junk_message(viewer)
        await viewer.send_to(text_data=json.dumps({"type": "ping"}))
        pong = await receive_json_type(viewer, "pong")
        frame = await push_until_frame(connector, viewer, jpeg())
        await viewer.disconnect(code=1000)
        await connector.disconnect()
        return reasons, pong, frame

    reasons, pong, frame = run_async(scenario())
    assert "not valid JSON" in reasons[0] and "binary" in reasons[-1] and "dropped" in pong and frame == jpeg()
    assert not errors_logged(caplog)
    session.refresh_from_db()
    assert session.end_reason == "viewer_closed"


def test_a_viewer_sending_a_stream_of_junk_is_closed(live_camera, token, session, analyst, caplog):
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        code = await closes_after_too_many(viewer)
        await connector.disconnect()
        return code

    assert run_async(scenario()) == 4400 and not errors_logged(caplog)
    session.refresh_from_db()
    assert session.ended_at is not None


def test_a_huge_message_from_a_viewer_closes_it_as_too_big(live_camera, token, session, analyst):
    cookie = session_cookie(analyst)

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        code = await closes_on_a_huge_message(viewer)
        await connector.disconnect()
        return code

    assert run_async(scenario()) == 1009


def test_junk_text_from_a_connector_is_answered_and_frames_still_flow(live_camera, token, session, analyst, caplog):
    cookie = session_cookie(analyst)
    # Binary is how frames come; the connector's text limit is lower than the nesting junk.
    junk = [(what, message) for what, message in JUNK if "text" in message and len(message["text"]) < 4096] + [
        ("a status with a number for its source", {"text": '{"type": "status", "source": 1, "detail": ""}'}),
        ("a status without its detail", {"text": '{"type": "status", "source": "ok"}'}),
        ("a status of an unknown state", {"text": '{"type": "status", "source": "on fire", "detail": ""}'}),
    ]

    async def scenario():
        connector, viewer = await connected_pair(live_camera.code, token, session, cookie)
        reasons = await answers_every_junk_message(connector, junk)
        await connector.send_to(text_data=json.dumps({"type": "status", "source": "error", "detail": "no signal"}))
        quiet = await connector.receive_nothing(timeout=0.5)  # a good status needs no answer
        frame = await push_until_frame(connector, viewer, jpeg())
        code = await closes_on_a_huge_message(connector, "x" * 5000)
        await viewer.disconnect(code=1000)
        return reasons, quiet, frame, code

    reasons, quiet, frame, code = run_async(scenario())
    assert "not valid JSON" in reasons[0] and "'source' of type string" in reasons[-3] and "ok or error" in reasons[-1]
    assert quiet and frame == jpeg() and code == 1009
    assert AccessEntry.objects.filter(action="connector.refused", reason__contains="longer than").exists()
    assert not errors_logged(caplog)
