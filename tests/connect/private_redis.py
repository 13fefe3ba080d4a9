"""Stops and starts the test run's own Redis, the one scripts/services.sh started for this checkout under var/redis;
never a server this checkout did not start (CONNECT_REDIS_URL naming another, a Sentinel): those tests skip."""

import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _services(*args: str) -> str:
    port = urllib.parse.urlsplit(settings.REDIS_URL).port
    env = {key: value for key, value in os.environ.items()
           if key not in ("CONNECT_REDIS_URL", "CONNECT_DATABASE_URL")}  # else services.sh leaves them alone
    result = subprocess.run([str(ROOT / "scripts" / "services.sh"), *args], cwd=ROOT, check=True, text=True,
                            env={**env, "REDIS_PORT": str(port)}, capture_output=True, timeout=60)
    return result.stdout


def redis_is_ours() -> bool:
    parts = urllib.parse.urlsplit(settings.REDIS_URL)
    if parts.scheme != "redis" or parts.hostname != "127.0.0.1":
        return False
    return "redis" in _services("status").split()


def private_redis(action: str) -> None:
    """`stop` or `start` this checkout's Redis (started again empty: it keeps nothing on disk, as after a crash)."""
    if action == "stop" and not redis_is_ours():
        pytest.skip(f"Redis at {settings.REDIS_URL} is not this checkout's own; tests do not stop it")
    _services(action, "redis")
