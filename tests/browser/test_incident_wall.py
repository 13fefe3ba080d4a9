"""The incident wall in a browser, on a phone and on a desktop: an analyst opens it for an incident,
gives a reason, and the grid shows frames of two cameras (the real connector's test pattern) over one socket; a
camera the gate refuses says why in its tile; a direction of flight re-orders the tiles; a tile closes by keyboard."""

import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from api import services as api_services
from integration import services
from integration.models import LiveSession
from tests.browser.conftest import checked_page, offline, staff_sign_in
from tests.conftest import STAFF_PASSWORD, make_staff, start_connector
from tests.integration.conftest import trained
from tests.integration.test_wall import at, camera
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
def test_the_wall_shows_two_live_cameras_over_one_socket(browser, asgi_server, viewport, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    incident = IncidentFactory(location=at(), radius_m=300, offense_type="Robbery")
    grocery = camera("Near grocery", east_m=20)
    bakery = camera("Corner bakery", north_m=40, direction=180, range_m=60)
    camera("Far garage", east_m=-150, incident_radius_m=50)  # refused: the incident is beyond the owner's radius
    trained(make_staff("analyst"))
    connectors = [start_connector(asgi_server, c.code, services.connector_token_issue(camera=c, by="owner"), fps=8)
                  for c in (grocery, bakery)]
    context = offline(browser.new_context(base_url=asgi_server, viewport=viewport))
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        errors, sockets = [], []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(f"/admin/login/?next=/live/wall/%3Fincident%3D{incident.code}")
        page.fill("#id_username", "analyst")
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator("h1")).to_contain_text(incident.case_number)

        page.click("#wall-open")  # no reason yet: said, nothing opened
        expect(page.locator("#wall-error")).to_contain_text("at least 10")
        page.fill("#wall-reason", "Robbery suspect fled on foot")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # the open button, by keyboard

        tiles = page.locator("#wall-grid > li")
        expect(tiles).to_have_count(3)
        # Every open tile is opened on the socket at once, in sight or not (a view never opened ends in a minute).
        deadline = time.monotonic() + 15
        while LiveSession.objects.filter(watched_at__isnull=True).exists():
            assert time.monotonic() < deadline, "a tile out of sight was never opened"
            page.wait_for_timeout(100)
        for label in ("Near grocery", "Corner bakery"):
            tile = page.locator(f"#wall-grid > li[aria-label='{label}']")
            tile.scroll_into_view_if_needed()
            expect(tile).to_have_attribute("data-frames", re.compile(r"^([3-9]|\d\d+)$"), timeout=20_000)
        refused = page.locator("#wall-grid > li[aria-label='Far garage']")
        expect(refused).to_contain_text("50 m")
        assert [url for url in sockets if "/ws/" in url and "/ws/staff/" not in url] == [
            asgi_server.replace("http", "ws") + "/ws/wall/"]

        # The tiles fit the screen: one column on a phone, three on a desktop.
        boxes = [tiles.nth(i).bounding_box() for i in range(2)]
        assert (boxes[0]["y"] == boxes[1]["y"]) == (viewport["width"] > 900)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

        # Flight to the west: the refused garage (west) comes first, the grocery (east, behind) last.
        page.click("#wall-compass button:has-text('W')")
        expect(tiles.first).to_have_attribute("aria-label", "Far garage")
        expect(tiles.last).to_have_attribute("aria-label", "Near grocery")

        # Closing a tile by keyboard ends that view only.
        page.locator("#wall-grid > li[aria-label='Corner bakery'] .wall-close").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#wall-grid > li[aria-label='Corner bakery']")).to_have_attribute(
            "data-ended", "You closed this tile.")
        assert LiveSession.objects.get(camera=bakery).end_reason == "viewer_closed"
        assert LiveSession.objects.get(camera=grocery).ended_at is None
        assert not errors
    finally:
        context.close()
        for connector in connectors:
            connector.terminate()
            connector.wait(timeout=10)


def test_a_calls_popup_on_the_staff_map_opens_the_wall_of_its_spot(browser, asgi_server):
    camera("Near grocery", east_m=20)  # the owner allows live views only for an open incident within 300 m
    trained(make_staff("analyst"))
    _, key = api_services.token_create(name="CAD", scopes=["dispatch:write"])
    cad = APIClient()
    cad.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    with checked_page(browser, asgi_server) as page:
        staff_sign_in(page, "analyst")
        spot = at()
        assert cad.post("/api/v1/calls/", {"dispatch_id": "C26-90", "call_type": "Robbery", "priority": 1,
                                           "lat": spot.y, "lng": spot.x, "received_at": timezone.now().isoformat()},
                        format="json").status_code == 201
        link = page.locator("#dispatch-calls > li a.wall-link")
        expect(link).to_have_attribute("href", re.compile(r"^/live/wall/\?lat=35\.780000&lng=-78\.638200$"))
        link.click()
        expect(page.locator("h1")).to_have_text("Incident wall")
        page.fill("#wall-reason", "Robbery call, suspect ran off")
        page.click("#wall-open")
        # A call not yet an incident: the gate refuses the camera and the tile says why.
        expect(page.locator("#wall-grid > li[aria-label='Near grocery']")).to_contain_text("open incident within 300 m")
    assert not LiveSession.objects.exists()
