"""An analyst sends a segment of a case's evidence clip from the compose page; their bulletin page says it is
being made, then shows it; a patrol officer's phone (360 px) plays it inline (H.264 at 640 px, no sound). On a
phone, the case's clip is picked from its list and the segment's points set with the player's buttons."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from bulletins.models import Bulletin, PatrolOfficer
from detections import synthetic
from dispatch.models import OfficerPosition
from tests.browser.conftest import staff_sign_in
from tests.browser.test_bulletin_flow import new_page
from tests.bulletins.conftest import case_clip
from tests.conftest import make_staff, make_staff_named
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clip_segment_plays_inline_on_a_patrol_phone(browser, asgi_server, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    camera = CameraFactory(owner=OwnerFactory(kind="business", name="Corner Grocery"), label="Store front")
    incident = IncidentFactory(case_number="26-004600")
    analyst = make_staff("analyst")
    assign_perm("requests_app.view_incident", analyst, incident)
    clip = case_clip(incident, camera, synthetic.clip_mp4([], seconds=6.0, fps=10))
    officer = make_staff_named("patrol", "adams")
    PatrolOfficer.objects.create(user=officer, unit="2B11", zone="Downtown")
    OfficerPosition.objects.create(unit="2B11", location=Point(-78.6382, 35.7841, srid=4326),
                                   recorded_at=timezone.now() - timedelta(seconds=20))
    phone = new_page(browser, asgi_server, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    desk = new_page(browser, asgi_server, viewport={"width": 1280, "height": 900})
    staff_sign_in(phone, "adams", next_path="/patrol/")
    expect(phone.locator("#status")).to_have_text("Live")

    staff_sign_in(desk, "analyst", next_path="/bulletins/new/")
    desk.fill("#id_description", "White hat, grey backpack")
    desk.fill("#id_units", "2B11")
    desk.fill("#id_clip", str(clip.code))
    desk.fill("#id_clip_in", "1")
    desk.fill("#id_clip_out", "4")
    desk.click("#compose-send")
    bulletin = Bulletin.objects.get()
    video = desk.locator(f"#sent-{bulletin.code} video")
    expect(video).to_be_visible(timeout=30_000)  # the page refreshes itself until the segment is made

    card = phone.locator(f"#bulletin-{bulletin.code}")
    expect(card).to_contain_text("White hat, grey backpack")
    played = card.locator("video")
    expect(played).to_have_attribute("playsinline", "")
    phone.wait_for_function("v => v.readyState >= 1 && v.videoWidth === 640", arg=played.element_handle(),
                            timeout=15_000)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert phone.errors == [] and desk.errors == []


def test_the_case_clip_is_picked_and_its_points_set_with_the_player(browser, asgi_server, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    camera = CameraFactory(owner=OwnerFactory(kind="business", name="Corner Grocery"), label="Store front")
    incident = IncidentFactory(case_number="26-004700")
    analyst = make_staff("analyst")
    assign_perm("requests_app.view_incident", analyst, incident)
    clip = case_clip(incident, camera, synthetic.clip_mp4([], seconds=6.0, fps=10, size=(320, 240)))
    officer = make_staff_named("patrol", "adams")
    PatrolOfficer.objects.create(user=officer, unit="2B11", zone="Downtown")
    desk = new_page(browser, asgi_server, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    staff_sign_in(desk, "analyst", next_path="/bulletins/new/")
    desk.fill("#id_description", "White hat, grey backpack")
    desk.fill("#id_units", "2B11")
    desk.select_option("#id_incident", str(incident.pk))
    choice = desk.locator(f"#pick-{clip.code}")
    expect(choice).to_be_attached()  # the case's list came when the case was chosen
    option = desk.locator(f"label[for='pick-{clip.code}']")
    expect(option).to_contain_text("Store front")
    assert option.bounding_box()["height"] >= 44
    option.click()
    player = desk.locator("#clip-player")
    expect(player).to_be_visible()
    desk.wait_for_function("v => v.readyState >= 1 && v.duration > 5", arg=player.element_handle(), timeout=20_000)
    for second, button in ((1.5, "#clip-set-in"), (4.0, "#clip-set-out")):
        desk.evaluate("([v, t]) => new Promise(done => { v.addEventListener('seeked', done, {once: true}); "
                      "v.currentTime = t; })", [player.element_handle(), second])
        assert desk.locator(button).bounding_box()["height"] >= 44
        desk.click(button)
    expect(desk.locator("#id_clip_in")).to_have_value("1.5")
    expect(desk.locator("#id_clip_out")).to_have_value("4.0")
    desk.click("#compose-send")
    desk.wait_for_url("**/bulletins/*/")
    bulletin = Bulletin.objects.get()
    assert (bulletin.clip_code, bulletin.clip_in_s, bulletin.clip_out_s) == (str(clip.code), 1.5, 4.0)
    assert desk.evaluate("document.documentElement.scrollWidth") <= 390
    assert desk.errors == []
