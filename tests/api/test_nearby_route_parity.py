"""The nearby search's fast route (api.nearby_route) answers exactly as DRF's view does: the same requests, sent once
through the fast route (with Django behind it) and once to Django's handler alone, get the same status, body and
headers, and leave the same access-ledger entry; everything but the plain search is Django's own answer."""

import json
from urllib.parse import urlencode

import pytest
from django.contrib.gis.geos import Point

from api import services
from api.models import ApiToken
from api.nearby_route import PATH, NearbyRoute
from audit.models import AccessEntry, PendingEntry
from connect.asgi_body import SealedBodyASGIHandler
from tests.api.asgi_exchange import CountingApp, exchange, exchanges
from tests.dispatch.test_positions_api import _clean_counters  # noqa: F401  (cleared counters)
from tests.registry.factories import CameraFactory, OwnerFactory

HERE = {"lat": "35.7796", "lng": "-78.6382", "radius": "200", "case": "26-000123"}
# Every header either answer may carry but the date.
COMPARED = ("content-type", "content-length", "allow", "vary", "cache-control", "expires", "content-security-policy",
            "strict-transport-security", "x-content-type-options", "x-frame-options", "referrer-policy",
            "cross-origin-opener-policy", "www-authenticate", "retry-after", "location", "set-cookie")


def get(app, params: dict, *, key: str | None, host: bytes = b"testserver", accept: bytes | None = None,
        forwarded_proto: bytes | None = None, method: str = "GET", cookie: bytes | None = None):
    """One request through `app` in-process, as uvicorn would deliver it; returns (status, headers, body)."""
    headers = [(b"host", host)]
    if key:
        headers.append((b"authorization", f"Bearer {key}".encode()))
    if accept is not None:
        headers.append((b"accept", accept))
    if forwarded_proto:
        headers.append((b"x-forwarded-proto", forwarded_proto))
    if cookie:
        headers.append((b"cookie", cookie))
    return exchange(app, method=method, path=PATH, query=urlencode(params).encode(), headers=headers)


def both_ways(params: dict, **request):
    """The request through the fast route (with Django behind it) and through Django alone, each followed by the
    ledger entry it left (or None). The fast route gets it twice, as a client sends search after search: its second
    answer (headers kept from the first) counts."""
    django_app = CountingApp(SealedBodyASGIHandler())  # built now: the middleware chain sees these settings
    fast_app = NearbyRoute(django_app)
    first = get(fast_app, params, **request)
    fast = get(fast_app, params, **request)
    assert first[:2] == fast[:2]
    fast_entry = _last_search()
    passed_on = django_app.calls
    django = get(SealedBodyASGIHandler(), params, **request)
    return (*fast, fast_entry), (*django, _last_search()), passed_on


def _last_search() -> dict | None:
    """The newest map search in the ledger, pending or sealed, as an owner would read it."""
    rows = [*PendingEntry.objects.filter(action="map.search"), *AccessEntry.objects.filter(action="map.search")]
    if not rows:
        return None
    newest = max(rows, key=lambda row: row.at)
    return {"actor_label": newest.actor_label, "case_number": newest.case_number, "owner_code": newest.owner_code,
            "detail": newest.detail, "at": newest.at}


def assert_same(fast, django):
    (fast_status, fast_headers, fast_body, _), (status, headers, content, _) = fast, django
    assert fast_status == status
    for name in COMPARED:
        assert fast_headers.get(name) == headers.get(name), name
    assert set(fast_headers) - {"date"} == set(headers) - {"date"}
    if headers.get("content-type", "").endswith("json"):
        assert json.loads(fast_body) == json.loads(content)
    else:
        assert fast_body == content


@pytest.fixture
def cameras(transactional_db):
    CameraFactory(label="Facing the square", location=Point(-78.6382, 35.7801, srid=4326), direction_deg=180,
                  range_m=80, address="1 Square")
    CameraFactory(label="Corner store", owner=OwnerFactory(kind="business"), location=Point(-78.6375, 35.7790,
                                                                                                srid=4326))
    CameraFactory(label="Far away", location=Point(-78.70, 35.85, srid=4326))
    yield
    from django.db import connection

    # The fast route's database threads and the handlers' threads keep connections: end them, so the test
    # database can be flushed and dropped.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def reader(cameras):
    return services.token_create(name="CAD", scopes=["registry:read"])[1]


def test_a_search_is_answered_on_the_fast_route_as_the_view_answers_it(reader):
    fast, django, passed_on = both_ways(HERE, key=reader)
    assert fast[0] == 200 and passed_on == 0  # served on the event loop, not by Django
    assert_same(fast, django)
    assert [f["properties"]["label"] for f in json.loads(fast[2])["features"]] == ["Facing the square",
                                                                                   "Corner store"]
    assert "script-src" in fast[1]["content-security-policy"]  # the site's policy, not one of its own
    # The owners read the same entry in their history whichever way the search came.
    fast_entry, django_entry = fast[3], django[3]
    assert fast_entry["at"] < django_entry["at"]
    fast_entry.pop("at"), django_entry.pop("at")
    assert fast_entry == django_entry and fast_entry["actor_label"] == "api:CAD"
    assert fast_entry["detail"]["results"] == 2 and len(fast_entry["detail"]["owners"]) == 2
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("what, params, request_", [
    ("outside the service area", {"lat": "40.7", "lng": "-74.0"}, {}),
    ("a radius too large", {**HERE, "radius": "99999"}, {}),
    ("a latitude that is no number", {**HERE, "lat": "x"}, {}),
    ("no latitude", {"lng": "-78.64"}, {}),
    ("a case number too long", {**HERE, "case": "9" * 40}, {}),
    ("no token", HERE, {"key": None}),
    ("an unknown token", HERE, {"key": "cnt_00000000_nothing"}),
    ("a malformed token", HERE, {"key": "not-a-token"}),
    ("a host not served", HERE, {"host": b"evil.example"}),
    ("an Accept the view cannot give", HERE, {"accept": b"text/html"}),
    ("DRF's format parameter", {**HERE, "format": "xml"}, {}),
    ("a staff session without a token", HERE, {"key": None, "cookie": b"sessionid=nothing"}),
])
def test_refused_searches_get_djangos_own_answer(reader, what, params, request_):
    fast, django, _ = both_ways(params, **{"key": reader, **request_})
    assert fast[0] >= 400, what
    assert_same(fast, django)
    assert fast[3] is None and django[3] is None  # nothing searched, nothing recorded


def test_a_search_with_more_parameters_than_django_takes_gets_djangos_400(reader, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fast, django, passed_on = both_ways({**HERE, **{f"extra{n}": "1" for n in range(20)}}, key=reader)
    assert fast[0] == 400 and passed_on == 2
    assert_same(fast, django)


def test_what_the_route_found_of_one_client_does_not_let_another_host_through(reader):
    """The route keeps what Django's checks found for a request's headers: a request from a host Django refuses,
    after searches from one it serves, still gets Django's refusal, and the served host's next search the route's
    answer."""
    django_app = CountingApp(SealedBodyASGIHandler())
    fast_app = NearbyRoute(django_app)
    assert [get(fast_app, HERE, key=reader)[0] for _ in range(2)] == [200, 200] and django_app.calls == 0
    refused = get(fast_app, HERE, key=reader, host=b"evil.example")
    assert refused[0] == 400 and django_app.calls == 1
    django_refusal = get(SealedBodyASGIHandler(), HERE, key=reader, host=b"evil.example")
    assert (refused[0], refused[2]) == (django_refusal[0], django_refusal[2])
    https = get(fast_app, HERE, key=reader, forwarded_proto=b"https")
    assert https[0] == 200 and django_app.calls == 1
    assert get(fast_app, HERE, key=reader)[0] == 200 and django_app.calls == 1


@pytest.mark.parametrize("accept", [b"*/*", b"application/json", b"application/geo+json"])
def test_what_clients_ask_for_gets_the_same_geojson(reader, accept):
    fast, django, passed_on = both_ways(HERE, key=reader, accept=accept)
    assert fast[0] == 200 and passed_on == 0
    assert_same(fast, django)


def test_a_head_request_gets_djangos_answer(reader):
    fast, django, passed_on = both_ways(HERE, key=reader, method="HEAD")
    assert passed_on == 2 and fast[0] == django[0] == 200
    assert_same(fast, django)


def test_a_token_without_the_scope_gets_the_views_403(reader):
    other = services.token_create(name="AVL", scopes=["positions:write"])[1]
    fast, django, passed_on = both_ways(HERE, key=other)
    assert fast[0] == 403 and passed_on == 2 and "registry:read" in json.loads(fast[2])["detail"]
    assert_same(fast, django)


def test_a_token_revoked_after_the_route_kept_it_gets_the_views_401(reader):
    fast_app = NearbyRoute(SealedBodyASGIHandler())
    assert get(fast_app, HERE, key=reader)[0] == 200  # the route keeps the token it found
    assert services.token_revoke(token=ApiToken.objects.get(), user=None)
    fast, django, passed_on = both_ways(HERE, key=reader)
    assert fast[0] == 401 and "revoked" in json.loads(fast[2])["detail"] and passed_on == 2
    assert_same(fast, django)


def test_the_fast_route_and_the_view_count_against_one_limit(reader, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    fast_app, django_app = NearbyRoute(SealedBodyASGIHandler()), SealedBodyASGIHandler()
    codes = [get(app, HERE, key=reader)[0] for app in (fast_app, django_app, fast_app, fast_app, django_app)]
    assert codes == [200, 200, 200, 429, 429]
    fast, django, _ = both_ways(HERE, key=reader)
    assert fast[0] == 429 and "3 requests" in json.loads(fast[2])["detail"]
    assert_same(fast, django)
    assert PendingEntry.objects.filter(action="map.search").count() + \
        AccessEntry.objects.filter(action="map.search").count() == 3  # a refused search is not recorded


def test_plain_http_when_https_is_required_is_redirected_as_django_does(reader, https_required):
    fast, django, _ = both_ways(HERE, key=reader)
    assert fast[0] == 301 and fast[1]["location"].startswith("https://")
    assert_same(fast, django)


def test_over_https_the_fast_route_sends_the_sites_hsts(reader, https_required):
    fast, django, passed_on = both_ways(HERE, key=reader, forwarded_proto=b"https")
    assert fast[0] == 200 and passed_on == 0
    assert fast[1]["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert_same(fast, django)


def test_the_schema_still_documents_the_search(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/cameras/nearby/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"lat", "lng", "radius", "case"}
    assert "application/geo+json" in operation["responses"]["200"]["content"]
    assert {"401", "403", "400", "429"} <= set(operation["responses"])


def test_without_redis_the_search_is_left_to_the_view_which_still_answers(reader, settings):
    from tests.conftest import free_port

    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = nothing_there  # the fast route's client
    settings.CACHES = {"default": {"BACKEND": "common.cache.SharedRedisCache", "LOCATION": nothing_there}}
    fast, django, passed_on = both_ways(HERE, key=reader)
    assert fast[0] == 200 and passed_on == 2  # no count, no generation: nothing kept can be trusted here
    assert_same(fast, django)
    assert fast[3]["actor_label"] == "api:CAD"  # recorded all the same


def test_concurrent_searches_each_leave_their_entry_before_their_answer(reader):
    """The route writes the entries of searches running together in one group commit (audit.ledger.group_commit):
    each answered search has its own entry, naming what it returned."""
    fast_app = NearbyRoute(CountingApp(SealedBodyASGIHandler()))
    cases = [f"26-{n:06d}" for n in range(8)]
    answers = exchanges(fast_app, [{
        "method": "GET", "path": PATH, "query": urlencode({**HERE, "case": case}).encode(),
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {reader}".encode())]} for case in cases])
    assert [status for status, _, _ in answers] == [200] * 8 and fast_app.app.calls == 0
    entries = [*PendingEntry.objects.filter(action="map.search"), *AccessEntry.objects.filter(action="map.search")]
    assert sorted(entry.case_number for entry in entries) == cases
    assert all(entry.detail["results"] == 2 and entry.actor_label == "api:CAD" for entry in entries)


@pytest.fixture
def ledger_refusing_searches(cameras):
    """The database refuses every map-search entry (a real constraint, as a full disk or a lost primary would
    refuse them all)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_pendingentry ADD CONSTRAINT test_refuse_searches "
                       "CHECK (action <> 'map.search') NOT VALID")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_pendingentry DROP CONSTRAINT test_refuse_searches")


def test_a_search_whose_entry_cannot_be_written_returns_no_data(reader, ledger_refusing_searches):
    fast_app = NearbyRoute(CountingApp(SealedBodyASGIHandler()))
    answers = exchanges(fast_app, [{
        "method": "GET", "path": PATH, "query": urlencode({**HERE, "case": f"26-{n:06d}"}).encode(),
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {reader}".encode())]} for n in range(4)])
    for status, _, body in answers:
        assert status == 500 and b"features" not in body and b"Facing the square" not in body
    assert _last_search() is None


def test_a_search_after_its_connection_was_cut_is_answered_on_a_new_one(reader):
    """The route's own connections (api.loop_database): one cut by the server (a restart, a failover) is replaced."""
    import asyncio

    from django.db import connection

    from tests.api.asgi_exchange import _one_request
    from tests.own_loop import run_async

    request = {"method": "GET", "path": PATH, "query": urlencode(HERE).encode(),
               "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {reader}".encode())]}

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        tests_own = cursor.fetchone()[0]

    def cut_the_routes_connections():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid() AND pid <> %s "
                           "AND backend_type = 'client backend'", [tests_own])
            cut = cursor.fetchone()[0]
        connection.close()
        return cut

    async def two_searches():
        fast_app = NearbyRoute(CountingApp(SealedBodyASGIHandler()))
        first = await _one_request(fast_app, **request)
        cut = await asyncio.to_thread(cut_the_routes_connections)
        second = await _one_request(fast_app, **request)
        return first[0], cut, second[0], fast_app.app.calls

    first, cut, second, passed_on = run_async(two_searches())
    assert first == 200 and cut >= 1 and second == 200 and passed_on == 0
