"""The staff map's fast route (api.map_route) answers exactly as Django's view does: the same requests, sent once
through the fast route (with Django behind it) and once to Django's handler alone, get the same status, headers and
body and leave the same ledger entry; every request the route is not sure of is Django's own answer, whoever asks."""

import gzip
import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.gis.geos import Point
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import timezone

from accounts.middleware import SESSION_ADDRESS, SESSION_SEEN, SESSION_STARTED
from accounts.models import AccountLock
from api.map_route import PATH, MapRoute
from audit.actions import Action
from audit.models import AccessEntry, PendingEntry
from connect.asgi_body import SealedBodyASGIHandler
from tests.api.asgi_exchange import CountingApp, exchange
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory

CITY = {"bbox": "-78.82,35.70,-78.47,35.97", "zoom": "11"}
STREET = {"bbox": "-78.645,35.775,-78.635,35.785", "zoom": "17"}  # few cameras: each one, not groups


@pytest.fixture
def cameras(transactional_db, settings):
    settings.MAP_CLUSTER_ABOVE = 2
    for lng, lat in [(-78.6382, 35.7801), (-78.6375, 35.7790), (-78.70, 35.85), (-78.55, 35.75)]:
        CameraFactory(location=Point(lng, lat, srid=4326))
    yield
    from django.db import connection

    # The route's own connections and the handlers' threads keep theirs: end them, so the test database can be
    # flushed and dropped.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def session_of(user: User, **changes) -> str:
    """A signed-in session as Django's stack leaves it after a request (start, address, last seen), with `changes`;
    its Cookie header value."""
    client = Client()
    client.force_login(user)
    key = client.cookies["sessionid"].value
    session = SessionStore(key)
    now = time.time()
    session.update({SESSION_STARTED: now - 60, SESSION_SEEN: now - 5, SESSION_ADDRESS: "127.0.0.1", **changes})
    for name, value in changes.items():
        if value is None:
            del session[name]
    session.save()
    return f"sessionid={key}"


def get(app, params: dict, *, cookie: str | None, method: str = "GET", extra: list | None = None):
    headers = [(b"host", b"testserver"), *(extra or [])]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return exchange(app, method=method, path=PATH, query=urlencode(params).encode(), headers=headers)


def map_views() -> list[dict]:
    rows = [*PendingEntry.objects.filter(action=Action.MAP_VIEWED),
            *AccessEntry.objects.filter(action=Action.MAP_VIEWED)]
    # A pending entry's role is in `unit` until sealing moves it into `detail`.
    return [{"actor_label": row.actor_label, "detail": {**row.detail, **({"unit": row.unit} if getattr(
        row, "unit", "") else {})}} for row in sorted(rows, key=lambda row: row.at)]


def both_ways(params: dict, **request):
    """(fast answer, Django's answer, requests the route passed on, the entries each left). The route gets the
    request twice, as a map sends view after view: its second answer (headers kept from the first) counts."""
    django_app = CountingApp(SealedBodyASGIHandler())
    fast_app = MapRoute(django_app)
    before = len(map_views())
    first = get(fast_app, params, **request)
    fast = get(fast_app, params, **request)
    if first[0] == 200:
        assert_same(first, fast)
    after_fast = map_views()
    django = get(SealedBodyASGIHandler(), params, **request)
    fast_entries, django_entries = after_fast[before:], map_views()[len(after_fast):]
    return fast, django, django_app.calls, fast_entries, django_entries


def assert_same(fast, django):
    assert fast[0] == django[0]
    # Cameras come in no set order, so their compressed length may differ by a few bytes.
    skipped = {"date"} | ({"content-length"} if content(django).get("mode") == "cameras" else set())
    assert {k: v for k, v in fast[1].items() if k not in skipped} == {
        k: v for k, v in django[1].items() if k not in skipped}
    assert content(fast) == content(django)


def content(answer):
    """The answer's JSON; cameras in the order of their codes (PostgreSQL gives them in no set order)."""
    body = gzip.decompress(answer[2]) if answer[1].get("content-encoding") == "gzip" else answer[2]
    data = json.loads(body)
    if data.get("mode") == "cameras":
        data["cameras"]["features"].sort(key=lambda feature: feature["properties"]["code"])
    return data


@pytest.mark.parametrize("params, extra", [
    (CITY, []),
    (CITY, [(b"accept-encoding", b"gzip, br")]),
    (CITY, [(b"accept-language", b"es")]),
    (STREET, [(b"accept-encoding", b"gzip")]),
    ({**CITY, "kind": "business", "level": "registered"}, []),
])
def test_a_signed_in_analysts_map_is_answered_on_the_fast_route_as_the_view_answers_it(cameras, params, extra):
    cookie = session_of(make_staff("analyst"))
    fast, django, passed_on, fast_entries, django_entries = both_ways(params, cookie=cookie, extra=extra)
    assert fast[0] == 200 and passed_on == 0  # served on the event loop, not by Django
    assert_same(fast, django)
    # One entry per read, the same whichever way: the owners read the same history.
    assert len(fast_entries) == 2 and len(django_entries) == 1
    assert fast_entries[1] == django_entries[0] and django_entries[0]["actor_label"] == "analyst"


def test_a_superuser_is_served_as_django_serves_them(cameras):
    cookie = session_of(User.objects.create_superuser("root", "root@example.org", "correct-horse-battery-9"))
    fast, django, passed_on, *_ = both_ways(CITY, cookie=cookie)
    assert fast[0] == 200 and passed_on == 0
    assert_same(fast, django)


def test_a_permission_held_by_the_user_alone_is_enough(cameras):
    make_staff("analyst")  # the roles and permissions, which the transactional tests' flush takes away
    user = User.objects.create_user("direct", password="correct-horse-battery-9", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="registry", codename="view_camera"))
    fast, django, passed_on, *_ = both_ways(CITY, cookie=session_of(user))
    assert fast[0] == 200 and passed_on == 0
    assert_same(fast, django)


def _no_perm():
    return session_of(User.objects.create_user("clerk", password="correct-horse-battery-9", is_staff=True))


def _not_staff():
    make_staff("analyst")
    user = User.objects.create_user("resident", password="correct-horse-battery-9")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="registry", codename="view_camera"))
    return session_of(user)


def _inactive():
    user = make_staff("analyst")
    cookie = session_of(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    return cookie


def _password_changed():
    user = make_staff("analyst")
    cookie = session_of(user)
    user.set_password("another-horse-battery-10")
    user.save()
    return cookie


def _locked_here():
    user = make_staff("analyst")
    AccountLock.objects.create(username="ANALYST", reason="failures", address="127.0.0.1")
    return session_of(user)


def _locked_elsewhere():  # Django keeps this session (another address's lock); the route asks Django anyway
    user = make_staff("analyst")
    AccountLock.objects.create(username="analyst", reason="failures", address="10.0.0.9")
    return session_of(user)


def _seen_a_while_ago():  # Django writes the new time: the route leaves the write to it
    return session_of(make_staff("analyst"), **{SESSION_SEEN: time.time() - 120})


def _idle_too_long():
    return session_of(make_staff("analyst"), **{SESSION_SEEN: time.time() - 31 * 60})


def _no_address_kept():
    return session_of(make_staff("analyst"), **{SESSION_ADDRESS: None})


def _expired_row():
    cookie = session_of(make_staff("analyst"))
    from django.contrib.sessions.models import Session

    Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))
    return cookie


@pytest.mark.parametrize("what, cookie_of, params, method", [
    ("no session", lambda: None, CITY, "GET"),
    ("an unknown session", lambda: "sessionid=nosuchsession1234567890", CITY, "GET"),
    ("an expired session row", _expired_row, CITY, "GET"),
    ("staff without the permission", _no_perm, CITY, "GET"),
    ("the permission but not staff", _not_staff, CITY, "GET"),
    ("an inactive user", _inactive, CITY, "GET"),
    ("a password changed since sign-in", _password_changed, CITY, "GET"),
    ("a lock from the session's address", _locked_here, CITY, "GET"),
    ("a lock from another address", _locked_elsewhere, CITY, "GET"),
    ("last seen over a minute ago", _seen_a_while_ago, CITY, "GET"),
    ("idle past the limit", _idle_too_long, CITY, "GET"),
    ("a session without its address", _no_address_kept, CITY, "GET"),
    ("a bad box", lambda: session_of(make_staff("analyst")), {"bbox": "1,2,3", "zoom": "11"}, "GET"),
    ("a bad zoom", lambda: session_of(make_staff("analyst")), {**CITY, "zoom": "x"}, "GET"),
    ("an unknown kind", lambda: session_of(make_staff("analyst")), {**CITY, "kind": "x"}, "GET"),
    ("a HEAD", lambda: session_of(make_staff("analyst")), CITY, "HEAD"),
])
def test_requests_the_route_is_not_sure_of_get_djangos_own_answer(cameras, what, cookie_of, params, method):
    cookie = cookie_of()
    django_app = CountingApp(SealedBodyASGIHandler())
    before = len(map_views())
    answer = get(MapRoute(django_app), params, cookie=cookie, method=method)
    assert django_app.calls == 1, what  # Django's answer, whatever it is
    if answer[0] != 200:
        assert len(map_views()) == before, what  # refused: nothing read, nothing recorded


def test_a_second_factor_not_verified_goes_to_django_when_required(cameras, settings):
    cookie = session_of(make_staff("analyst"))
    settings.MFA_REQUIRED = True
    django_app = CountingApp(SealedBodyASGIHandler())
    status = get(MapRoute(django_app), CITY, cookie=cookie)[0]
    assert django_app.calls == 1 and status != 200
    assert map_views() == []


def test_a_malformed_csrf_cookie_is_renewed_by_django(cameras):
    cookie = session_of(make_staff("analyst")) + "; csrftoken=bad"
    django_app = CountingApp(SealedBodyASGIHandler())
    status, headers, _ = get(MapRoute(django_app), CITY, cookie=cookie)
    assert django_app.calls == 1 and status == 200 and "csrftoken=" in headers.get("set-cookie", "")


def test_an_outside_agencys_account_holding_every_role_gets_djangos_refusal(cameras):
    """The route reads permissions in SQL, below Django's authentication backends: an outside agency's account, which
    the agencies' guard refuses every permission, must not be served there."""
    from agencies.models import OutsideAgency
    from tests.agencies.conftest import agency_user

    federal = OutsideAgency.objects.create(name="Federal Bureau of Examples", type=OutsideAgency.Type.FEDERAL,
                                           jurisdiction_state="DC")
    agent = agency_user(federal, "agent", with_every_role=True)
    User.objects.filter(pk=agent.pk).update(is_staff=True)  # made staff by mistake: still nothing of the program's
    agent.refresh_from_db()
    cookie = session_of(agent)
    fast, django, passed_on, fast_entries, _ = both_ways(CITY, cookie=cookie)
    assert passed_on == 2 and fast[0] == django[0] != 200
    assert fast_entries == []
