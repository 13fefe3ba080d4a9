"""The live-integration demo in two browsers: the owner signs the terms, makes a connector token, takes a
picture and draws a privacy mask; an analyst opens the camera live from the map and sees it; the owner sees
who is watching and stops it, and the analyst's view closes."""

import re
import time

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from integration.models import LiveShare, PrivacyMask
from registry import links
from registry.models import OwnerLink
from tests.browser.conftest import offline, screenshot
from tests.conftest import make_staff, start_connector
from tests.integration.conftest import trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def contexts(browser, asgi_server):
    made = []

    def new(width=1280, height=900):
        context = offline(browser.new_context(base_url=asgi_server, viewport={"width": width, "height": height}))
        context.set_default_timeout(15_000)
        made.append(context)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.errors = errors
        return page

    yield new
    for context in made:
        context.close()


def test_owner_shares_live_analyst_watches_owner_stops_it(contexts, asgi_server, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    owner = OwnerFactory(kind="business", name="Corner Grocery", email="grocer@example.org")
    camera = CameraFactory(owner=owner, label="Store front", location=Point(-78.6382, 35.7796, srid=4326))
    incident = IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326), offense_type="Robbery")
    trained(make_staff("analyst"))

    # The owner signs the terms with their limits.
    owner_page = contexts()
    link = links.link_issue(owner=owner, purpose=OwnerLink.Purpose.SIGN_IN).split("//", 1)[1].split("/", 1)[1]
    owner_page.goto("/" + link)
    owner_page.click("button:has-text('Sign in')")
    owner_page.click("text=Share live…")
    expect(owner_page.locator(".terms-text")).to_contain_text("Live sharing terms")
    owner_page.fill("#id_max_session_minutes", "20")
    owner_page.check("#id_notify_each_view")
    owner_page.check("#id_agree")
    owner_page.fill("#id_signed_name", "Casey Grocer")
    owner_page.click("text=Sign and share live")
    expect(owner_page.locator(".messages")).to_contain_text("now shared live")
    assert LiveShare.objects.get(camera=camera).max_session_minutes == 20

    # A connector token, shown once, runs the real connector with its test pattern.
    owner_page.click("text=Make a token")
    token = owner_page.locator("#token-value").inner_text().strip()
    connector = start_connector(asgi_server, camera.code, token, fps=8)
    try:
        # A picture from the camera, and a mask drawn over its left part.
        owner_page.click("text=Draw masks")
        owner_page.click("#take-still")
        expect(owner_page.locator("img#mask-still")).to_be_visible(timeout=20_000)
        box = owner_page.locator("#mask-canvas").bounding_box()
        owner_page.mouse.move(box["x"] + 5, box["y"] + 5)
        owner_page.mouse.down()
        owner_page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6, steps=5)
        owner_page.mouse.up()
        owner_page.click("#save-masks")
        expect(owner_page.locator(".messages")).to_contain_text("1 masked area saved")
        mask = PrivacyMask.objects.get(camera=camera).points
        assert mask[0][0] < 0.05 and 0.25 < mask[2][0] < 0.35
        screenshot(owner_page, "owner-live-sharing")

        # The analyst finds the camera on the map and opens it live for the incident.
        analyst_page = contexts()
        analyst_page.goto("/admin/login/?next=/map/")
        analyst_page.fill("#id_username", "analyst")
        analyst_page.fill("#id_password", "correct-horse-battery-9")
        analyst_page.click("input[type=submit]")
        analyst_page.wait_for_url("**/map/")
        analyst_page.fill("#search-q", "35.7796, -78.6382")
        analyst_page.click("#search-form button")
        analyst_page.click("#results [data-watch-live]")
        expect(analyst_page.locator("#live-rules")).to_contain_text("up to 20 minutes")
        expect(analyst_page.locator("#live-incident")).to_have_value(str(incident.code))
        analyst_page.fill("#live-reason", "Robbery suspect seen running west")
        analyst_page.click("#live-open")
        viewer = analyst_page.locator("#live-viewer")
        expect(viewer).to_have_attribute("data-frames", re.compile(r"^([3-9]|\d\d+)$"), timeout=20_000)
        expect(analyst_page.locator("#live-status")).to_contain_text("Live until")
        analyst_page.wait_for_function("document.getElementById('live-frame').naturalWidth > 0")
        screenshot(analyst_page, "analyst-live-view")

        # The owner sees who is watching, for which case and why, and stops it.
        owner_page.goto(f"/owner/cameras/{camera.code}/live/")
        expect(owner_page.locator("#viewing")).to_contain_text(incident.case_number)
        expect(owner_page.locator("#viewing")).to_contain_text("Robbery suspect seen running west")
        started = time.monotonic()
        owner_page.click("#stop-sharing")
        expect(viewer).to_have_attribute("data-ended", re.compile("stopped sharing"), timeout=3_000)
        assert time.monotonic() - started < 3
        expect(owner_page.locator(".messages")).to_contain_text("Every view was closed")
        # The ended view keeps no picture that could pass for live, and saves no still
        expect(analyst_page.locator("#live-still")).to_be_disabled()
        expect(analyst_page.locator("#live-frame")).not_to_have_attribute("src", re.compile("."))
        history = owner_page.goto("/owner/history/")
        assert history.ok
        expect(owner_page.locator("#history")).to_contain_text("started watching live")
        expect(owner_page.locator("#history")).to_contain_text(re.compile(r"stopped watching live after [\d.]+ min"))
        assert not owner_page.errors and not analyst_page.errors
    finally:
        connector.terminate()
        connector.wait(timeout=10)
