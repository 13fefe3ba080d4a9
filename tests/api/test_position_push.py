"""One position per request through the real server (api.position_push serves the plain case on the event loop):
the same answers as the API view gives, stored, on the map, limited, and a revoked token refused at once, also by
a server process that kept it."""

import http.client
import json
import time
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.utils import timezone

from api import services
from api.models import ApiToken
from dispatch.models import OfficerPosition
from tests.conftest import make_staff
from tests.dispatch.test_positions_api import URL, _clean_counters, fix  # noqa: F401  (cleared counters)


class Server:
    """A keep-alive HTTP connection to the test server, as a vehicle-location gateway holds one."""

    def __init__(self, url: str):
        parts = urlparse(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def post(self, body, key: str | None = None, *, path: str = URL, headers: dict | None = None):
        headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.connection.request("POST", path, body=raw, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        is_json = response.getheader("Content-Type") == "application/json"
        return response.status, json.loads(content) if is_json else None, response


@pytest.fixture
def server(asgi_server):
    return Server(asgi_server)


@pytest.fixture
def avl(transactional_db):
    _, key = services.token_create(name="AVL", scopes=["positions:write"])
    return key


def test_a_report_is_stored_and_answered_as_the_view_answers(server, avl):
    status, body, response = server.post(fix("A12", 3), avl)
    assert status == 202 and body["unit"] == "A12"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("X-Frame-Options") == "DENY"
    # the site's own policy, as Django's middleware sends it on every other answer
    assert response.getheader("Content-Security-Policy") == Client().post(URL).headers["Content-Security-Policy"]
    stored = OfficerPosition.objects.get()
    assert stored.unit == "A12" and stored.heading_deg == 90 and stored.speed_kmh == 40
    assert body["at"] == stored.recorded_at.astimezone(timezone.get_current_timezone()).isoformat()
    assert ApiToken.objects.get().last_used_at is not None


def test_the_latest_position_per_unit_wins_even_when_reports_arrive_late(server, avl, transactional_db):
    for seconds_ago, lat in ((10, 35.70), (2, 35.72), (5, 35.71)):
        assert server.post(fix("A12", seconds_ago, lat=lat), avl)[0] == 202
    client = Client()
    client.force_login(make_staff("analyst"))
    assert [round(p["lat"], 2) for p in client.get(URL).json()] == [35.72]


def test_the_map_hears_of_a_pushed_position(asgi_server, server, avl):
    from websockets.sync.client import connect

    client = Client()
    client.force_login(make_staff("analyst"))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    ws_url = asgi_server.replace("http://", "ws://") + "/ws/dispatch/"
    with connect(ws_url, additional_headers={"Cookie": cookie}, origin=asgi_server) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "snapshot"
        sent = time.monotonic()
        assert server.post(fix("B7"), avl)[0] == 202
        event = json.loads(socket.recv(timeout=5))
        assert event["type"] == "positions" and [p["unit"] for p in event["positions"]] == ["B7"]
        assert time.monotonic() - sent < 2


@pytest.mark.parametrize("body, field", [
    (fix(lat=40.0, lng=-75.0), "location"),
    (fix(heading=400), "heading"),
    (fix(heading="east"), "heading"),
    (fix(lat="35.78; drop"), "lat"),
    (fix(unit="A 12; drop"), "unit"),
    (fix(at="soon"), "at"),
    (fix(seconds_ago=-3600), "recorded_at"),
    (fix(seconds_ago=30 * 3600), "recorded_at"),
    ({"unit": "A12"}, "lat"),
])
def test_bad_reports_get_the_views_400_naming_the_field(server, avl, body, field):
    status, answer, _ = server.post(body, avl)
    assert status == 400 and field in answer, answer
    assert OfficerPosition.objects.count() == 0


@pytest.mark.parametrize("raw", [b"{not json", b'{"unit": "A12", "lat": NaN, "lng": -78.64}', b"[1, 2]"])
def test_bodies_that_are_not_a_json_object_get_a_400(server, avl, raw):
    status, answer, _ = server.post(raw, avl)
    assert status == 400 and "detail" in answer


def test_without_a_valid_token_or_scope_nothing_is_stored(server, transactional_db):
    assert server.post(fix())[0] == 401
    status, answer, response = server.post(fix(), "cnt_00000000_nothing")
    assert status == 401 and answer["detail"] == "Unknown API token."
    assert response.getheader("WWW-Authenticate").startswith("Bearer")
    _, reader = services.token_create(name="CAD", scopes=["dispatch:read", "dispatch:write"])
    status, answer, _ = server.post(fix(), reader)
    assert status == 403 and "positions:write" in answer["detail"]
    assert OfficerPosition.objects.count() == 0


def test_a_host_not_served_is_refused(server, avl):
    assert server.post(fix(), avl, headers={"Host": "evil.example"})[0] == 400
    assert OfficerPosition.objects.count() == 0


def test_a_flood_from_one_unit_gets_a_429_and_other_units_go_on(server, avl, settings):
    settings.POSITIONS_PER_UNIT_PER_MINUTE = 3
    codes = [server.post(fix("A12", i), avl)[0] for i in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    status, answer, _ = server.post(fix("A12"), avl)
    assert status == 429 and "A12" in answer["detail"]
    assert server.post(fix("B7"), avl)[0] == 202
    assert OfficerPosition.objects.count() == 4


def test_a_flood_from_one_token_gets_a_429(server, avl, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    codes = [server.post(fix(f"U{i}"), avl)[0] for i in range(5)]
    assert codes == [202, 202, 202, 429, 429]


def test_a_revocation_in_this_process_is_refused_at_once(server, avl):
    assert server.post(fix("A1"), avl)[0] == 202  # the token is now cached
    assert services.token_revoke(token=ApiToken.objects.get(), user=None)
    status, answer, _ = server.post(fix("A2"), avl)
    assert status == 401 and "revoked" in answer["detail"]


def test_a_revocation_is_refused_at_once_by_another_server_process_that_kept_the_token(server_process, avl):
    server = Server(server_process)  # a web process of its own: it learns of the revocation only through Redis
    assert server.post(fix("A1", 5), avl)[0] == 202
    assert server.post(fix("A1", 4), avl)[0] == 202  # the process keeps the token it found
    assert services.token_revoke(token=ApiToken.objects.get(), user=None)
    status, answer, _ = server.post(fix("A1", 3), avl)
    assert status == 401 and "revoked" in answer["detail"]
    assert OfficerPosition.objects.count() == 2  # the refused report was not stored


def test_a_second_authorization_header_is_left_to_django(server, avl, transactional_db):
    _, other = services.token_create(name="CAD", scopes=["dispatch:read"])
    headers = {"Content-Type": "application/json"}
    server.connection.putrequest("POST", URL)
    for name, value in [*headers.items(), ("Authorization", f"Bearer {other}"), ("Authorization", f"Bearer {avl}")]:
        server.connection.putheader(name, value)
    body = json.dumps(fix()).encode()
    server.connection.putheader("Content-Length", str(len(body)))
    server.connection.endheaders(body)
    response = server.connection.getresponse()
    response.read()
    assert response.status == 401  # Django sees one header holding two tokens
    assert OfficerPosition.objects.count() == 0
