"""An analyst's live view in Chromium while this checkout's Redis is stopped and started again (issue 15, item 5):
the view says why the picture stopped, shows no frozen picture and saves no still, then comes back by itself."""

import re

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from integration import services
from tests.browser.conftest import offline, staff_sign_in
from tests.conftest import make_staff, start_connector, wait_for
from tests.connect.private_redis import private_redis
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_restored():
    yield
    private_redis("start")


def test_the_analyst_reads_why_the_view_stopped_and_sees_it_come_back(browser, asgi_server, redis_restored):
    camera = CameraFactory(owner=OwnerFactory(kind="business"), label="Store front",
                           location=Point(-78.6382, 35.7796, srid=4326))
    share_camera(camera)
    IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326), offense_type="Robbery")
    trained(make_staff("analyst"))
    connector = start_connector(asgi_server, camera.code, services.connector_token_issue(camera=camera, by="owner"))
    context = offline(browser.new_context(base_url=asgi_server, viewport={"width": 1280, "height": 900}))
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        staff_sign_in(page, "analyst")
        page.fill("#search-q", "35.7796, -78.6382")
        page.click("#search-form button")
        page.click("#results [data-watch-live]")
        page.fill("#live-reason", "Robbery suspect seen running west")
        page.click("#live-open")
        viewer, status = page.locator("#live-viewer"), page.locator("#live-status")
        expect(viewer).to_have_attribute("data-frames", re.compile(r"^([3-9]|\d\d+)$"), timeout=30_000)

        private_redis("stop")
        expect(status).to_have_text("The live service lost its connection; reopening…", timeout=30_000)
        expect(page.locator("#live-still")).to_be_disabled()
        expect(page.locator("#live-frame")).not_to_have_attribute("src", re.compile("."))
        frames = int(viewer.get_attribute("data-frames"))

        private_redis("start")
        expect(status).to_contain_text("Live until", timeout=60_000)
        expect(page.locator("#live-still")).to_be_enabled()
        wait_for(lambda: int(viewer.get_attribute("data-frames")) > frames + 2, timeout=60,
                 what="frames again after Redis came back")
        expect(viewer).not_to_have_attribute("data-closed", "1")  # the same socket all along
        assert not errors
    finally:
        context.close()
        connector.terminate()
        connector.wait(timeout=10)
