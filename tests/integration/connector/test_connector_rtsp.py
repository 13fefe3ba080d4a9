"""The connector, installed from its own package, reading a real RTSP camera (GStreamer's RTSP server) and
delivering its picture through connect (uvicorn, Redis, PostGIS) to an analyst's live view; the camera rebooting;
a wrong camera password."""

import asyncio
import io
import logging
import os
import re
import subprocess
import time
import urllib.parse

import pytest
from connect_connector.sources import AccessRefused, AVSource, open_source
from PIL import Image

from integration import services
from tests.integration.conftest import REASON, run_async, session_cookie
from tests.integration.test_end_to_end import frames_from, open_view

PASSWORD = "p@ss word:7"  # characters a URL must escape, so both spellings can be looked for in the logs
SECRETS = (PASSWORD, urllib.parse.quote(PASSWORD, safe=""))


def camera_url(camera, password: str = PASSWORD) -> str:
    return camera.url(password=urllib.parse.quote(password, safe=""))


def colour(frame: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(frame)) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def is_red(frame: bytes) -> bool:
    r, g, b = colour(frame)
    return r > 180 and g < 80 and b < 80


def is_blue(frame: bytes) -> bool:
    r, g, b = colour(frame)
    return b > 180 and r < 80 and g < 80


def wait_for(predicate, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.1)


class Connector:
    """The installed ``connect-connector``, configured the way the systemd unit does it: CONNECTOR_* variables,
    nothing secret on the command line."""

    def __init__(self, program, log_path, *, server, camera, token, source):
        env = {**os.environ, "CONNECTOR_SERVER": server, "CONNECTOR_CAMERA": str(camera.code),
               "CONNECTOR_TOKEN": token, "CONNECTOR_SOURCE": source, "CONNECTOR_WIDTH": "320"}
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen([str(program), "--verbose"], env=env, stdout=log,
                                            stderr=subprocess.STDOUT)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, pattern: str, count: int = 1, timeout: float = 60) -> None:
        wait_for(lambda: len(re.findall(pattern, self.log)) >= count or self.process.poll() is not None,
                 f"{count} x {pattern!r} in the connector's log", timeout)
        assert self.process.poll() is None, f"the connector exited with {self.process.returncode}:\n{self.log}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def connectors(installed_connector, tmp_path):
    started = []

    def start(**options) -> Connector:
        connector = Connector(installed_connector, tmp_path / f"connector-{len(started)}.log", **options)
        started.append(connector)
        return connector

    yield start
    for connector in started:
        connector.stop()


pytestmark = pytest.mark.django_db(transaction=True)


def test_an_rtsp_camera_reaches_the_analyst_and_comes_back_after_a_reboot(
        asgi_server, live_camera, analyst, incident_near, rtsp_camera, connectors):
    camera = rtsp_camera(user="viewer", password=PASSWORD, pattern="red")
    token = services.connector_token_issue(camera=live_camera, by="owner")
    connector = connectors(server=asgi_server, camera=live_camera, token=token, source=camera_url(camera))
    connector.wait_for_log("the source works; connecting")
    session = services.live_session_open(user=analyst, camera=live_camera, incident=incident_near, reason=REASON)
    cookie = session_cookie(analyst)

    async def scenario():
        async with open_view(asgi_server, session, cookie) as view:
            before = await frames_from(view, 3, timeout=60)
            camera.stop()  # the power goes: no goodbye on the RTSP connection
            await asyncio.to_thread(connector.wait_for_log, r"trying again in \d+ s", 2)  # backing off
            camera.start(pattern="blue")  # back, showing something else
            async with asyncio.timeout(90):
                while not is_blue(after := (await frames_from(view, 1, timeout=90))[0]):
                    pass
            return before, after

    before, after = run_async(scenario(), timeout=180)
    assert all(is_red(frame) for frame in before), [colour(frame) for frame in before]
    assert Image.open(io.BytesIO(after)).size == (320, 240)
    log = connector.log
    assert "the source works again" in log
    delays = [int(seconds) for seconds in re.findall(r"source failed: .*; trying again in (\d+) s", log)]
    assert delays[:2] == [1, 2] and delays == sorted(delays), log  # backoff, not a tight loop
    assert connector.stop() == 0
    assert "rtsp://viewer:***@127.0.0.1" in log
    assert not any(secret in log for secret in (*SECRETS, token)), log


def test_a_wrong_camera_password_is_said_clearly_and_retried_only_rarely(
        asgi_server, live_camera, rtsp_camera, connectors, caplog):
    camera = rtsp_camera(user="viewer", password=PASSWORD)
    token = services.connector_token_issue(camera=live_camera, by="owner")
    with caplog.at_level(logging.INFO, logger="integration.consumers.connector"):
        connector = connectors(server=asgi_server, camera=live_camera, token=token,
                               source=camera_url(camera, "not the password"))
        connector.wait_for_log(r"the camera refused the user name or password .*; trying again in \d+ s")
        # It goes on to connect, and tells the server, so the camera shows as failing there.
        wait_for(lambda: "reports its source failing" in caplog.text, "the server to hear of the failure")
        seen_at_first = camera.clients
        time.sleep(2)  # room for a tight loop to show itself; the next try is due in 300 s
    assert camera.clients == seen_at_first == 1, "the connector knocked again at once: cameras lock accounts"
    assert connector.process.poll() is None, "a wrong password must not stop the connector: it is retried"
    log = connector.log
    assert "trying again in 300 s" in log
    assert "rtsp://viewer:***@127.0.0.1" in log
    assert "refused the user name or password" in caplog.text
    for text in (log, caplog.text):
        assert "not the password" not in text and "not%20the%20password" not in text
        assert token not in text


def test_an_rtsp_camera_without_a_password_is_drained_undecoded_until_someone_watches(rtsp_camera):
    camera = rtsp_camera()
    source = open_source(camera.url())
    source.open()
    try:
        assert source.grab(active=False, want=False, width=160) is None  # packets taken off the wire, dropped
        image = source.grab(active=True, want=True, width=160)  # from the next keyframe on
        assert image.size == (160, 120)
    finally:
        source.close()


def test_a_refused_password_is_its_own_kind_of_failure(rtsp_camera):
    camera = rtsp_camera(user="viewer", password=PASSWORD)
    with pytest.raises(AccessRefused) as refused:
        AVSource(camera_url(camera, "wrong"), live=True).open()
    assert str(refused.value).startswith(f"rtsp://viewer:***@127.0.0.1:{camera.port}/stream: the camera refused "
                                         "the user name or password")
