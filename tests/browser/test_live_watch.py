"""A live watch in a browser: the real connector streams a rendered street with a known figure (red top, white hat,
backpack); the analyst who set the watch on the case opens the camera live from the map and sees a box with its
label over the picture and a line with the time in the list under it."""

import re
import subprocess
import sys

import pytest
from django.contrib.gis.geos import Point
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from detections import services as detection_services
from detections import synthetic
from integration import services
from tests.browser.conftest import checked_page, staff_sign_in
from tests.conftest import make_staff
from tests.detections.conftest import SUSPECT
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_analyst_sees_a_watched_figure_marked_on_the_live_view(browser, asgi_server, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    camera = CameraFactory(owner=OwnerFactory(kind="business", name="Corner Grocery"), label="Store front",
                           location=Point(-78.6382, 35.7796, srid=4326))
    share_camera(camera)
    incident = IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326), offense_type="Robbery")
    analyst = trained(make_staff("analyst"))
    assign_perm("requests_app.view_incident", analyst, incident)
    detection_services.watch_set(user=analyst, incident=incident, reason="Robbery suspect seen on foot", minutes=30,
                                 criteria={"kind": "person", "upper_colour": "red", "hat": True, "bag": True})
    standing = synthetic.Figure(**{**SUSPECT.__dict__, "x": 640, "dx": 0, "start_s": 0.0})
    street = tmp_path / "street.mp4"
    street.write_bytes(synthetic.clip_mp4([standing], seconds=20, fps=5, size=(960, 540)))
    # The real connector program, as an owner runs it, with a recorded file for a camera.
    token = services.connector_token_issue(camera=camera, by="owner")
    connector = subprocess.Popen([sys.executable, "-m", "connect_connector", "--server", asgi_server, "--camera",
                                  str(camera.code), "--token", token, "--source", str(street), "--fps", "5",
                                  "--width", "960"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with checked_page(browser, asgi_server) as page:
            staff_sign_in(page, "analyst")
            page.fill("#search-q", "35.7796, -78.6382")
            page.click("#search-form button")
            page.click("#results [data-watch-live]")
            page.fill("#live-reason", "Robbery suspect seen on foot")
            page.click("#live-open")
            mark = page.locator("#live-marks-layer .live-mark")
            expect(mark).to_contain_text("red top", timeout=40_000)
            expect(mark).to_contain_text("white hat")
            expect(page.locator("#live-watch-set")).to_have_attribute(
                "href", f"/cases/{incident.code}/search/#det-watch-form")  # another watch, from the live view
            timed_line = re.compile(r"\d\d:\d\d:\d\d\D* · match: person: red top")
            expect(page.locator("#live-marks")).to_contain_text(timed_line)
    finally:
        connector.terminate()
        connector.wait(timeout=10)
