"""Nothing left behind: upload working files (sealed uploads in the staging folder, spooled request bodies) are
private, and what a killed web process left is swept, never a file of an upload still under way."""

import http.client
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from common.private_files import FileLease, leftovers_sweep, private_create
from common.sealed import EncryptingWriter
from tests.conftest import free_port, wait_for
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

ROOT = Path(__file__).resolve().parents[2]


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_sealed_files_are_created_readable_by_connects_user_only(tmp_path):
    old_umask = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        writer = EncryptingWriter(str(tmp_path / "incoming-x.cnev"))
    finally:
        os.umask(old_umask)
    writer.write(b"footage")
    writer.close()
    assert stat.S_IMODE((tmp_path / "incoming-x.cnev").stat().st_mode) == 0o600


def test_the_sweep_removes_a_file_nobody_holds_and_keeps_one_in_use_however_old(tmp_path):
    dead = tmp_path / "incoming-dead.cnev"
    dead.write_bytes(b"left by a killed process")
    file, lease = private_create(tmp_path / "incoming-alive.cnev")  # an upload under way, stalled for an hour
    file.write(b"still arriving")
    file.flush()
    for path in (dead, tmp_path / "incoming-alive.cnev"):
        _age(path, 3600)
    other = tmp_path / "clip.cnev"  # a clip: never the sweep's
    other.write_bytes(b"evidence")
    _age(other, 3600)

    assert leftovers_sweep(tmp_path, "incoming-*.cnev", grace_s=60) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.cnev", "incoming-alive.cnev"]
    file.close()  # closed but not yet stored: the lease keeps it
    assert leftovers_sweep(tmp_path, "incoming-*.cnev", grace_s=60) == []
    lease.release()
    assert leftovers_sweep(tmp_path, "incoming-*.cnev", grace_s=60) == [tmp_path / "incoming-alive.cnev"]


def test_the_sweep_leaves_a_file_changed_within_the_grace(tmp_path):
    fresh = tmp_path / "connect-body-fresh.sealed"
    fresh.write_bytes(b"x")
    assert leftovers_sweep(tmp_path, "connect-body-*.sealed", grace_s=60) == []
    assert fresh.exists()


def test_a_lease_outlives_the_writers_descriptor_until_released(tmp_path):
    writer = EncryptingWriter(str(tmp_path / "incoming-y.cnev"))
    writer.write(b"a" * 100)
    writer.close()
    _age(tmp_path / "incoming-y.cnev", 3600)
    assert leftovers_sweep(tmp_path, "incoming-*.cnev", grace_s=0) == []
    writer.lease.release()
    assert leftovers_sweep(tmp_path, "incoming-*.cnev", grace_s=0) == [tmp_path / "incoming-y.cnev"]
    FileLease.release(writer.lease)  # twice is harmless


# --- a real web process killed mid-upload -------------------------------------------------------------------

def _start_web(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "connect.asgi:application", "--host", "127.0.0.1",
                               "--port", str(port), "--no-server-header", "--no-access-log"],
                              cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up():
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    wait_for(up, 60, 0.2, what="the web process listening")
    return server, url


def _stream_upload_started(web: str, link_path: str, size: int, sent: int) -> http.client.HTTPConnection:
    """The consent page's streamed upload (one file of `size` bytes) with only `sent` bytes sent so far."""
    conn = http.client.HTTPConnection(urlsplit(web).netloc, timeout=60)
    conn.request("GET", link_path)  # the consent page, for its CSRF cookie and token, as the script has them
    page = conn.getresponse()
    html = page.read().decode()
    assert page.status == 200, html[:500]
    cookie = next(value.split(";", 1)[0] for key, value in page.getheaders()
                  if key.lower() == "set-cookie" and value.startswith("csrftoken="))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    conn.putrequest("POST", link_path + "upload/stream/")
    for header, value in {"Content-Type": "application/octet-stream", "Content-Length": str(size),
                          "Cookie": cookie, "X-CSRFToken": token, "X-Keep-Days": "30", "Origin": web,
                          "X-Upload-Names": quote("porch.mp4"), "X-Upload-Sizes": str(size)}.items():
        conn.putheader(header, value)
    conn.endheaders()
    conn.send(os.urandom(sent))
    return conn


def _form_upload_started(web: str, link_path: str, size: int, sent: int) -> http.client.HTTPConnection:
    """The form's upload (multipart, read into the sealed spool before the view runs), `sent` bytes of `size`."""
    conn = http.client.HTTPConnection(urlsplit(web).netloc, timeout=60)
    conn.putrequest("POST", link_path + "upload/")
    conn.putheader("Content-Type", "multipart/form-data; boundary=xyz")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    conn.send(b"--xyz\r\nContent-Disposition: form-data; name=\"clips\"; filename=\"a.mp4\"\r\n\r\n")
    conn.send(os.urandom(sent))
    return conn


@pytest.mark.django_db(transaction=True)
def test_a_web_process_killed_mid_upload_leaves_nothing_after_the_sweep_and_a_live_upload_keeps_its_files(
        tmp_path, settings):
    from requests_app import services
    from requests_app.models import FootageRequest

    evidence, spool = tmp_path / "evidence", tmp_path / "spool"
    settings.EVIDENCE_DIR, settings.SPOOL_DIR = evidence, spool
    db = settings.DATABASES["default"]
    env = {**os.environ, "CONNECT_MODE": "demo", "CONNECT_REDIS_URL": settings.REDIS_URL,
           "CONNECT_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CONNECT_EVIDENCE_DIR": str(evidence), "CONNECT_SPOOL_DIR": str(spool),
           "CONNECT_KEY_STORE_DIR": str(tmp_path / "keys")}
    camera = CameraFactory(owner=OwnerFactory(email="porch@example.org"))
    request = FootageRequest.objects.create(incident=IncidentFactory(), camera=camera, camera_label=camera.label,
                                            nonce="leftovers", state="sent", sent_at=timezone.now(),
                                            expires_at=timezone.now() + timedelta(days=10))
    link_path = urlsplit(services.consent_link(request)).path
    size, sent = 64 * 1024 * 1024, 6 * 1024 * 1024  # past the in-memory limit (2.5 MB): on disk, sealed

    doomed, doomed_url = _start_web(env, tmp_path / "doomed.log")
    alive, alive_url = _start_web(env, tmp_path / "alive.log")
    connections = []
    try:
        connections.append(_stream_upload_started(doomed_url, link_path, size, sent))
        connections.append(_form_upload_started(doomed_url, link_path, size, sent))
        wait_for(lambda: len(list(evidence.glob("incoming-*.cnev"))) == 1
                 and len(list(spool.glob("connect-body-*.sealed"))) == 1, 60, 0.2,
                 what="the doomed process's staging and spool files",
                 explain=lambda: f"{sorted(tmp_path.rglob('*'))}\n{(tmp_path / 'doomed.log').read_text()[-3000:]}")
        doomed_files = {*evidence.glob("incoming-*.cnev"), *spool.glob("connect-body-*.sealed")}
        for path in doomed_files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

        connections.append(_stream_upload_started(alive_url, link_path, size, sent))
        connections.append(_form_upload_started(alive_url, link_path, size, sent))
        wait_for(lambda: len(list(evidence.glob("incoming-*.cnev"))) == 2
                 and len(list(spool.glob("connect-body-*.sealed"))) == 2, 60, 0.2,
                 what="the live process's staging and spool files")
        alive_files = {*evidence.glob("incoming-*.cnev"), *spool.glob("connect-body-*.sealed")} - doomed_files

        os.kill(doomed.pid, signal.SIGKILL)  # mid-upload, nothing gets to clean up
        doomed.wait(timeout=20)
        assert all(path.exists() for path in doomed_files)  # what the issue saw: left behind

        call_command("sweep_upload_leftovers", "--grace", "0")  # as web's start-up runs it (no grace here)

        left = {*evidence.iterdir(), *spool.iterdir()}
        assert left == alive_files, "the sweep removed a live upload's file or kept a dead one's"
        assert alive.poll() is None
        for conn in connections:  # the live process's clients go away: it removes its own files, as ever
            conn.close()
        wait_for(lambda: not list(evidence.glob("incoming-*")) and not list(spool.glob("connect-body-*")), 60, 0.2,
                 what="the live process cleaning up after its clients left")
    finally:
        for conn in connections:
            conn.close()
        if doomed.poll() is None:
            doomed.kill()
        alive.terminate()
        alive.wait(timeout=20)


def test_beat_sweeps_upload_leftovers_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["uploads-leftovers-sweep"]
    assert entry["task"] == "requests_app.tasks.upload_leftovers_sweep_task" and entry["schedule"] == timedelta(hours=1)
