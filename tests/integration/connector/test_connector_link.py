"""The connector against a real websockets server: start, stop, snapshot, the server's limits, close codes
and backoff, a slow network, source status."""

import asyncio
import json
import logging

import pytest
from connect_connector.link import backoff_delay, websocket_url
from connect_connector.sources import PatternSource, SourceError

from tests.integration.connector.connector_server import (
    CAMERA,
    TOKEN,
    LocalServer,
    jpeg_size,
    make_connector,
    receive_for,
    run_async,
    running,
    send,
)


def test_start_sends_jpeg_frames_of_the_requested_width():
    async def scenario():
        async with LocalServer() as server, running(make_connector(server, width=320)):
            ws = await server.next_connection()
            assert ws.request.path == f"/ws/connector/{CAMERA}/"
            assert ws.request.headers["Authorization"] == f"Bearer {TOKEN}"
            assert ws.request.headers["Origin"] == server.url  # Channels' origin validator wants one
            assert TOKEN not in ws.request.path
            await send(ws, "start")
            frames, _ = await receive_for(ws, 1.0)
            return frames

    frames = run_async(scenario())
    assert len(frames) >= 5
    assert {jpeg_size(frame) for frame in frames} == {(320, 180)}


def test_stop_sends_nothing():
    async def scenario():
        async with LocalServer() as server, running(make_connector(server)):
            ws = await server.next_connection()
            await send(ws, "start")
            before, _ = await receive_for(ws, 0.5)
            await send(ws, "stop")
            await receive_for(ws, 0.2)  # frames already on the wire when stop left
            after, _ = await receive_for(ws, 1.0)
            return before, after

    before, after = run_async(scenario())
    assert before and after == []


def test_snapshot_while_stopped_sends_exactly_one_frame():
    async def scenario():
        async with LocalServer() as server, running(make_connector(server, width=200)):
            ws = await server.next_connection()
            quiet, _ = await receive_for(ws, 0.3)
            await send(ws, "snapshot")
            frames, _ = await receive_for(ws, 1.2)
            return quiet, frames

    quiet, frames = run_async(scenario())
    assert quiet == []
    assert len(frames) == 1
    assert jpeg_size(frames[0]) == (200, 112)


def test_hello_lowers_fps_and_width_but_never_raises_them():
    async def scenario():
        async with LocalServer() as server, running(make_connector(server, fps=10, width=320)) as connector:
            ws = await server.next_connection()
            await send(ws, "hello", fps=2, width=160, quality=90, max_bytes=500_000)
            await send(ws, "start")
            frames, _ = await receive_for(ws, 2.0)
            return frames, connector.control.state().limits

    frames, limits = run_async(scenario())
    assert 2 <= len(frames) <= 5  # 2 a second, not 10
    assert {jpeg_size(frame) for frame in frames} == {(160, 90)}
    assert (limits.fps, limits.width, limits.quality, limits.max_bytes) == (2, 160, 70, 500_000)


def test_throttle_lowers_the_frame_rate():
    async def scenario():
        async with LocalServer() as server, running(make_connector(server, fps=10)):
            ws = await server.next_connection()
            await send(ws, "start")
            fast, _ = await receive_for(ws, 0.6)
            await send(ws, "throttle", fps=2)
            await receive_for(ws, 0.2)
            slow, _ = await receive_for(ws, 1.2)
            return fast, slow

    fast, slow = run_async(scenario())
    assert len(fast) >= 5
    assert 1 <= len(slow) <= 3


def test_frames_fit_the_servers_byte_limit(caplog):
    async def scenario():
        async with LocalServer() as server, running(make_connector(server, width=640, quality=95)):
            ws = await server.next_connection()
            await send(ws, "hello", max_bytes=12_000)
            await send(ws, "start")
            frames, _ = await receive_for(ws, 0.8)
            return frames

    with caplog.at_level(logging.WARNING):
        frames = run_async(scenario())
    assert frames and all(len(frame) <= 12_000 for frame in frames)
    assert {jpeg_size(frame) for frame in frames} == {(640, 360)}


def test_backoff_delay_doubles_from_one_second_to_a_minute():
    nominal = [backoff_delay(attempt, rng=lambda: 0.0) for attempt in range(9)]
    assert nominal == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff_delay(3, rng=lambda: 1.0) == 8 * 0.75
    assert all(45 <= backoff_delay(1000) <= 60 for _ in range(200))  # jitter, never above the cap


def test_refused_token_waits_the_longest_delay_then_reconnects(caplog):
    async def scenario():
        async with LocalServer() as server:
            connector = make_connector(server, base_delay=0.05, max_delay=0.5)
            async with running(connector):
                first = await server.next_connection()
                loop = asyncio.get_running_loop()
                await first.close(4401, "token refused")
                closed_at = loop.time()
                await server.next_connection()
                return loop.time() - closed_at, list(connector.delays)

    with caplog.at_level(logging.INFO):
        waited, delays = run_async(scenario())
    assert 0.5 * 0.75 <= delays[0] <= 0.5
    assert waited >= 0.5 * 0.75
    assert "refused the token" in caplog.text and "4401" in caplog.text
    assert TOKEN not in caplog.text


def test_a_handshake_refused_with_http_401_also_waits_the_longest_delay():
    async def scenario():
        async with LocalServer(refuse_with=401) as server:
            connector = make_connector(server, base_delay=0.05, max_delay=0.3)
            async with running(connector):
                while server.refused < 2:
                    await asyncio.sleep(0.05)
                return list(connector.delays), connector.connections

    delays, connections = run_async(scenario())
    assert connections == 0
    assert 0.3 * 0.75 <= delays[0] <= 0.3


def test_backoff_grows_and_resets_after_a_connection_that_lasted():
    async def scenario():
        async with LocalServer() as server:
            connector = make_connector(server, base_delay=0.05, max_delay=1.0, stable_after=0.4)
            async with running(connector):
                for _ in range(3):
                    await (await server.next_connection()).close(4403, "paused by owner")
                lasting = await server.next_connection()
                await asyncio.sleep(0.5)
                await lasting.close(1011)
                await server.next_connection()
                return list(connector.delays)

    delays = run_async(scenario())
    assert [round(d / 0.05) for d in delays[:3]] in ([1, 2, 4], [1, 2, 3], [1, 1, 3], [1, 2, 3])
    assert 0.05 * 0.75 <= delays[0] <= 0.05 < delays[1] <= 0.1 < delays[2] <= 0.2
    assert delays[3] <= 0.05  # back to the first step


def test_a_retry_message_caps_the_next_delay_however_long_the_backoff_grew(caplog):
    """The server lost its Redis and an analyst waits: the connector is back in the seconds the server asks,
    not after the minute its backoff had reached."""
    async def scenario():
        async with LocalServer() as server:
            connector = make_connector(server, base_delay=2.0, max_delay=60.0)
            async with running(connector):
                for _ in range(5):  # its own backoff would be 2, 4, 8, 16, 32 s
                    ws = await server.next_connection()
                    await ws.send(json.dumps({"type": "retry", "seconds": 1}))
                    await ws.close(4503, "Redis unreachable")
                await server.next_connection()
                return list(connector.delays)

    with caplog.at_level(logging.INFO):
        delays = run_async(scenario(), timeout=30)
    assert len(delays) == 5 and all(delay <= 1 for delay in delays)
    assert "cannot reach its live service" in caplog.text and "4503" in caplog.text


def test_a_retry_message_never_lengthens_the_delay_and_junk_is_ignored():
    async def scenario():
        async with LocalServer() as server:
            connector = make_connector(server, base_delay=0.05, max_delay=0.5)
            async with running(connector):
                ws = await server.next_connection()
                await ws.send(json.dumps({"type": "retry", "seconds": 3600}))
                await ws.close(4503)
                ws = await server.next_connection()
                await ws.send(json.dumps({"type": "retry", "seconds": "soon"}))
                await ws.close(4503)
                await server.next_connection()
                return list(connector.delays)

    delays = run_async(scenario())
    assert delays[0] <= 0.05 and delays[1] <= 0.1  # the backoff's own, shorter than asked


def test_a_slow_server_costs_frames_not_memory():
    async def scenario():
        # max_queue=1 and a small receive buffer: the server stops reading while the test does not call recv.
        server = LocalServer(max_queue=1, rcvbuf=4096)
        async with server, running(make_connector(server, fps=30, width=1280, quality=95)) as connector:
            ws = await server.next_connection()
            queue = connector.queue
            await send(ws, "start")
            while queue.dropped == 0:  # the socket buffers are full (a few MB on loopback): sending blocks
                await asyncio.sleep(0.05)
            before = queue.put_count, queue.dropped, connector.sent
            await asyncio.sleep(0.6)
            after = queue.put_count, queue.dropped, connector.sent
            frames, _ = await receive_for(ws, 0.5)
            return before, after, queue.most, frames

    (produced, dropped, sent), (produced_later, dropped_later, sent_later), most, frames = run_async(scenario())
    assert produced_later - produced >= 8  # capture went on at its own pace...
    assert dropped_later - dropped >= produced_later - produced - 2  # ...its frames were dropped...
    assert sent_later - sent <= 1  # ...while nothing could be sent
    assert most <= 2
    assert frames  # it goes on once the server reads again


class FlakySource(PatternSource):
    """The test pattern that breaks once, after a few pictures, and opens again on the next try."""

    def __init__(self):
        super().__init__("motion", label=CAMERA)
        self.grabs = 0

    def grab(self, **kwargs):
        self.grabs += 1
        if self.grabs == 4:
            raise SourceError("test:motion: cable unplugged")
        return super().grab(**kwargs)


def test_source_failure_and_recovery_are_reported():
    async def scenario():
        async with LocalServer() as server, running(make_connector(server, FlakySource())):
            ws = await server.next_connection()
            await send(ws, "start")
            frames, texts = await receive_for(ws, 2.0)
            return frames, texts

    frames, texts = run_async(scenario())
    assert texts == [{"type": "status", "source": "error", "detail": "test:motion: cable unplugged"},
                     {"type": "status", "source": "ok", "detail": ""}]
    assert len(frames) >= 5  # before and after the second it took to reopen


class LongFailureSource(FlakySource):
    def grab(self, **kwargs):
        self.grabs += 1
        if self.grabs == 2:
            raise SourceError("test:motion: " + "very long failure " * 500)
        return PatternSource.grab(self, **kwargs)


def test_status_details_stay_under_the_servers_limit_and_its_errors_are_logged(caplog):
    async def scenario():
        async with LocalServer() as server, running(make_connector(server, LongFailureSource())):
            ws = await server.next_connection()
            await send(ws, "start")
            await send(ws, "error", reason="frame is not a JPEG image")
            _, texts = await receive_for(ws, 2.0)
            return texts

    with caplog.at_level(logging.WARNING):
        texts = run_async(scenario())
    failure = next(text for text in texts if text["source"] == "error")
    assert len(json.dumps(failure)) < 4096  # the server closes the socket on a longer status message
    assert "the server says: frame is not a JPEG image" in caplog.text


@pytest.mark.parametrize(("server", "url"), [
    ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/connector/cam-1/"),
    ("https://cameras.example.gov/", "wss://cameras.example.gov/ws/connector/cam-1/"),
    ("https://example.gov/connect", "wss://example.gov/connect/ws/connector/cam-1/"),
])
def test_websocket_url(server, url):
    assert websocket_url(server, "cam-1") == url
