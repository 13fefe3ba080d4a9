"""API tokens: stored hashed, scoped, revocable, with their last use; the admin shows a new token once."""

import re

import pytest
from django.utils import timezone

from api import services
from api.models import ApiToken
from audit.models import AccessEntry
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

URL = "/api/v1/cameras/"


def test_only_a_hash_of_the_token_is_stored(token):
    key = token("registry:read")
    stored = ApiToken.objects.get()
    assert key not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    assert stored.key_hash == services.token_hash(key)


def test_a_valid_token_reads_and_its_use_is_noted(client, token):
    key = token("registry:read")
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("header, message", [
    ("Bearer cnt_00000000_nothing", "Unknown API token."),
    ("Bearer garbage", "Unknown API token."),
    ("Bearer a b", "one token"),
])
def test_unknown_tokens_get_a_401(client, header, message):
    response = client.get(URL, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401 and message in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_credentials_get_a_401(client):
    assert client.get(URL).status_code == 401


def test_a_revoked_token_gets_a_401(client, token):
    key = token("registry:read")
    assert services.token_revoke(token=ApiToken.objects.get(), user=None)
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert AccessEntry.objects.filter(action="api.token_revoked").exists()


def test_a_token_without_the_scope_gets_a_403(client, token):
    key = token("positions:write")
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 403 and "registry:read" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/clips/", "/api/v1/footage-requests/"])
def test_tokens_never_reach_cases_or_evidence(client, token, path):
    key = token("registry:read", "dispatch:read", "dispatch:write", "positions:write")
    assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 403


def test_an_administrator_creates_a_token_in_the_admin_and_sees_it_once(client):
    admin = make_staff("administrator")
    client.force_login(admin)
    response = client.post("/admin/api/apitoken/add/", {"name": "CAD", "scopes": ["dispatch:write"]}, follow=True)
    assert response.status_code == 200
    shown = re.search(r"cnt_[0-9a-f]{8}_[\w-]+", response.content.decode()).group(0)
    token = ApiToken.objects.get(name="CAD")
    assert token.scopes == ["dispatch:write"] and token.created_by == admin
    assert token.key_hash == services.token_hash(shown)
    assert shown not in client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_at <= timezone.now()


def test_the_make_run_banner_names_the_scopes_the_demo_token_holds(settings):
    """The banner said "(dispatch, positions)" of a token that reads cameras too: it prints what the command reads
    from the stored token."""
    from io import StringIO
    from pathlib import Path

    from django.core.management import call_command

    from api.models import ApiToken

    settings.DEMO = True
    token, scopes = StringIO(), StringIO()
    call_command("api_token_demo", stdout=token)
    call_command("api_token_demo", "--scopes", stdout=scopes)

    stored = ApiToken.objects.get(name="Demo dispatch and vehicle location")
    assert scopes.getvalue().strip() == ", ".join(stored.scopes) and "registry:read" in scopes.getvalue()
    assert token.getvalue().strip().startswith("cnt_demo")
    banner = (Path(settings.BASE_DIR) / "scripts" / "run.sh").read_text()
    assert "api_token_demo --scopes" in banner and "(dispatch, positions)" not in banner


NEARBY = "/api/v1/cameras/nearby/?lat=35.78&lng=-78.64"


def _get(url: str, key: str) -> tuple[int, dict]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_token_revoked_here_is_refused_at_once_by_a_server_that_kept_it(server_process, token):
    key = token("registry:read")
    assert _get(server_process + NEARBY, key)[0] == 200
    assert _get(server_process + NEARBY, key)[0] == 200  # the server keeps the token it found
    assert services.token_revoke(token=ApiToken.objects.get(), user=None)
    status, body = _get(server_process + NEARBY, key)
    assert status == 401 and "revoked" in body["detail"]


def test_without_redis_tokens_still_work_and_a_revocation_made_elsewhere_holds(client, token, settings):
    from tests.conftest import free_port

    key = token("registry:read")
    assert client.get(NEARBY, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200  # kept in memory now
    settings.CACHES = {"default": {"BACKEND": "common.cache.SharedRedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    assert client.get(NEARBY, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    # Revoked by another process whose new token generation could not reach Redis either.
    ApiToken.objects.update(revoked_at=timezone.now())
    response = client.get(NEARBY, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
