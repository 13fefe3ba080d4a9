"""Shared fixtures: the access matrix (anonymous, owner A, owner B, each staff role), a real SMTP sink,
and helpers to sign an owner in to the portal."""

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point

from common import roles
from connect.mailsink import MemoryHandler
from registry import links
from registry.models import OwnerLink
from tests.registry.factories import CameraFactory, OwnerFactory

STAFF_ROLES = {
    "investigator": roles.INVESTIGATOR,
    "analyst": roles.CRIME_ANALYST,
    "supervisor": roles.SUPERVISOR,
    "auditor": roles.AUDITOR,
    "administrator": roles.ADMINISTRATOR,
    "records_officer": roles.RECORDS_OFFICER,
    "patrol": roles.PATROL_OFFICER,
}


@pytest.fixture(autouse=True, scope="session")
def _static_files_by_their_plain_names():
    """Pages link static files by their hashed names once collectstatic has run in the checkout (`make run`), and
    the test server serves the source folders, where only the plain names exist: the tests use the plain names.
    tests/connect/test_static_files.py checks the hashed, compressed and cached ones."""
    from django.conf import settings
    from django.test import override_settings

    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain):
        yield


@pytest.fixture(autouse=True)
def _ledger_seals_in_test_transactions(request, monkeypatch):
    """The ledger seals a transaction's entries when it commits. pytest-django's `db` wraps each test in a
    transaction that is rolled back, never committed: there, seal at once instead, as a commit would have done
    for a single writer. Tests with transaction=True take the real path."""
    marker = request.node.get_closest_marker("django_db")
    if "transactional_db" in request.fixturenames or (
            marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))):
        return
    from audit.ledger import sealing, writing

    monkeypatch.setattr(writing, "_seal_after_commit", lambda ids: sealing.seal_quietly(own=ids))  # looked up late


@pytest.fixture(autouse=True)
def _private_key_store(settings, tmp_path_factory):
    """Each test's clips get their shred keys in a folder of their own, never the checkout's var/keys."""
    settings.KEY_STORE_DIR = tmp_path_factory.mktemp("keys")


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """Transactional tests flush the tables and content types come back with new ids; Django's and guardian's
    caches would still hand out the old ones (to auditlog, guardian)."""
    from django.contrib.contenttypes.models import ContentType
    from guardian.shortcuts import clear_ct_cache

    ContentType.objects.clear_cache()
    clear_ct_cache()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_staff(role_key: str) -> User:
    if not Group.objects.filter(name=STAFF_ROLES[role_key]).exists():
        # Transactional tests flush the tables, taking the migration-made role groups with them, and
        # content types come back with new ids that Django's cache does not know (guardian would object).
        from django.apps import apps
        from django.contrib.contenttypes.models import ContentType
        from guardian.shortcuts import clear_ct_cache

        ContentType.objects.clear_cache()
        clear_ct_cache()
        roles.roles_sync(apps)
    user = User.objects.create_user(username=role_key, password="correct-horse-battery-9", is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_ROLES[role_key]))
    return user


@pytest.fixture
def staff_user(db):
    return make_staff


@pytest.fixture
def owner_a(db):
    owner = OwnerFactory(name="Alice Anderson", email="alice@example.org", phone="919-555-0101",
                         address="1 Alpha Street, Raleigh, NC")
    CameraFactory(owner=owner, label="Alice porch")
    return owner


@pytest.fixture
def owner_b(db):
    owner = OwnerFactory(name="Bob Brown", email="bob@example.org", phone="919-555-0202",
                         address="2 Beta Street, Raleigh, NC")
    CameraFactory(owner=owner, label="Bob driveway", location=Point(-78.6390, 35.7800, srid=4326))
    return owner


def token_from(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def sign_in_owner(client, owner) -> None:
    """Signs `owner` in to the portal the way an owner does: through a sign-in link."""
    url = links.link_issue(owner=owner, purpose=OwnerLink.Purpose.SIGN_IN)
    response = client.post(f"/owner/sign-in/{token_from(url)}/")
    assert response.status_code == 302


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server (aiosmtpd) on a free port; Django sends to it over SMTP."""
    handler = MemoryHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    handler.port = controller.port
    yield handler
    controller.stop()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05, *, what: str = "condition", explain=None):
    """Polls `predicate` until it is true; failing, says `what` was awaited, with `explain()` (logs, say)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout:.1f}s" + (f"\n{explain()}" if explain else ""))


def parsed_mail(sink) -> list:
    """The sink's messages as email.message.EmailMessage objects, oldest first."""
    import email
    from email import policy

    return [email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            for envelope in sink.messages]


def link_in(message) -> str:
    """The one connect link in a message's plain-text body."""
    import re

    text = message.get_body(preferencelist=("plain",)).get_content()
    urls = re.findall(r"https?://\S+", text)
    assert len(urls) == 1, urls
    return urls[0]


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (in a thread) consuming from the test Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from connect.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    # Tasks an earlier run left in the test broker (a killed worker's unacknowledged ones come back on exit)
    # would run first, against rows that no longer exist. The test broker database holds only test work.
    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker
    celery_app.conf.task_always_eager = True


@pytest.fixture
def asgi_server(transactional_db):
    """connect's real ASGI application under uvicorn (HTTP and websockets) in a thread, on a free port."""
    import threading
    import time

    import uvicorn
    from channels.layers import channel_layers

    from connect.asgi import application
    from tests.conftest import free_port

    # A channel layer receives on one event loop at a time: this server's loop gets a layer of its own, and
    # consumers it leaves behind at shutdown must not hold the next loop's.
    channel_layers.backends.clear()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ws_ping_interval=5, ws_ping_timeout=5))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    channel_layers.backends.clear()
    # The server's worker threads keep database connections the test run cannot close; end them, or the
    # test database cannot be dropped at the end of the run.
    from django.db import connection, connections

    if hasattr(connections["default"], "close_pool"):
        connections["default"].close_pool()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def start_connector(server_url: str, camera_code, token: str, *, fps: int = 10, width: int = 320):
    """The real camera connector program, as an owner runs it, with the built-in test pattern."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "connect_connector", "--server", server_url,
                             "--camera", str(camera_code), "--token", token, "--source", "test",
                             "--fps", str(fps), "--width", str(width)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# --- the access matrix for staff accounts: an Administrator against superusers and other Administrators, and a
# second session (another browser) of the same user, to check that sign-out and a lock end it too.
STAFF_PASSWORD = "correct-horse-battery-9"


def make_staff_named(role_key: str, username: str, email: str = "") -> User:
    """A second member of a role (make_staff names each after its role)."""
    if not Group.objects.filter(name=STAFF_ROLES[role_key]).exists():  # flushed by a transactional test
        from django.apps import apps
        from django.contrib.contenttypes.models import ContentType
        from guardian.shortcuts import clear_ct_cache

        ContentType.objects.clear_cache()
        clear_ct_cache()
        roles.roles_sync(apps)
    user = User.objects.create_user(username=username, email=email, password=STAFF_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=STAFF_ROLES[role_key]))
    return user


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(username="superuser", email="root@example.org", password=STAFF_PASSWORD)


@pytest.fixture
def other_administrator(db):
    return make_staff_named("administrator", "administrator2", email="admin2@example.org")


def staff_session(username: str, password: str = STAFF_PASSWORD):
    """A browser of its own, signed in through the sign-in form: one more session of that user."""
    from django.test import Client

    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


@pytest.fixture
def second_session(db):
    return staff_session


class MotoServer:
    """moto's standalone server as a real process on a free port, one for the whole suite: it speaks S3 (the evidence
    store, `s3_evidence`) and KMS (the key service, tests/backup `moto_kms`). `kill` cuts every connection at once
    (a network cut), `start` brings it back (empty: moto keeps its buckets and keys in memory)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        import subprocess
        import sys
        import urllib.request
        from pathlib import Path

        moto = Path(sys.executable).with_name("moto_server")
        self.process = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers():
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1)
            except OSError:
                return self.process.poll() is not None  # exited: stop waiting, the assert below says so
            return True

        wait_for(answers, timeout=30)
        assert self.process.poll() is None, "moto_server did not start"

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_server():
    server = MotoServer()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def s3_evidence(moto_server, settings):
    """CONNECT_EVIDENCE_STORAGE pointed at a fresh bucket on the moto server; yields the store."""
    import uuid

    from common.evidence_store import evidence_store

    if moto_server.process.poll() is not None:  # a test killed it
        moto_server.start()
    bucket = f"evidence-{uuid.uuid4().hex[:12]}"
    settings.EVIDENCE_STORAGE = {"kind": "s3", "bucket": bucket, "prefix": "clips"}
    settings.EVIDENCE_S3_ENDPOINT_URL = moto_server.url
    settings.EVIDENCE_S3_REGION = "us-east-1"
    settings.EVIDENCE_S3_ACCESS_KEY_ID = "test"
    settings.EVIDENCE_S3_SECRET_ACCESS_KEY = "test"
    settings.EVIDENCE_S3_PATH_STYLE = True
    settings.EVIDENCE_S3_TIMEOUT_SECONDS = 5
    settings.EVIDENCE_S3_PART_MB = 5
    store = evidence_store()
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.fixture(autouse=True)
def _a_channel_layer_of_its_own():
    """Each test meets Redis through a new channel layer: the process's layer outlives a test, and one that went
    through a test's Redis outage (tests/browser/test_live_outage.py) keeps that test's connections and state."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
