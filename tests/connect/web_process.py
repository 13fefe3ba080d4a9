"""connect's web process as the Procfile runs it (uvicorn, a process of its own) on the test database and Redis."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def web_process(env: dict | None = None, *, log_path: Path | None = None, access_log: bool = False):
    """Yields the server's base URL; its stderr (the log) goes to `log_path` when given."""
    db = settings.DATABASES["default"]
    environment = {**os.environ, "CONNECT_MODE": "demo", "CONNECT_REDIS_URL": settings.REDIS_URL,
                   "CONNECT_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
                                           f"{db['NAME']}", **(env or {})}
    port = free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 -- closed below
    command = [sys.executable, "-m", "uvicorn", "connect.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), "--no-server-header"]
    server = subprocess.Popen(command + ([] if access_log else ["--no-access-log"]), cwd=ROOT, env=environment,
                              stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/no-such-page/", timeout=5)
            except urllib.error.HTTPError:
                break  # 404: up
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the web process did not start"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)
        if log_path:
            log.close()


def get(url: str, headers: dict | None = None) -> tuple[int, object, bytes]:
    """(status, headers (case-insensitive), body) of a GET, whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
