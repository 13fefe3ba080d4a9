"""Live pictures are sealed while they pass through Redis: someone subscribed to a camera's channel, or reading the
cache, sees no JPEG; a frame replayed onto another camera's channel reaches nobody; keys rotate without a gap."""

import asyncio
import base64
import os
import subprocess
import sys

import pytest
import redis
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client

from integration import live_crypto, services
from integration.relay import CHANNEL_PREFIX, Inbox, hub
from tests.conftest import sign_in_owner
from tests.integration.conftest import (
    connector_socket,
    jpeg,
    receive_frame,
    receive_json_type,
    run_async,
    session_cookie,
    viewer_socket,
)
from tests.registry.factories import CameraFactory

pytestmark = pytest.mark.django_db(transaction=True)
JPEG_MARKER = b"\xff\xd8\xff"


async def next_published(pubsub, timeout: float = 10) -> bytes:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message and message["type"] == "message":
            return message["data"]
    raise AssertionError("nothing was published on the camera's channel")


def test_a_redis_subscriber_on_the_cameras_channel_sees_no_jpeg(live_camera, token, session, analyst):
    cookie = session_cookie(analyst)
    frame = jpeg()

    async def scenario():
        eavesdropper = aioredis.Redis.from_url(settings.REDIS_URL, protocol=2)
        pubsub = eavesdropper.pubsub()
        await pubsub.subscribe(CHANNEL_PREFIX + str(live_camera.code))
        connector = connector_socket(live_camera.code, token)
        assert (await connector.connect(timeout=5))[0]
        await receive_json_type(connector, "start")
        viewer = viewer_socket(session.code, cookie)
        assert (await viewer.connect(timeout=5))[0]
        await receive_json_type(viewer, "session")
        overheard, received = [], None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while received is None and loop.time() < deadline:
            await connector.send_to(bytes_data=frame)
            overheard.append(await next_published(pubsub))
            if not await viewer.receive_nothing(timeout=0.3, interval=0.02):
                received = await receive_frame(viewer)
        await viewer.disconnect(code=1000)
        await connector.disconnect()
        await pubsub.aclose()
        await eavesdropper.aclose()
        return overheard, received

    overheard, received = run_async(scenario())
    assert received == frame  # the viewer still gets the very bytes the camera sent
    assert overheard and all(JPEG_MARKER not in message and frame not in message for message in overheard)


def test_the_owners_unmasked_still_is_sealed_in_redis(live_camera, token):
    services.still_for_masks_request(camera=live_camera)  # the connector is asked for a picture as it connects
    still = jpeg(color=(10, 120, 250))
    key = f"*live-still:{live_camera.code}"
    store = redis.Redis.from_url(settings.REDIS_URL)

    async def scenario():
        connector = connector_socket(live_camera.code, token)
        assert (await connector.connect(timeout=5))[0]
        await receive_json_type(connector, "snapshot")
        await connector.send_to(bytes_data=still)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not await sync_to_async(store.keys)(key):
            assert loop.time() < deadline, "the still never reached the cache"
            await asyncio.sleep(0.05)
        await connector.disconnect()

    run_async(scenario())
    [stored_key] = store.keys(key)
    stored = store.get(stored_key)
    assert JPEG_MARKER not in stored and still not in stored
    owner = Client()
    sign_in_owner(owner, live_camera.owner)
    response = owner.get(f"/owner/cameras/{live_camera.code}/live/still.jpg")
    assert response.status_code == 200 and response.content == still  # the owner sees their picture


def test_a_frame_replayed_onto_another_cameras_channel_reaches_none_of_its_viewers(live_camera):
    other = CameraFactory()
    frame = jpeg()

    async def scenario():
        relay = hub()
        captured_client = aioredis.Redis.from_url(settings.REDIS_URL, protocol=2)
        pubsub = captured_client.pubsub()
        await pubsub.subscribe(CHANNEL_PREFIX + str(live_camera.code))
        inbox = Inbox(10)
        await relay.join(str(other.code), inbox)
        await relay.publish(str(live_camera.code), frame)
        captured = await next_published(pubsub)
        # Replayed onto the other camera's channel: it must not open there.
        await captured_client.publish(CHANNEL_PREFIX + str(other.code), captured)
        # A frame sealed for the other camera does reach its viewers, and after the replay (one connection keeps
        # the order), so once it is in the inbox the replay has been handled.
        await relay.publish(str(other.code), jpeg(color=(1, 2, 3)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not inbox.frames:
            assert loop.time() < deadline, "the other camera's own frame never arrived"
            await asyncio.sleep(0.05)
        await relay.leave(str(other.code), inbox)
        await pubsub.aclose()
        await captured_client.aclose()
        return list(inbox.frames)

    assert run_async(scenario()) == [jpeg(color=(1, 2, 3))]


def _key() -> bytes:
    return os.urandom(32)


def test_keys_rotate_the_first_seals_and_every_listed_key_opens(settings):
    old, new = _key(), _key()
    settings.LIVE_FRAME_KEYS = [old]
    frame = jpeg()
    sealed_before = live_crypto.frame_seal(frame, camera_code="cam-1")
    # Mid rolling restart: restarted processes seal under the new key and still open the old one's frames.
    settings.LIVE_FRAME_KEYS = [new, old]
    assert live_crypto.frame_open(sealed_before, camera_code="cam-1") == frame
    sealed_after = live_crypto.frame_seal(frame, camera_code="cam-1")
    settings.LIVE_FRAME_KEYS = [old, new]  # a process not yet restarted also opens the new key's frames
    assert live_crypto.frame_open(sealed_after, camera_code="cam-1") == frame
    settings.LIVE_FRAME_KEYS = [new]  # the old key removed: what it sealed no longer opens
    with pytest.raises(live_crypto.Unreadable):
        live_crypto.frame_open(sealed_before, camera_code="cam-1")
    assert live_crypto.frame_open(sealed_after, camera_code="cam-1") == frame


def test_a_sealed_picture_opens_only_for_its_camera_and_purpose(settings):
    settings.LIVE_FRAME_KEYS = [_key()]
    frame = jpeg()
    sealed = live_crypto.frame_seal(frame, camera_code="cam-1")
    assert sealed != live_crypto.frame_seal(frame, camera_code="cam-1")  # a fresh nonce every time
    for opener, camera in ((live_crypto.frame_open, "cam-2"), (live_crypto.still_open, "cam-1")):
        with pytest.raises(live_crypto.Unreadable):
            opener(sealed, camera_code=camera)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for junk in (tampered, frame, b"", b"\x01"):
        with pytest.raises(live_crypto.Unreadable):
            live_crypto.frame_open(junk, camera_code="cam-1")


def _settings_of(env: dict) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(len(settings.LIVE_FRAME_KEYS))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "connect.settings",
                               "CONNECT_MODE": "demo", **env})


def test_the_key_list_is_read_from_the_environment_and_bad_keys_refuse_to_start():
    keys = ",".join(base64.b64encode(_key()).decode() for _ in range(2))
    assert _settings_of({"CONNECT_LIVE_FRAME_KEYS": keys}).stdout.strip() == "2"
    assert _settings_of({}).stdout.strip() == "1"  # derived from the secret key: never plaintext
    refused = _settings_of({"CONNECT_LIVE_FRAME_KEYS": "not-a-key"})
    assert refused.returncode != 0 and "CONNECT_LIVE_FRAME_KEYS" in refused.stderr
