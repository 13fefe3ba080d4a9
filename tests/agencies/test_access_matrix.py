"""Outside agencies' accounts and tokens reach nothing of the program's by role alone: every page and endpoint of
the URL conf (walked, so a URL added later is covered too), the admin, the map's JSON, the API with every scope
and its filters, and the fast routes. An agency account here holds every role group and the staff flag: the
central guard (common.access) refuses it all the same. Only /agency/ pages answer it, and only for its own
requests."""

import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

from agencies import selectors
from api import services as api_services
from api.authentication import token_for_fast_route
from api.models import Scope
from common.access import is_outside, is_program_staff
from registry.models import Owner
from requests_app.selectors import incidents_visible_to
from tests.agencies.conftest import agency_user

pytestmark = pytest.mark.django_db

# The account's own sign-in pages: its second factor, its password, the admin's empty index ("no permission").
OWN_ACCOUNT = {"/account/mfa/setup/", "/account/mfa/verify/", "/admin/", "/admin/jsi18n/", "/admin/password_change/",
               "/admin/password_change/done/"}
SECRETS = ("alice@example.org", "bob@example.org", "Alice", "video of alice")


def _regex_parts(patterns, prefix=""):
    for entry in patterns:
        regex = entry.pattern.regex.pattern.lstrip("^").removesuffix(r"\Z").removesuffix("$")
        if isinstance(entry, URLResolver):
            yield from _regex_parts(entry.url_patterns, prefix + regex)
        elif isinstance(entry, URLPattern):
            yield prefix + regex


def every_url(samples) -> list[str]:
    """One concrete path per URL pattern: each parameter filled with the first sample that resolves."""
    paths = set()
    for regex in _regex_parts(get_resolver().url_patterns):
        for template, params in normalize(regex):
            for sample in samples:
                path = "/" + (template % dict.fromkeys(params, sample) if params else template)
                try:
                    resolve(path)
                except Resolver404:
                    continue
                paths.add(path)
                break
    return sorted(paths)


@pytest.fixture
def outsider(federal):
    return agency_user(federal, "agent", with_every_role=True)


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def test_the_guard_refuses_every_permission_and_staff_check(outsider, case):
    assert outsider.is_staff and outsider.groups.count() >= 6
    assert is_outside(outsider) and not is_program_staff(outsider)
    assert not outsider.has_perm("registry.view_owner") and not outsider.has_perm("integration.open_live_view")
    assert not outsider.has_perm("requests_app.view_incident", case["incident"])  # guardian's object permissions
    assert not outsider.has_module_perms("registry")
    assert not incidents_visible_to(user=outsider).exists()


def test_every_url_answers_an_agency_account_no_more_than_a_stranger(outsider, case):
    """A stranger (signed out) and the agency account open each URL; the account may reach a page a stranger
    cannot only under /agency/ (its own pages), never the legal reviewer's."""
    owner = Owner.objects.get(email="alice@example.org")
    samples = [str(owner.pk), str(case["clips"]["alice"].pk), str(case["clips"]["alice"].code),
               str(case["incident"].code), str(uuid.uuid4()), "1", "x"]
    stranger, agent = Client(), Client()
    agent.force_login(outsider)
    paths = every_url(samples)
    assert len(paths) > 150 and "/agency/review/" in paths and any(p.startswith("/api/v1/") for p in paths)
    leaks = []
    for path in paths:
        if path in ("/admin/logout/",):
            continue
        theirs = agent.get(path)
        if theirs.status_code >= 300:
            continue
        if path in OWN_ACCOUNT:
            assert not any(secret in _body(theirs) for secret in SECRETS), path
            continue
        if path.startswith("/agency/") and not path.startswith("/agency/review/"):
            assert not any(secret in _body(theirs) for secret in SECRETS), path
            continue
        if stranger.get(path).status_code != theirs.status_code:
            leaks.append(f"{path}: {theirs.status_code}")
        elif any(secret in _body(theirs) for secret in SECRETS):
            leaks.append(f"{path}: shows an owner's data")
    assert not leaks, "reached by an outside agency's account:\n" + "\n".join(leaks)


@pytest.mark.parametrize("path", [
    "/map/", "/map/cameras.geojson?bbox=-78.82,35.70,-78.47,35.97",
    "/map/nearby.json?lat=35.7796&lng=-78.6382&radius=500",
    "/admin/", "/admin/registry/owner/", "/admin/registry/camera/", "/admin/requests_app/incident/",
    "/admin/requests_app/clip/", "/admin/audit/accessentry/", "/agency/review/",
])
def test_the_map_admin_and_review_pages_refuse_an_agency_account(client, outsider, case, path):
    client.force_login(outsider)
    response = client.get(path)
    assert response.status_code in (302, 401, 403, 404) or (path == "/admin/" and "permission" in _body(response))
    assert not any(secret in _body(response) for secret in SECRETS)


def test_the_case_and_its_evidence_refuse_an_agency_account(client, outsider, case):
    client.force_login(outsider)
    alice, owner = case["clips"]["alice"], Owner.objects.get(email="alice@example.org")
    for path in (f"/admin/registry/owner/{owner.pk}/change/?reason=x",
                 f"/admin/requests_app/incident/{case['incident'].pk}/change/",
                 f"/admin/requests_app/clip/{alice.pk}/change/"):
        assert client.get(path).status_code in (302, 403, 404), path
    for path in [p for p in every_url([str(alice.code), str(case["incident"].code)]) if str(alice.code) in p]:
        response = client.get(path)
        assert response.status_code != 200 or "video of alice" not in _body(response), path


@pytest.fixture
def agency_token(federal):
    """A token of the agency holding every scope: the scopes open nothing."""
    _token, key = api_services.token_create(name="FBE system", scopes=[s.value for s in Scope], agency=federal)
    return key


def test_an_agency_token_reaches_no_api_endpoint_or_filter(agency_token, case):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {agency_token}")
    paths = [p for p in every_url([str(uuid.uuid4()), "1"]) if p.startswith("/api/v1/")]
    paths += ["/api/v1/cameras/?bbox=-78.82,35.70,-78.47,35.97",
              "/api/v1/cameras/nearby/?lat=35.7796&lng=-78.6382&radius=500", "/api/v1/cameras/?owner_kind=resident",
              "/api/v1/calls/", "/api/v1/positions/"]
    stranger = Client()
    reached = [p for p in paths if client.get(p).status_code < 300 and stranger.get(p).status_code >= 300]
    assert not reached, reached
    response = client.get("/api/v1/cameras/nearby/?lat=35.7796&lng=-78.6382&radius=500")
    assert response.status_code == 403 and "outside agency" in response.json()["detail"]
    pushed = client.post("/api/v1/calls/", {"call_id": "1"}, content_type="application/json")
    assert pushed.status_code in (403, 404, 405)


def test_the_fast_routes_pass_an_agency_token_to_django(agency_token):
    """The nearby and position routes answer on the event loop before Django: an agency token is not theirs."""
    async def database(function, *args):
        return await sync_to_async(function)(*args)

    found = async_to_sync(token_for_fast_route)(agency_token, scope=Scope.REGISTRY_READ.value, database=database)
    assert found is None


def test_an_agency_account_is_none_of_the_program_staff_even_made_superuser_later(outsider):
    from django.core.exceptions import ValidationError

    from agencies import services

    root = User.objects.create_superuser("root2", "r@example.org", None)
    with pytest.raises(ValidationError, match="superuser"):
        services.agency_member_add(agency=selectors.agency_of(outsider), user=root, actor=None)


def test_a_superuser_cannot_make_an_agency_account_a_superuser_in_the_admin(client, outsider):
    root = User.objects.create_superuser("root3", "root3@example.org", "correct-horse-battery-9")
    client.force_login(root)
    path = f"/admin/auth/user/{outsider.pk}/change/"
    form = client.get(path).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"is_superuser": "on", "is_staff": "on", "is_active": "on", "date_joined_0": "2026-12-01",
                 "date_joined_1": "10:00:00", "groups": [], "user_permissions": []})
    response = client.post(path, data)
    assert response.status_code == 200  # the form again, with the reason
    assert "cannot be a superuser" in response.content.decode()
    outsider.refresh_from_db()
    assert not outsider.is_superuser
