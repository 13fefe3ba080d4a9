"""The image, built from the Containerfile and run with podman as a deployment would: migrate, web, worker, beat
and the sealer against real PostgreSQL/PostGIS and Redis, healthy by /healthz and by the image's own health
check, non-root, with the runtime lock only and no key inside. Skips, saying what failed, only where no
container engine can build or run (see tests/deploy/engine.py)."""

import base64
import os
import re
import secrets
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.conftest import free_port
from tests.deploy.engine import IMAGE as TAG
from tests.deploy.engine import healthy_within
from tests.deploy.test_packaging import SECRET_VARIABLE

pytestmark = pytest.mark.container


@pytest.fixture
def database():
    """A database of its own on the tests' PostgreSQL server, dropped afterwards."""
    server = settings.DATABASES["default"]
    name = f"connect_image_{secrets.token_hex(4)}"
    params = {"host": server["HOST"], "port": server["PORT"], "user": server["USER"],
              "password": server.get("PASSWORD") or None, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**params) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{server['USER']}@{server['HOST']}:{server['PORT']}/{name}"
    with psycopg.connect(**params) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def keys(tmp_path):
    """Production keys as files, mounted as compose secrets are (readable by the image's user)."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    values = {"secret_key": secrets.token_urlsafe(48), "ledger_key": secrets.token_urlsafe(32),
              "evidence_key": base64.b64encode(os.urandom(32)).decode()}
    for name, value in values.items():
        (folder / name).write_text(value)
        (folder / name).chmod(0o644)
    folder.chmod(0o755)
    tmp_path.chmod(0o755)
    return folder


def production_env(database: str, keys: Path, port: int) -> list[str]:
    redis_base = settings.REDIS_URL.rsplit("/", 1)[0]
    env = {"CONNECT_DATABASE_URL": database, "CONNECT_REDIS_URL": f"{redis_base}/13",
           "CONNECT_SECRET_KEY_FILE": "/run/secrets/secret_key",
           "CONNECT_EVIDENCE_KEY_FILE": "/run/secrets/evidence_key",
           "CONNECT_LEDGER_KEY_FILE": "/run/secrets/ledger_key", "CONNECT_ALLOWED_HOSTS": "cameras.example.gov",
           "CONNECT_MODE": "production", "PORT": str(port)}
    args = ["--network=host", "--volume", f"{keys}:/run/secrets:ro"]
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    return args



@pytest.mark.timeout(1800)  # the first test builds the image: minutes the first time, seconds from the cache
def test_the_image_has_the_runtime_packages_only_and_runs_as_its_own_user(engine):
    image = engine.inspect(TAG)
    config = image["Config"]
    assert config["User"] == "connect"
    health = image.get("Healthcheck") or config.get("Healthcheck")  # podman's place, docker's place
    assert health["Test"][-1] == "healthcheck"
    assert not [name for name in config["Env"] if re.match(SECRET_VARIABLE, name)]
    found = engine.run("run", "--rm", "--network=host", "--entrypoint", "python", TAG, "-c",
                       "import importlib.util as u; print([m for m in ('aiosmtpd', 'playwright', 'pytest', 'honcho', "
                       "'pip', 'django', 'celery', 'uvicorn') if u.find_spec(m)])").stdout
    assert found.strip() == "['django', 'celery', 'uvicorn']"


def test_without_keys_the_image_refuses_to_start_in_production(engine):
    result = engine.run("run", "--rm", "--network=host", TAG, "manage", "check", check=False, timeout=300)
    assert result.returncode != 0 and "CONNECT_SECRET_KEY" in result.stderr


def test_the_image_runs_connect_web_worker_beat_and_sealer(engine, database, keys):
    port = free_port()
    env = production_env(database, keys, port)
    engine.run("run", "--rm", *env, TAG, "migrate", timeout=600)
    names = {process: f"connect-test-{process}-{secrets.token_hex(3)}"
             for process in ("web", "worker", "beat", "sealer")}
    try:
        for process, name in names.items():
            engine.run("run", "--detach", "--name", name, "--hostname", name, *env, TAG, process)
        state = healthy_within(port, "cameras.example.gov", 240)
        assert state.get("status") == "ok", f"/healthz answered {state}; web log:\n" + \
            engine.run("logs", names["web"], check=False).stderr[-2000:]
        for process in ("web", "worker"):
            check = engine.run("exec", names[process], "/app/deploy/container/entrypoint.sh", "healthcheck",
                               check=False, timeout=120)
            assert check.returncode == 0, f"{process} health check: {check.stdout}{check.stderr}"
        for process in ("beat", "sealer"):
            assert engine.inspect(names[process])["State"]["Running"], engine.run("logs", names[process]).stderr
        static = urllib.request.Request(f"http://127.0.0.1:{port}/static/admin/css/base.css",
                                        headers={"Host": "cameras.example.gov", "X-Forwarded-Proto": "https"})
        with urllib.request.urlopen(static, timeout=10) as response:
            assert response.status == 200 and b"body" in response.read()
        assert engine.run("exec", names["web"], "id", "-un").stdout.strip() == "connect"
    finally:
        for name in names.values():
            engine.run("rm", "--force", "--volumes", "--time", "5", name, check=False)
