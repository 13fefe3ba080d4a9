"""Every map shows streets from the configured tile server; when the tiles cannot be loaded it says so in one line
and still draws the service area and the districts, so it stays usable."""

import http.server
import io
import threading

import pytest
from PIL import Image
from playwright.sync_api import expect

from connect.env import tile_origin
from tests.browser.conftest import staff_sign_in
from tests.conftest import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DISTRICTS = 5  # in connect/data/demo-districts.geojson


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (230, 225, 210)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def tile_server():
    """A tile server on this machine that answers every tile and remembers the Referer it was sent."""
    tile, referers = _png(), []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            referers.append(self.headers.get("Referer"))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.referers = referers
    yield server
    server.shutdown()


def _use_tiles(settings, template: str) -> None:
    settings.MAP_TILES = template
    settings.MAP_TILE_OPTIONS = {**settings.MAP_TILE_OPTIONS, "attribution": "Test streets"}
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    img = [source for source in directives["img-src"] if source.startswith(("'", "data:", "blob:"))]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**directives, "img-src": img + tile_origin(template)}}


def test_the_registration_map_shows_streets_and_tells_tile_servers_only_the_site(page, settings, tile_server,
                                                                                   live_server):
    _use_tiles(settings, f"http://127.0.0.1:{tile_server.server_port}/{{z}}/{{x}}/{{y}}.png")
    page.goto("/register/")
    expect(page.locator(".camera-map .leaflet-tile-loaded").first).to_be_visible()
    expect(page.locator(".camera-map .leaflet-control-attribution")).to_contain_text("Test streets")
    expect(page.locator(".map-notice")).to_have_count(0)
    # The page's path could hold an owner's link: tile servers get the site's origin, never the path.
    assert tile_server.referers and set(tile_server.referers) == {live_server.url + "/"}


def test_without_tiles_the_registration_map_says_so_and_draws_the_area_and_districts(page):
    page.goto("/register/")  # OpenStreetMap by default, unreachable from the tests (tests/browser/conftest.py)
    notice = page.locator(".camera-map .map-notice")
    expect(notice).to_have_text("Street map unavailable: its tiles could not be loaded. The service area and "
                                "district lines are still shown.")
    expect(page.locator(".camera-map .leaflet-overlay-pane path")).to_have_count(1 + DISTRICTS)
    # Still usable: a click places the camera
    page.locator(".camera-map").first.click()
    expect(page.locator("#id_cameras-0-latitude")).not_to_have_value("")


def test_without_tiles_the_staff_map_says_so_and_keeps_working(page, settings):
    make_staff("investigator")
    staff_sign_in(page, "investigator")
    expect(page.locator("#map .map-notice")).to_contain_text("Street map unavailable")
    expect(page.locator("#map")).to_have_attribute("data-tiles", "failed")
    expect(page.locator("#map-status")).to_contain_text("cameras in view")


def test_the_incident_map_widget_says_so_and_draws_the_outlines(page):
    make_staff("investigator")
    staff_sign_in(page, "investigator", next_path="/admin/requests_app/incident/add/")
    expect(page.locator(".map-notice")).to_contain_text("Street map unavailable")
    expect(page.locator(".leaflet-overlay-pane path")).to_have_count(1 + DISTRICTS)


def test_a_default_marker_finds_its_images_when_static_files_are_hashed(browser):
    """collectstatic renames leaflet.css's marker-icon.png by its hash, and Leaflet guesses its images' folder from
    that URL: unfixed, a default marker asked the page's own path for "marker-shadow.png" (a broken marker on the
    search page's map, and the admin's "incident ... does not exist" message on the next page)."""
    from pathlib import Path

    from django.contrib.staticfiles import finders

    base = "http://127.0.0.1:9/"  # never reached: every request below is answered by the routes
    page_html = """<!doctype html><link rel="stylesheet" href="/static/leaflet/leaflet.4f0d3cd1e2b3.css">
        <div id="m" style="height:300px"></div><script src="/static/leaflet/leaflet.25c3da10cb19.js"></script>
        <script src="/static/connect/js/basemap.1e9c5a3f0b7d.js"></script>
        <script>var map = L.map("m").setView([35.78, -78.64], 15); L.marker([35.78, -78.64]).addTo(map);</script>"""
    asked = []

    def serve(route):
        path = route.request.url.removeprefix(base.rstrip("/"))
        asked.append(path)
        if not path.startswith("/static/"):
            return route.fulfill(body=page_html, content_type="text/html")
        # The hashed name of a collected file, or its plain name (both are served after collectstatic).
        name = path.removeprefix("/static/")
        plain = ".".join(part for part in name.split(".") if not (len(part) == 12 and part.isalnum())) or name
        found = finders.find(plain)
        if not found:
            return route.fulfill(status=404)
        body = Path(found).read_bytes()
        if plain == "leaflet/leaflet.css":  # as collectstatic rewrites it
            body = body.replace(b"images/marker-icon.png", b"images/marker-icon.2273e3d8ad92.png")
        kind = {"css": "text/css", "js": "text/javascript", "png": "image/png"}[plain.rsplit(".", 1)[1]]
        route.fulfill(body=body, content_type=kind)

    context = browser.new_context(base_url=base)
    try:
        context.route("**/*", serve)
        page = context.new_page()
        page.goto("/search/")
        icon = page.locator(".leaflet-marker-icon")
        expect(icon).to_have_attribute("src", base + "static/leaflet/images/marker-icon.png")
        page.wait_for_function("() => document.querySelector('.leaflet-marker-icon').naturalWidth > 0")
        page.wait_for_function("() => document.querySelector('.leaflet-marker-shadow').naturalWidth > 0")
        assert not [path for path in asked if "marker" in path and not path.startswith("/static/leaflet/images/")]
    finally:
        context.close()
