"""An investigator finds registered cameras on the staff map with a radius search."""

import re

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, staff_sign_in
from tests.conftest import make_staff, wait_for
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cameras():
    # Around Moore Square, downtown Raleigh.
    CameraFactory(label="Facing the square", location=Point(-78.6382, 35.7801, srid=4326), direction_deg=180,
                  range_m=80)
    CameraFactory(label="Looking away", location=Point(-78.6380, 35.7798, srid=4326), direction_deg=0, range_m=40)
    CameraFactory(label="Corner store", owner=OwnerFactory(kind="business"), level="integrated",
                  location=Point(-78.6375, 35.7790, srid=4326), direction_deg=270)
    CameraFactory(label="Far away", location=Point(-78.70, 35.85, srid=4326))


def test_investigator_searches_around_a_point(page, cameras):
    make_staff("investigator")
    staff_sign_in(page, "investigator")

    expect(page.locator("#map")).to_have_attribute("data-loaded", "4")
    expect(page.locator("#map-status")).to_contain_text("4 cameras in view")
    looked_up = []
    page.on("request", lambda request: looked_up.append(request.url) if "/addresses/" in request.url else None)
    page.fill("#search-q", "35.7796, -78.6382")
    page.fill("#search-radius", "200")
    page.click("#search-form button")

    results = page.locator("#results li")
    expect(results).to_have_count(3)
    expect(page.locator("#results h2")).to_have_text("3 cameras within 200 m")
    # The answer shows right under the search, not below the layer switches
    assert page.locator("#results h2").bounding_box()["y"] < page.locator("#layers").bounding_box()["y"]
    expect(results.first).to_contain_text("Looking away")
    expect(page.locator("#results li.covers")).to_contain_text("Facing the square")
    expect(page.locator("#results")).not_to_contain_text("Far away")
    # Coordinates are no address: not looked up (nor in the ledger as an address search), not "No address found".
    assert not looked_up
    expect(page.locator("#search-form .address-status")).to_have_text("")
    screenshot(page, "staff-map")


def test_clicking_the_map_searches_there(page, cameras):
    make_staff("analyst")
    staff_sign_in(page, "analyst")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "4")
    page.locator("#map").click(position={"x": 50, "y": 50})
    expect(page.locator("#results h2")).to_contain_text("within 300 m")


def test_layers_hide_kinds(page, cameras):
    make_staff("supervisor")
    staff_sign_in(page, "supervisor")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "4")
    page.uncheck("#layers input[value=resident]")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "1")


def test_an_owner_session_does_not_open_the_map(page):
    page.goto("/map/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))


def test_investigator_sends_requests_from_the_map(page, cameras, smtp_sink):
    from requests_app import services
    from requests_app.models import FootageRequest
    from tests.requests_app.factories import IncidentFactory

    investigator = make_staff("investigator")
    incident = IncidentFactory(radius_m=200)
    services.incident_investigators_set(incident=incident, users=[investigator])
    staff_sign_in(page, "investigator")

    page.select_option("#case-select", str(incident.code))
    expect(page.locator("#results h2")).to_have_text("3 cameras within 200 m")
    expect(page.locator("#results input[name=camera]:checked")).to_have_count(1)  # the one facing the spot
    page.click("#send-requests")
    expect(page.locator("#results [role=status]")).to_contain_text(f"1 request(s) queued for {incident.case_number}")
    assert FootageRequest.objects.get().camera_label == "Facing the square"


def test_the_map_works_on_a_phone(phone, cameras):
    """At 390 px the panel stacks above the map, which keeps its height (it had none) and loads its cameras."""
    make_staff("analyst")
    failed = []
    phone.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    staff_sign_in(phone, "analyst")
    expect(phone.locator("#map")).to_have_attribute("data-loaded", "4")
    assert phone.locator("#map").bounding_box()["height"] >= 320
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
    assert not failed


def test_a_crowded_view_shows_groups_with_true_counts_then_each_camera_closer(page, cameras, settings):
    settings.MAP_CLUSTER_ABOVE = 2  # four cameras in the city view are "too many" here
    make_staff("analyst")
    staff_sign_in(page, "analyst")

    expect(page.locator("#map")).to_have_attribute("data-mode", "clusters")
    expect(page.locator("#map-status")).to_contain_text("4 cameras in view, grouped")
    group = page.locator(".server-cluster[title^='3 cameras, 1 live']")
    expect(group).to_have_text("3")
    zoom = page.evaluate("window.connectStaffMap.getZoom()")
    group.focus()
    page.keyboard.press("Enter")  # a group zooms in on its cameras, from the keyboard too
    wait_for(lambda: page.evaluate("window.connectStaffMap.getZoom()") == zoom + 2, what="the map zooming in")

    page.fill("#search-q", "35.7796, -78.6382")
    page.fill("#search-radius", "100")
    page.click("#search-form button")
    expect(page.locator("#results h2")).to_have_text("3 cameras within 100 m")
    expect(page.locator("#map")).to_have_attribute("data-mode", "cameras")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "3")
    expect(page.locator(".leaflet-marker-icon.cam")).to_have_count(3)
