"""Live integration fixtures: an integrated camera with a signed share, a trained analyst, an incident
nearby, JPEG frames, and helpers to drive the sockets through the real ASGI application and Redis."""

import asyncio
import io
from datetime import timedelta

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone
from PIL import Image

from integration import services
from integration.models import LiveShare, TrainingRecord
from registry.models import Camera
from tests import own_loop
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

ALL_HOURS = {day: ["00:00", "24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
LIMITS = {"hours": ALL_HOURS, "incident_required": True, "incident_radius_m": 300, "max_session_minutes": 30,
          "notify_each_view": False}


@pytest.fixture(autouse=True)
def _evidence_dir(settings, tmp_path):
    """Stills are evidence: keep them out of the checkout's evidence folder."""
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def share_camera(camera: Camera, **limits) -> LiveShare:
    return services.live_share_sign(camera=camera, signed_name=camera.owner.name, ip="127.0.0.1",
                                    limits={**LIMITS, **limits})


@pytest.fixture
def live_camera(db):
    camera = CameraFactory(owner=OwnerFactory(kind="business", name="Corner Grocery"), label="Store front")
    share_camera(camera)
    camera.refresh_from_db()
    return camera


REASON = "Following a suspect vehicle north"


@pytest.fixture
def token(live_camera):
    """A connector token for the live camera, as its owner issues it."""
    return services.connector_token_issue(camera=live_camera, by="owner")


@pytest.fixture
def session(live_camera, analyst, incident_near):
    """The analyst's open live session on the camera, for the incident nearby."""
    return services.live_session_open(user=analyst, camera=live_camera, incident=incident_near, reason=REASON)


def trained(user, *, days_ago: int = 30, hours: int = 4):
    TrainingRecord.objects.create(user=user, completed_on=timezone.localdate() - timedelta(days=days_ago), hours=hours)
    return user


@pytest.fixture
def analyst(db):
    return trained(make_staff("analyst"))


@pytest.fixture
def incident_near(db):
    # 110 m from the camera factory's default spot downtown.
    return IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326))


def jpeg(width=320, height=240, color=(200, 180, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="JPEG", quality=90)
    return out.getvalue()


def pixel(frame: bytes, x: int, y: int) -> tuple:
    with Image.open(io.BytesIO(frame)) as image:
        return image.convert("RGB").getpixel((x, y))


def run_async(coroutine, timeout: float = 30):
    # A thread of its own: Playwright's tests may leave an event loop running in this one. A fresh channel
    # layer too: a layer receives on one loop at a time, and the previous test's loop is gone.
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    return own_loop.run_async(coroutine, timeout)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def connector_socket(camera_code, token: str | None):
    from connect.asgi import application

    headers = [(b"host", b"127.0.0.1")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return WebsocketCommunicator(application, f"/ws/connector/{camera_code}/", headers=headers)


def viewer_socket(session_code, cookie: str | None):
    from connect.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, f"/ws/live/{session_code}/", headers=headers)


async def receive_json_type(socket, wanted: str, timeout: float = 5):
    """The next JSON message of type `wanted`, skipping others (binary frames included)."""
    import json

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await socket.receive_output(timeout=max(0.01, deadline - loop.time()))
        if message["type"] == "websocket.close":
            raise AssertionError(f"socket closed with {message.get('code')} while waiting for {wanted}")
        if message.get("text"):
            body = json.loads(message["text"])
            if body.get("type") == wanted:
                return body


async def receive_frame(socket, timeout: float = 5) -> bytes:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await socket.receive_output(timeout=max(0.01, deadline - loop.time()))
        if message["type"] == "websocket.close":
            raise AssertionError(f"socket closed with {message.get('code')} while waiting for a frame")
        if message.get("bytes"):
            return message["bytes"]


async def receive_close(socket, timeout: float = 5) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await socket.receive_output(timeout=max(0.01, deadline - loop.time()))
        if message["type"] == "websocket.close":
            return message.get("code")

