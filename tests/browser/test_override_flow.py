"""Two-person override in two browsers (issue 17's done-when): an analyst on the staff map asks for an override for
a case farther than the owner allows; a supervisor on a phone approves it from the admin's dashboard; the analyst's
dialog shows the approval and the view opens; both reasons are in the owner's history."""

import re

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from integration.models import LiveSession
from tests.browser.conftest import offline, screenshot, staff_sign_in
from tests.conftest import make_staff
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pages(browser, asgi_server):
    made = []

    def new(**options):
        context = offline(browser.new_context(base_url=asgi_server, **options))
        context.set_default_timeout(15_000)
        made.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield new
    for context in made:
        context.close()


def test_an_analyst_asks_and_a_supervisor_approves_from_a_phone(pages, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    camera = CameraFactory(owner=OwnerFactory(kind="business", name="Corner Grocery"), label="Store front",
                           location=Point(-78.6382, 35.7796, srid=4326))
    share_camera(camera)
    far = IncidentFactory(case_number="26-004512", offense_type="Robbery",
                          location=Point(-78.6382, 35.7900, srid=4326))  # 1.2 km: outside the owner's 300 m
    trained(make_staff("analyst"))
    make_staff("supervisor")

    analyst = pages(viewport={"width": 1280, "height": 900})
    staff_sign_in(analyst, "analyst")
    analyst.fill("#search-q", "35.7796, -78.6382")
    analyst.click("#search-form button")
    analyst.click("#results [data-watch-live]")
    analyst.select_option("#live-incident", str(far.code))
    analyst.fill("#live-reason", "Robbery suspect fled south on foot")
    analyst.fill("#live-ask-reason", "Suspect ran south past this store, 26-004512")
    analyst.click("#live-ask")
    expect(analyst.locator("#live-ask-status")).to_contain_text("Waiting for a supervisor")

    supervisor = pages(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    staff_sign_in(supervisor, "supervisor", next_path="/admin/")
    expect(supervisor.locator("#dashboard")).to_contain_text("Case 26-004512: analyst asks")
    supervisor.click("text=Case 26-004512: analyst asks")
    supervisor.fill("textarea[name=reason]", "Armed robbery, escape route, one camera")
    screenshot(supervisor, "supervisor-override-phone")
    supervisor.click("button[value=approve]")
    expect(supervisor.locator(".messages")).to_contain_text("Approved: case 26-004512")

    expect(analyst.locator("#live-ask-status")).to_contain_text("Approved by supervisor", timeout=10_000)
    analyst.click("#live-open")
    expect(analyst.locator("#live-viewer")).to_be_visible()
    session = LiveSession.objects.get(camera=camera)
    assert session.override.decided_by.username == "supervisor"
    assert re.search("Suspect ran south.*approved by supervisor: Armed robbery", session.override_reason)
    assert not analyst.errors and not supervisor.errors
