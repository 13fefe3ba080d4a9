"""Choosing cameras for an incident (issue 16, item 4): a map beside the list shows the incident's radius and each
listed camera with its view cone, and a tick works from either; cameras already asked cannot be ticked. Tiles are
unreachable here, as offline: the map says so in one line and still works."""

import re
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from playwright.sync_api import expect

from requests_app import services
from requests_app.models import FootageRequest
from tests.browser.conftest import offline, staff_sign_in
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAT, LNG = 35.7796, -78.6382  # the incident; 0.001 degrees is about 111 m north and 90 m east here
TICKED = re.compile(r"\bis-ticked\b")


@pytest.fixture
def scene():
    """An investigator's incident with a radius of 300 m: a camera facing the spot (ticked at first), one facing
    away, one already asked, and one too far to be listed."""
    investigator = make_staff("investigator")
    incident = IncidentFactory(radius_m=300, location=Point(LNG, LAT, srid=4326))
    services.incident_investigators_set(incident=incident, users=[investigator])

    def camera(label, dlat, dlng, direction, range_m=80):
        return CameraFactory(label=label, owner=OwnerFactory(email=f"{label.split()[0].lower()}@example.org"),
                             location=Point(LNG + dlng, LAT + dlat, srid=4326), direction_deg=direction,
                             range_m=range_m)

    cameras = {"facing": camera("Corner shop door", 0.0005, 0, 180), "away": camera("Porch east", 0, 0.001, 0),
               "asked": camera("Garage west", 0, -0.001, 90), "far": camera("Far lot", 0.02, 0, 180)}
    FootageRequest.objects.create(incident=incident, camera=cameras["asked"], camera_label="Garage west",
                                  nonce="nonce-asked", state="sent", sent_at=timezone.now(),
                                  expires_at=timezone.now() + timedelta(days=10))
    return {"incident": incident, "cameras": cameras, "path": f"/admin/requests_app/incident/{incident.pk}/cameras/"}


def marker(page, camera):
    return page.locator(f'.incident-cam[data-code="{camera.code}"]')


def test_the_map_shows_the_radius_and_one_marker_per_listed_camera_with_tiles_unreachable(page, scene):
    staff_sign_in(page, "investigator", next_path=scene["path"])
    expect(page.locator("#cameras-map .map-notice")).to_contain_text("Street map unavailable")
    expect(page.locator("#cameras-map .incident-radius")).to_have_count(1)
    expect(page.locator("#cameras-map .incident-cam")).to_have_count(3)  # the far one is not listed, nor drawn
    expect(page.locator("#cameras-map .camera-cone")).to_have_count(3)
    for camera in ("facing", "away", "asked"):
        expect(marker(page, scene["cameras"][camera])).to_be_visible()
    # Each marker is a button named for its camera, reachable from the keyboard.
    facing = page.get_by_role("button", name="Corner shop door, faces the spot")
    expect(facing).to_have_attribute("tabindex", "0")
    expect(facing).to_have_attribute("aria-pressed", "true")  # ticked in the table, as facing the spot
    expect(page.get_by_role("button", name="Garage west, already asked")).to_have_attribute("aria-disabled", "true")


def test_a_marker_ticks_its_row_and_a_box_highlights_its_marker(page, scene, smtp_sink):
    staff_sign_in(page, "investigator", next_path=scene["path"])
    porch, facing = scene["cameras"]["away"], scene["cameras"]["facing"]
    box = page.locator(f"#cam-{porch.code}")
    expect(box).not_to_be_checked()
    expect(marker(page, porch)).not_to_have_class(TICKED)

    marker(page, porch).click()
    expect(box).to_be_checked()
    expect(marker(page, porch)).to_have_attribute("aria-pressed", "true")
    expect(marker(page, porch)).to_have_class(TICKED)

    page.uncheck(f"#cam-{facing.code}")
    expect(marker(page, facing)).to_have_attribute("aria-pressed", "false")
    expect(marker(page, facing)).not_to_have_class(TICKED)

    # From the keyboard: Space and Enter on a focused marker toggle its box too.
    marker(page, facing).focus()
    page.keyboard.press("Space")
    expect(page.locator(f"#cam-{facing.code}")).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.locator(f"#cam-{facing.code}")).not_to_be_checked()

    # What the map ticked is what is sent.
    page.click("text=Send requests to the ticked cameras")
    expect(page.locator(".messagelist")).to_contain_text("1 request(s) queued")
    assert set(FootageRequest.objects.values_list("camera_label", flat=True)) == {"Garage west", "Porch east"}


def test_a_keyboard_can_skip_the_markers_to_the_list(page, scene):
    staff_sign_in(page, "investigator", next_path=scene["path"])
    skip = page.get_by_role("link", name="Skip the map to the list")
    skip.focus()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(f"#cam-{scene['cameras']['facing'].code}")).to_be_focused()  # the list's first box


def test_an_already_asked_cameras_marker_does_not_tick(page, scene):
    staff_sign_in(page, "investigator", next_path=scene["path"])
    asked = marker(page, scene["cameras"]["asked"])
    ticked_before = page.locator("#nearby-cameras input[name=camera]:checked").count()
    asked.click(force=True)  # aria-disabled: Playwright would wait for it to be enabled; a person clicks anyway
    asked.focus()
    page.keyboard.press("Enter")
    expect(asked).not_to_have_class(TICKED)
    expect(asked).not_to_have_attribute("aria-pressed", "true")
    assert page.locator(f"#cam-{scene['cameras']['asked'].code}").count() == 0
    assert page.locator("#nearby-cameras input[name=camera]:checked").count() == ticked_before == 1


def test_on_a_phone_the_map_is_above_the_list_and_nothing_overflows(phone, scene):
    staff_sign_in(phone, "investigator", next_path=scene["path"])  # 390x844 (tests/browser/conftest.py)
    expect(phone.locator("#cameras-map .incident-cam")).to_have_count(3)
    map_box = phone.locator("#cameras-map").bounding_box()
    table_box = phone.locator("#nearby-cameras").bounding_box()
    assert map_box["width"] > 300 and map_box["height"] > 250, map_box
    assert map_box["y"] + map_box["height"] <= table_box["y"], (map_box, table_box)
    overflow = phone.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    # What sticks out, if anything (a map's tiles are clipped by the map: only the page's own boxes count).
    wide = phone.evaluate("""() => Array.from(document.querySelectorAll('body *'))
        .filter(e => !e.closest('.leaflet-container') && e.getBoundingClientRect().right > innerWidth)
        .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : ''))""")
    assert overflow <= 0, f"the page is {overflow} px wider than the phone: {wide}"
    marker(phone, scene["cameras"]["away"]).tap()
    expect(phone.locator(f"#cam-{scene['cameras']['away'].code}")).to_be_checked()


def test_on_a_desktop_the_map_is_beside_the_list(page, scene):
    staff_sign_in(page, "investigator", next_path=scene["path"])
    map_box, table_box = page.locator("#cameras-map").bounding_box(), page.locator("#nearby-cameras").bounding_box()
    assert map_box["x"] + map_box["width"] <= table_box["x"] and map_box["y"] < table_box["y"] + table_box["height"]


def test_without_javascript_the_table_alone_works(browser, live_server, scene, smtp_sink):
    context = offline(browser.new_context(base_url=live_server.url, java_script_enabled=False))
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        staff_sign_in(page, "investigator", next_path=scene["path"])
        expect(page.locator("#cameras-map-panel")).to_be_hidden()  # no empty box
        page.check(f"#cam-{scene['cameras']['away'].code}")
        page.click("text=Send requests to the ticked cameras")
        expect(page.locator(".messagelist")).to_contain_text("2 request(s) queued")
    finally:
        context.close()


def test_with_no_camera_in_the_radius_the_map_still_shows_it(page):
    investigator = make_staff("investigator")
    incident = IncidentFactory(radius_m=200, location=Point(LNG, LAT, srid=4326))
    services.incident_investigators_set(incident=incident, users=[investigator])
    CameraFactory(label="Far lot", location=Point(LNG, LAT + 0.02, srid=4326))  # 2 km away: not listed
    staff_sign_in(page, "investigator", next_path=f"/admin/requests_app/incident/{incident.pk}/cameras/")
    expect(page.locator("#nearby-cameras")).to_contain_text("No active cameras in this radius.")
    # The empty radius on the streets: where the investigator would widen the search.
    expect(page.locator("#cameras-map .incident-radius")).to_have_count(1)
    expect(page.locator("#cameras-map .incident-cam")).to_have_count(0)
    expect(page.locator(".cameras-map-legend")).to_contain_text("No active camera is inside it.")
    expect(page.get_by_role("button", name="Send requests to the ticked cameras")).to_have_count(0)
