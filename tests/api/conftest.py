"""API fixtures: tokens with chosen scopes, and clients for a token or a staff session."""

import pytest
from rest_framework.test import APIClient

from api import services
from tests.conftest import make_staff


@pytest.fixture
def token(db):
    def make(*scopes, name=None):
        _, key = services.token_create(name=name or f"system {'+'.join(scopes)}", scopes=list(scopes))
        return key

    return make


@pytest.fixture
def token_client(token):
    """A client authenticated with a new token holding `scopes`."""

    def make(*scopes):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token(*scopes)}")
        return client

    return make


@pytest.fixture
def staff_client(db):
    """A client signed in as a new staff member of `role` (a key of tests.conftest.STAFF_ROLES)."""

    def make(role):
        client = APIClient()
        user = make_staff(role)
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture
def server_process(transactional_db, settings):
    """connect's web process as the Procfile runs it (uvicorn, a process of its own) on the test database and Redis:
    what it keeps in memory is out of this process's reach."""
    import os
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    from tests.conftest import free_port

    db = settings.DATABASES["default"]
    env = {**os.environ, "CONNECT_MODE": "demo", "CONNECT_REDIS_URL": settings.REDIS_URL,
           "CONNECT_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "connect.asgi:application", "--host", "127.0.0.1",
                               "--port", str(port), "--no-access-log"], cwd=Path(__file__).resolve().parents[2],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/v1/cameras/", timeout=5)
        except urllib.error.HTTPError:
            break  # 401 without a token: up
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "the web process did not start"
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=15)


@pytest.fixture
def https_required(settings):
    """Production's settings (connect.settings outside demo mode): behind a TLS proxy, HTTPS only, HSTS."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
