"""The production settings from the README pass Django's deploy check, and every response carries the headers."""

import os
import subprocess
import sys

import pytest

from tests.connect.test_env import PRODUCTION

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_check_deploy_is_clean_in_production():
    env = {**os.environ, **PRODUCTION}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in tests only
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_security_headers(client):
    response = client.get("/register/")
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"].startswith("'self'") and "unsafe" not in policy["script-src"]
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == policy["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_no_inline_script_without_a_nonce(client, staff_user):
    import re

    client.force_login(staff_user("investigator"))
    for path in ("/", "/register/", "/owner/", "/map/", "/admin/", "/admin/registry/camera/add/"):
        html = client.get(path).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or "nonce=" in tag or 'type="application/json"' in tag, (path, tag)
