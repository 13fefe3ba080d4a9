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
