"""An analyst sends a frame from a live view to patrol; a patrol officer's phone (360 x 740) gets it on /patrol/
within two seconds, with the still, the badge and the title count, and acknowledges; the analyst's bulletin page
shows the acknowledgement as it happens. The camera's owner reads that a still was shared, nothing more."""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from playwright.sync_api import expect

from audit.actions import Action
from audit.models import AccessEntry
from bulletins.models import Bulletin, PatrolOfficer
from dispatch.models import OfficerPosition
from integration import services
from tests.browser.conftest import offline, staff_sign_in
from tests.conftest import make_staff, make_staff_named, start_connector, wait_for
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "White hat, grey backpack, heading north on Fayetteville St"


def new_page(browser, base_url, **options):
    context = offline(browser.new_context(base_url=base_url, **options))
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: page.errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return page


def test_a_frame_from_the_live_view_reaches_a_patrol_phone_and_is_acknowledged(browser, asgi_server, settings,
                                                                                tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    owner = OwnerFactory(kind="business", name="Corner Grocery")
    camera = CameraFactory(owner=owner, label="Store front", location=Point(-78.6382, 35.7796, srid=4326))
    share_camera(camera)
    incident = IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326), offense_type="Robbery")
    trained(make_staff("analyst"))
    officer = make_staff_named("patrol", "adams")
    PatrolOfficer.objects.create(user=officer, unit="2B11", zone="Downtown")
    OfficerPosition.objects.create(unit="2B11", location=Point(-78.6382, 35.7841, srid=4326),
                                   recorded_at=timezone.now() - timedelta(seconds=20))
    connector = start_connector(asgi_server, camera.code, services.connector_token_issue(camera=camera, by="owner"))
    phone = new_page(browser, asgi_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    analyst = new_page(browser, asgi_server, viewport={"width": 1280, "height": 900})
    try:
        staff_sign_in(phone, "adams", next_path="/patrol/")
        expect(phone.locator("#status")).to_have_text("Live")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling on a phone

        staff_sign_in(analyst, "analyst")
        analyst.fill("#search-q", "35.7796, -78.6382")
        analyst.click("#search-form button")
        analyst.click("#results [data-watch-live]")
        analyst.fill("#live-reason", "Robbery suspect seen running north")
        analyst.click("#live-open")
        expect(analyst.locator("#live-viewer")).to_have_attribute("data-frames", re.compile(r"^([3-9]|\d\d+)$"),
                                                                  timeout=30_000)
        with analyst.context.expect_page() as opened:
            analyst.click("#live-share")
        compose = opened.value
        compose.errors = []
        compose.on("pageerror", lambda exc: compose.errors.append(str(exc)))
        expect(compose.locator("figure.bulletin-still img")).to_be_visible()
        expect(compose.locator("#id_incident")).to_have_value(str(incident.pk))
        compose.fill("#id_description", DESCRIPTION)
        compose.fill("#id_lat", "35.7796")
        compose.fill("#id_lng", "-78.6382")
        compose.fill("#id_within_km", "2")
        sent_at = time.monotonic()
        compose.click("#compose-send")

        card = phone.locator(".bulletin").first
        expect(card).to_contain_text(DESCRIPTION, timeout=2_000)
        arrived = time.monotonic() - sent_at
        assert arrived < 2, f"the bulletin took {arrived:.2f} s to reach the phone"
        expect(card).to_contain_text(incident.case_number)
        wait_for(lambda: card.locator("img").evaluate("img => img.complete && img.naturalWidth") > 0,
                 what="the still shown on the phone")
        # It came on the phone's socket, right behind the bulletin, not by a fetch of its own.
        assert card.locator("img").get_attribute("src").startswith("blob:")
        expect(phone.locator("#badge")).to_have_text("1")
        assert phone.title().startswith("(1) ")
        assert "Corner Grocery" not in card.inner_text() and "Store front" not in card.inner_text()

        expect(compose.locator(".messages")).to_contain_text("Bulletin sent to 1 recipient")
        row = compose.locator("#receipts tr[data-state]").first
        expect(row).to_have_attribute("data-state", re.compile("received|opened"))
        card.locator("button.ack").click()
        expect(card.locator("button.ack")).to_be_disabled()
        expect(row).to_have_attribute("data-state", "acknowledged", timeout=5_000)
        expect(phone.locator("#badge")).to_be_hidden()
        assert not phone.title().startswith("(")
        expect(row.locator(".state")).to_have_text("acknowledged")

        bulletin = Bulletin.objects.get()
        assert bulletin.camera_code == str(camera.code) and bulletin.has_media
        actions = set(AccessEntry.objects.values_list("action", flat=True))
        assert {Action.BULLETIN_SENT, Action.BULLETIN_STILL_SHARED, Action.BULLETIN_MEDIA_VIEWED,
                Action.BULLETIN_ACKNOWLEDGED} <= actions
        viewed = AccessEntry.objects.get(action=Action.BULLETIN_MEDIA_VIEWED, actor_label="adams")
        assert viewed.detail["via"] == "patrol socket"
        assert not phone.errors and not analyst.errors and not compose.errors
    finally:
        phone.context.close()
        analyst.context.close()
        connector.terminate()
        connector.wait(timeout=10)


def test_the_patrol_page_tells_the_time_in_the_programs_time_zone(browser, asgi_server):
    """A phone set to another time zone (an officer back from a trip, a test machine on UTC) shows a bulletin's
    time as the analyst's page and the ledger do: in the program's time zone, not the phone's."""
    from bulletins.services import Addressees, bulletin_send

    officer = make_staff_named("patrol", "adams")
    PatrolOfficer.objects.create(user=officer, unit="2B11", zone="Downtown")
    bulletin = bulletin_send(sender=make_staff("analyst"), description=DESCRIPTION,
                             addressees=Addressees(usernames=["adams"]))
    phone = new_page(browser, asgi_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                     timezone_id="Asia/Tokyo")
    try:
        staff_sign_in(phone, "adams", next_path="/patrol/")
        card = phone.locator(".bulletin").first
        expect(card).to_contain_text(DESCRIPTION)
        shown = re.search(r"\d\d:\d\d", card.inner_text()).group(0)
        local = timezone.localtime(bulletin.created_at)
        assert shown == f"{local.hour % 12 or 12:02d}:{local.minute:02d}" or shown == local.strftime("%H:%M")
        assert not phone.errors
    finally:
        phone.context.close()
