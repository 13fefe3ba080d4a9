"""``connect-connector`` (``python -m connect_connector``) as the owner's computer runs it: a real process, a real
server."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port
from tests.integration.connector.connector_server import (
    CAMERA,
    TOKEN,
    LocalServer,
    jpeg_size,
    receive_for,
    run_async,
    send,
)

ROOT = Path(__file__).resolve().parents[3]


def connector(*args: str) -> list[str]:
    return [sys.executable, "-m", "connect_connector", *args]


def test_the_program_streams_and_stops_cleanly_on_sigterm(tmp_path):
    log = tmp_path / "connector.log"

    async def scenario():
        async with LocalServer() as server:
            with log.open("w") as stderr:
                process = await asyncio.create_subprocess_exec(
                    *connector("--server", server.url, "--camera", CAMERA, "--token", TOKEN, "--source", "test",
                               "--width", "200", "--verbose"), cwd=ROOT, stderr=stderr)
            try:
                ws = await server.next_connection(timeout=20)
                await send(ws, "hello", fps=5, width=640, quality=60, max_bytes=100_000)
                await send(ws, "start")
                frames, _ = await receive_for(ws, 1.2)
                process.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(process.wait(), 10)
                await ws.wait_closed()
                return ws.request.headers["Authorization"], frames, code, ws.close_code
            finally:
                if process.returncode is None:
                    process.kill()

    authorization, frames, exit_code, close_code = run_async(scenario())
    stderr = log.read_text()
    assert authorization == f"Bearer {TOKEN}"
    assert 3 <= len(frames) <= 8  # 5 a second, the server's limit
    assert {jpeg_size(frame) for frame in frames} == {(200, 112)}
    assert (exit_code, close_code) == (0, 1000), stderr
    assert "SIGTERM: stopping" in stderr
    assert TOKEN not in stderr  # not even with --verbose, which logs the websocket handshake


def test_a_missing_video_file_is_refused_at_start_up(tmp_path):
    result = subprocess.run(
        connector("--server", "https://cameras.example.gov", "--camera", CAMERA, "--token", TOKEN,
                  "--source", str(tmp_path / "front-door.mp4")),
        cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"cannot use --source: {tmp_path / 'front-door.mp4'}: no such file" in result.stderr


def test_a_bad_token_file_or_server_address_is_refused(tmp_path):
    missing = subprocess.run(
        connector("--server", "https://cameras.example.gov", "--camera", CAMERA,
                  "--token-file", str(tmp_path / "token"), "--source", "test"),
        cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2
    assert "--token-file" in missing.stderr and "No such file or directory" in missing.stderr
    (tmp_path / "token").write_text(TOKEN + "\n")
    bad_server = subprocess.run(
        connector("--server", "cameras.example.gov", "--camera", CAMERA, "--token-file", str(tmp_path / "token"),
                  "--source", "test"),
        cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert bad_server.returncode == 2
    assert "--server: 'cameras.example.gov' is not an http:// or https:// address" in bad_server.stderr


def test_help_explains_every_option():
    result = subprocess.run(connector("--help"), cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for option in ("--server", "--camera", "--token", "--token-file", "--source", "--width", "--fps", "--quality",
                   "--verbose", "rtsp://", "MJPEG", "test:bars", "CONNECTOR_TOKEN", "CONNECTOR_SOURCE"):
        assert option in result.stdout
    shim = subprocess.run([sys.executable, "-m", "integration.connector", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)
    assert shim.stdout == result.stdout  # the old name runs the same program


def test_the_connector_needs_neither_django_nor_the_rest_of_connect():
    check = ("import sys, connect_connector.__main__; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'django', 'connect', 'registry', 'requests_app', 'audit', 'accounts', 'channels', 'celery'}))")
    result = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "[]", result.stderr


def without_connector_variables(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}, **extra}


def test_settings_come_from_connector_variables_and_junk_is_refused_by_name():
    settings = {"CONNECTOR_SERVER": "https://cameras.example.gov", "CONNECTOR_CAMERA": CAMERA,
                "CONNECTOR_TOKEN": TOKEN, "CONNECTOR_SOURCE": "test", "CONNECTOR_FPS": "fast"}
    junk = subprocess.run(connector(), cwd=ROOT, capture_output=True, text=True, timeout=30,
                          env=without_connector_variables(**settings))
    assert junk.returncode == 2
    assert "CONNECTOR_FPS: 'fast' is not a number" in junk.stderr
    no_token = subprocess.run(connector(), cwd=ROOT, capture_output=True, text=True, timeout=30,
                              env=without_connector_variables(**{**settings, "CONNECTOR_FPS": "5",
                                                                 "CONNECTOR_TOKEN": ""}))
    assert no_token.returncode == 2
    assert "give the camera's token: --token-file PATH, or CONNECTOR_TOKEN in the environment" in no_token.stderr


def test_a_camera_that_is_off_at_start_up_is_waited_for_and_reported_to_the_server(tmp_path):
    """A camera that is still booting (or off) at start-up is no reason to exit: the connector connects, tells
    the server, and keeps trying the camera."""
    port = free_port()
    log = tmp_path / "connector.log"

    async def scenario():
        async with LocalServer() as server:
            with log.open("w") as stderr:
                process = await asyncio.create_subprocess_exec(
                    *connector(), cwd=ROOT, stderr=stderr, env=without_connector_variables(
                        CONNECTOR_SERVER=server.url, CONNECTOR_CAMERA=CAMERA, CONNECTOR_TOKEN=TOKEN,
                        CONNECTOR_SOURCE=f"rtsp://viewer:hunter2@127.0.0.1:{port}/stream"))
            try:
                ws = await server.next_connection(timeout=30)
                _, texts = await receive_for(ws, 2.0)
                return texts, process.returncode
            finally:
                process.terminate()
                await asyncio.wait_for(process.wait(), 10)

    texts, returncode = run_async(scenario(), timeout=60)
    assert returncode is None  # still running when the server heard from it
    assert texts and texts[0]["source"] == "error"
    assert texts[0]["detail"].startswith(f"rtsp://viewer:***@127.0.0.1:{port}/stream: cannot open")
    assert "hunter2" not in log.read_text() + str(texts)
