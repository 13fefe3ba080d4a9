"""External geocoders, each against a real local HTTP server that answers as that protocol does (Nominatim's
jsonv2, ArcGIS's GeocodeServer f=json), through connect's own endpoints: what they ask, what they return, and a
clear message when the service is slow, failing or not a geocoder."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from addresses.setting import parse_geocoder

pytestmark = pytest.mark.django_db


class Geocoder(BaseHTTPRequestHandler):
    """Answers per path as the real services do; records each request for the test to read."""

    requests: list = []
    delay_s = 0.0
    mode = "ok"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        type(self).requests.append((url.path, query, self.headers.get("User-Agent", "")))
        time.sleep(self.delay_s)
        if self.mode == "error":
            return self._send(503, b"<html>maintenance</html>", "text/html")
        if self.mode == "html":
            return self._send(200, b"<html>welcome</html>", "text/html")
        answer = ANSWERS.get(url.path.rsplit("/", 1)[-1], lambda q: {"error": "unknown path"})(query)
        self._send(200, json.dumps(answer).encode(), "application/json")

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def nominatim_search(query):
    if "nowhere" in query["q"]:
        return []
    return [{"place_id": 1, "lat": "35.7623", "lon": "-78.6410", "category": "place", "type": "house",
             "display_name": "1200, Fayetteville Street, Raleigh, Wake County, North Carolina, 27603, United States"},
            {"place_id": 2, "lat": "not a number", "lon": "-78.6", "display_name": "broken"}]


def nominatim_reverse(query):
    if float(query["lat"]) > 35.9:
        return {"error": "Unable to geocode"}
    return {"place_id": 3, "lat": query["lat"], "lon": query["lon"],
            "display_name": "12, Oak Court, Raleigh, North Carolina, 27609, United States"}


def arcgis_candidates(query):
    if "nowhere" in query["SingleLine"]:
        return {"spatialReference": {"wkid": 4326}, "candidates": []}
    return {"spatialReference": {"wkid": 4326}, "candidates": [
        {"address": "1200 FAYETTEVILLE ST, RALEIGH, NC, 27603", "location": {"x": -78.641, "y": 35.7623},
         "score": 100, "attributes": {}},
        {"address": "1200 FAYETTEVILLE RD, GARNER, NC", "location": {"x": -78.6, "y": 35.7}, "score": 45,
         "attributes": {}}]}


def arcgis_reverse(query):
    x, y = (float(v) for v in query["location"].split(","))
    if y > 35.9:
        return {"error": {"code": 400, "message": "Cannot perform query. Invalid query parameters.",
                          "details": ["Unable to find address for the specified location."]}}
    return {"address": {"Match_addr": "12 OAK CT, RALEIGH, NC, 27609", "City": "RALEIGH"},
            "location": {"x": x, "y": y, "spatialReference": {"wkid": 4326}}}


ANSWERS = {"search": nominatim_search, "reverse": nominatim_reverse,
           "findAddressCandidates": arcgis_candidates, "reverseGeocode": arcgis_reverse}


@pytest.fixture
def server():
    Geocoder.requests, Geocoder.delay_s, Geocoder.mode = [], 0.0, "ok"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Geocoder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    cache.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_nominatim_search_and_reverse_through_connects_endpoints(client, settings, server):
    settings.GEOCODER = parse_geocoder("CONNECT_GEOCODER", server + "/nominatim/")
    body = client.get("/addresses/search.json", {"q": "1200 Fayetteville"}).json()
    assert body == {"results": [{"address": "1200, Fayetteville Street, Raleigh, Wake County, North Carolina, "
                                            "27603, United States", "lat": 35.7623, "lng": -78.641}]}
    path, query, agent = Geocoder.requests[0]
    assert path == "/nominatim/search" and query["format"] == "jsonv2" and query["bounded"] == "1"
    assert query["viewbox"] == "-78.82,35.97,-78.47,35.7"  # the service area: west, north, east, south
    assert agent.startswith("connect (")
    assert client.get("/addresses/search.json", {"q": "nowhere lane"}).json() == {"results": []}
    assert client.get("/addresses/reverse.json", {"lat": 35.8, "lng": -78.6}).json()["result"]["address"] \
        .startswith("12, Oak Court")
    assert client.get("/addresses/reverse.json", {"lat": 35.95, "lng": -78.6}).json() == {"result": None}


def test_arcgis_search_drops_weak_candidates_and_reverse_says_when_it_finds_nothing(client, settings, server):
    settings.GEOCODER = parse_geocoder("CONNECT_GEOCODER", server + "/arcgis/rest/services/Locator/GeocodeServer")
    assert settings.GEOCODER[0] == "arcgis"
    body = client.get("/addresses/search.json", {"q": "1200 Fayetteville"}).json()
    assert body == {"results": [{"address": "1200 FAYETTEVILLE ST, RALEIGH, NC, 27603", "lat": 35.7623,
                                 "lng": -78.641}]}
    path, query, _ = Geocoder.requests[0]
    assert path.endswith("/GeocodeServer/findAddressCandidates") and query["f"] == "json" and query["outSR"] == "4326"
    assert query["searchExtent"] == "-78.82,35.7,-78.47,35.97"
    near = client.get("/addresses/reverse.json", {"lat": 35.8, "lng": -78.6}).json()
    assert near == {"result": {"address": "12 OAK CT, RALEIGH, NC, 27609", "lat": 35.8, "lng": -78.6}}
    assert client.get("/addresses/reverse.json", {"lat": 35.95, "lng": -78.6}).json() == {"result": None}


@pytest.mark.parametrize("kind", ["/nominatim", "/arcgis/rest/services/World/GeocodeServer"])
def test_a_slow_failing_or_wrong_service_gets_a_clear_message(client, settings, server, kind):
    settings.GEOCODER = parse_geocoder("CONNECT_GEOCODER", server + kind)
    settings.GEOCODER_TIMEOUT_S = 1
    host = server.removeprefix("http://")

    Geocoder.delay_s = 1.5
    response = client.get("/addresses/search.json", {"q": "1200 Fayetteville"})
    assert response.status_code == 502
    assert response.json()["detail"] == (f"The address service ({host}) did not answer within 1 s. Try again, or "
                                         "place the camera on the map.")
    Geocoder.delay_s, Geocoder.mode = 0, "error"
    response = client.get("/addresses/reverse.json", {"lat": 35.8, "lng": -78.6})
    assert response.status_code == 502 and "answered HTTP 503" in response.json()["detail"]
    Geocoder.mode = "html"
    response = client.get("/addresses/search.json", {"q": "1200 Fayetteville"})
    assert response.status_code == 502 and "is CONNECT_GEOCODER the service's address?" in response.json()["detail"]


def test_an_unreachable_service_is_said_so(client, settings):
    settings.GEOCODER = ("nominatim", "http://127.0.0.1:9")  # the discard port: nothing listens
    response = client.get("/addresses/search.json", {"q": "1200 Fayetteville"})
    assert response.status_code == 502
    assert response.json()["detail"] == ("The address service (127.0.0.1:9) cannot be reached. Try again later, or "
                                         "place the camera on the map.")


@pytest.mark.parametrize(("value", "expected"), [
    ("", ("local", "")), ("local", ("local", "")), ("LOCAL", ("local", "")),
    ("https://nominatim.openstreetmap.org/", ("nominatim", "https://nominatim.openstreetmap.org")),
    ("https://maps.raleighnc.gov/arcgis/rest/services/Locators/CompositeLocator/GeocodeServer",
     ("arcgis", "https://maps.raleighnc.gov/arcgis/rest/services/Locators/CompositeLocator/GeocodeServer")),
])
def test_the_setting_tells_the_kinds_apart(value, expected):
    assert parse_geocoder("CONNECT_GEOCODER", value) == expected


@pytest.mark.parametrize("value", ["nominatim", "ftp://example.org", "https://example.org/search?q=x"])
def test_the_setting_refuses_what_is_not_a_geocoder(value):
    with pytest.raises(ImproperlyConfigured, match="CONNECT_GEOCODER must be 'local', a Nominatim URL"):
        parse_geocoder("CONNECT_GEOCODER", value)
