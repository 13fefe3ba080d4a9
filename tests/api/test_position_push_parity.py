"""The fast position route (api.position_push) answers exactly as Django's own view would: the same requests, sent
once through connect's HTTP application and once to Django's handler alone, get the same status, body and
security headers (host, token, HTTPS, size and JSON checks are Django's own)."""

import json

import pytest

from api import services
from api.position_push import PositionPush
from connect.asgi_body import SealedBodyASGIHandler
from dispatch.models import OfficerPosition
from tests.api.asgi_exchange import CountingApp, exchange
from tests.dispatch.test_positions_api import URL, _clean_counters, fix  # noqa: F401  (cleared counters)

SECURITY_HEADERS = ("content-type", "content-security-policy", "strict-transport-security", "x-content-type-options",
                    "x-frame-options", "referrer-policy", "cross-origin-opener-policy", "www-authenticate", "location",
                    "vary", "allow")


def post(app, body: bytes, *, key: str | None, host: bytes = b"testserver", forwarded_proto: bytes | None = None):
    """One POST through `app` in-process, as uvicorn would deliver it; returns (status, headers, body)."""
    headers = [(b"host", host), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if key:
        headers.append((b"authorization", f"Bearer {key}".encode()))
    if forwarded_proto:
        headers.append((b"x-forwarded-proto", forwarded_proto))
    return exchange(app, method="POST", path=URL, headers=headers, body=body)


def both_ways(body: bytes, **request):
    """The request through the fast route (with Django behind it) and through Django alone. The fast route gets
    it twice, as a gateway sends report after report: its second answer (headers kept from the first) counts."""
    django_app = CountingApp(SealedBodyASGIHandler())  # built now: the middleware chain sees these settings
    fast_app = PositionPush(django_app)
    first = post(fast_app, body, **request)
    fast = post(fast_app, body, **request)
    assert first[:2] == fast[:2]
    passed_on = django_app.calls
    django = post(SealedBodyASGIHandler(), body, **request)
    return fast, django, passed_on


def assert_same(fast, django):
    (fast_status, fast_headers, fast_body), (status, headers, content) = fast, django
    assert fast_status == status
    for name in SECURITY_HEADERS:
        assert fast_headers.get(name) == headers.get(name), name
    if headers.get("content-type") == "application/json":
        assert json.loads(fast_body) == json.loads(content)


@pytest.fixture
def avl(transactional_db):
    _, key = services.token_create(name="AVL", scopes=["positions:write"])
    yield key
    from django.db import connection

    # The fast route's database thread and the handlers' threads keep connections: end them, so the test
    # database can be flushed and dropped.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def report() -> bytes:
    return json.dumps(fix("A12", 3)).encode()


def test_an_accepted_report_is_answered_on_the_fast_route_as_the_view_answers(avl):
    fast, django, passed_on = both_ways(report(), key=avl)
    assert fast[0] == 202 and passed_on == 0  # served on the event loop, not by Django
    assert_same(fast, django)
    assert "script-src" in fast[1]["content-security-policy"]  # the site's policy, not one of its own
    assert OfficerPosition.objects.count() == 3


@pytest.mark.parametrize("what, body, request_", [
    ("a host not served", report, {"host": b"evil.example"}),
    ("an unknown token", report, {"key": "cnt_00000000_nothing"}),
    ("no token", report, {"key": None}),
    ("malformed JSON", lambda: b'{"unit": "A12", "lat": ', {}),
    ("JSON that is not an object", lambda: b"[1, 2]", {}),
    ("an invalid report", lambda: json.dumps(fix(heading=400)).encode(), {}),
    ("a body over the upload limit", lambda: b'{"pad": "' + b"x" * (3 * 1024 * 1024) + b'"}', {}),
])
def test_refused_requests_get_djangos_own_answer(avl, what, body, request_):
    fast, django, _ = both_ways(body(), **{"key": avl, **request_})
    assert fast[0] >= 400, what
    assert_same(fast, django)
    assert OfficerPosition.objects.count() == 0


def test_plain_http_when_https_is_required_is_redirected_as_django_does(avl, https_required):
    fast, django, _ = both_ways(report(), key=avl)
    assert fast[0] == 301 and fast[1]["location"].startswith("https://")
    assert_same(fast, django)
    assert OfficerPosition.objects.count() == 0


def test_over_https_the_fast_route_sends_the_sites_hsts(avl, https_required):
    fast, django, passed_on = both_ways(report(), key=avl, forwarded_proto=b"https")
    assert fast[0] == 202 and passed_on == 0
    assert fast[1]["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert_same(fast, django)
