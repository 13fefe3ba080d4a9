"""Keyboard-only paths (issue 16, item 8): a resident places a camera at the map's centre and registers it; removing
a camera leaves focus on "Add another camera"; a focused camera marker on the staff map keeps focus when the arrow
keys pan the map and the markers are rebuilt; the analyst's live viewer takes focus when it opens and gives it back
to the "Watch live" button when it closes. Typing an address is walked in test_address_keyboard.py."""

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from registry.models import Camera
from tests.browser.conftest import (
    checked_page,
    keyboard_accept_and_register,
    keyboard_type_owner_and_camera,
    staff_sign_in,
    tab_to,
)
from tests.conftest import make_staff
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = "s => document.activeElement && document.activeElement.matches(s)"


def focused(page, selector: str) -> bool:
    return page.evaluate(FOCUSED, selector)


def test_a_resident_registers_a_camera_at_the_map_centre_with_the_keyboard_only(keyboard_phone, smtp_sink):
    page = keyboard_phone
    page.goto("/register/")
    keyboard_type_owner_and_camera(page, name="Rosa Alvarez", email="rosa@example.org", camera="Back yard")
    tab_to(page, "button.map-centre")
    page.keyboard.press("Enter")
    # No address point near (none are loaded): the live region says the camera is placed all the same.
    expect(page.locator(".address-status").first).to_have_text(
        "Camera placed on the map. No address point is near: type the address if it has one.")
    centre = page.evaluate("(() => { const c = document.querySelector('.camera-map').connectMap.getCenter();"
                           " return [c.lat, c.lng]; })()")
    expect(page.locator("#id_cameras-0-latitude")).to_have_value(f"{centre[0]:.6f}")

    keyboard_accept_and_register(page)

    expect(page.locator("h1")).to_have_text("Check your email")
    camera = Camera.objects.select_related("owner").get()
    assert camera.owner.email == "rosa@example.org" and camera.label == "Back yard"
    assert abs(camera.latitude - centre[0]) < 1e-5 and abs(camera.longitude - centre[1]) < 1e-5  # about a metre


def test_removing_a_camera_leaves_focus_on_add_another_camera(keyboard_phone):
    page = keyboard_phone
    page.goto("/register/")
    tab_to(page, "#add-camera")
    page.keyboard.press("Enter")
    assert focused(page, "#id_cameras-1-label")  # the new camera's first field
    tab_to(page, "#add-camera")
    page.keyboard.press("Enter")
    expect(page.locator("fieldset.camera")).to_have_count(3)

    tab_to(page, ".remove-camera:not([hidden])")
    page.keyboard.press("Enter")
    expect(page.locator("fieldset.camera")).to_have_count(2)
    assert focused(page, "#add-camera")
    # From there the keyboard goes on: Enter adds a camera again.
    page.keyboard.press("Enter")
    expect(page.locator("fieldset.camera")).to_have_count(3)
    assert focused(page, "#id_cameras-2-label")


def test_a_focused_marker_keeps_focus_when_the_arrow_keys_pan_the_map(page):
    CameraFactory(label="Facing the square", location=Point(-78.6382, 35.7801, srid=4326))
    CameraFactory(label="Corner store", location=Point(-78.6375, 35.7790, srid=4326))
    make_staff("investigator")
    staff_sign_in(page, "investigator")
    page.evaluate("connectStaffMap.setView([35.7790, -78.6375], 18)")  # close up: one marker per camera
    marker = page.locator(".leaflet-marker-icon[title='Corner store']")
    expect(marker).to_be_visible()
    page.wait_for_function("connectStaffMap.getZoom() === 18")

    marker.focus()
    page.evaluate("""() => { window.markerBefore = document.activeElement;
                             const c = connectStaffMap.getCenter(); window.centreBefore = c.lat + ',' + c.lng; }""")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    # The pan loads the cameras in view again, and that rebuilds every marker: the focused one is a new element.
    page.wait_for_function("""() => { const c = connectStaffMap.getCenter();
        return c.lat + ',' + c.lng !== window.centreBefore && !window.markerBefore.isConnected; }""")
    expect(marker).to_be_focused()
    # Still the keyboard's: Enter opens the camera's details.
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup")).to_have_count(1)
    expect(page.locator(".leaflet-popup")).to_contain_text("Corner store")


GROUPS = ".leaflet-marker-icon.marker-cluster"


def settled(page, what: str) -> None:
    """Waits until the map has drawn its last load and shows one group (a loaded machine may draw twice)."""
    state = "() => document.getElementById('map').dataset.draws + '/' + document.querySelectorAll('%s').length"
    last = None
    for _ in range(60):
        now = page.evaluate(state % GROUPS)
        if now == last and now.endswith("/1"):
            return
        last = now
        page.wait_for_timeout(250)
    raise AssertionError(f"the map did not settle {what}: draws/groups {last}")


def test_a_focused_group_keeps_focus_when_the_arrow_keys_pan_the_map(page):
    CameraFactory(label="Facing the square", location=Point(-78.6382, 35.7801, srid=4326))
    CameraFactory(label="Corner store", location=Point(-78.6375, 35.7790, srid=4326))
    make_staff("investigator")
    staff_sign_in(page, "investigator")
    page.evaluate("connectStaffMap.setView([35.7795, -78.6378], 14)")  # far enough out: the two are one group
    settled(page, "at zoom 14")
    group = page.locator(GROUPS)

    group.focus()
    page.evaluate("() => { window.groupBefore = document.activeElement; }")
    page.keyboard.press("ArrowRight")
    for _ in range(60):  # the load the pan started rebuilds every marker
        if page.evaluate("() => !window.groupBefore.isConnected"):
            break
        page.wait_for_timeout(250)
    settled(page, "after the pan")
    # The group has no camera to follow: focus goes to the group now where it stood, not to the map.
    expect(group).to_be_focused(timeout=10_000)


@pytest.fixture
def analyst_page(browser, asgi_server):
    with checked_page(browser, asgi_server) as page:
        yield page


def test_the_live_viewer_takes_focus_and_gives_it_back_to_watch_live(analyst_page):
    camera = CameraFactory(label="Corner store", owner=OwnerFactory(kind="business"),
                           location=Point(-78.6382, 35.7796, srid=4326))
    share_camera(camera)
    IncidentFactory(location=Point(-78.6382, 35.7806, srid=4326), offense_type="Robbery")
    trained(make_staff("analyst"))
    page = analyst_page
    staff_sign_in(page, "analyst")
    page.focus("#search-q")
    page.keyboard.type("35.7796, -78.6382")
    page.keyboard.press("Enter")
    watch = page.locator(f"#results [data-watch-live='{camera.code}']")
    watch.focus()

    # Escape closes the dialog and focus is back on "Watch live".
    page.keyboard.press("Enter")
    dialog = page.locator("#live-dialog")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.getElementById('live-dialog').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(watch).to_be_focused()

    # Opened for real: the viewer takes focus, and closing it gives focus back.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    tab_to(page, "#live-reason")
    page.keyboard.type("Robbery suspect seen running west")
    tab_to(page, "#live-open")
    page.keyboard.press("Enter")
    viewer = page.locator("#live-viewer")
    expect(viewer).to_be_visible()
    expect(viewer).to_be_focused()
    tab_to(page, "#live-close")
    page.keyboard.press("Enter")
    expect(viewer).to_be_hidden()
    expect(watch).to_be_focused()
