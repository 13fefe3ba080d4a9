"""A resident with no coordinates and no mouse registers a camera by typing their street address (issue 16's "done
when"), on a phone-wide screen; or puts it at the map's centre. The staff map and the incident widget search
addresses the same way. Keyboard only: focus moves with Tab, choices with the arrows and Enter."""

import pytest
from playwright.sync_api import expect

from addresses.reading import AddressRow
from addresses.services import address_points_replace
from addresses.text import search_text
from audit.models import AccessEntry
from registry.models import Camera, Owner
from tests.browser.conftest import (
    keyboard_accept_and_register,
    keyboard_type_owner_and_camera,
    offline,
    staff_sign_in,
    tab_to,
)
from tests.conftest import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POINTS = [("1200 Fayetteville St", 35.7623, -78.6410), ("1202 Fayetteville St", 35.7625, -78.6410),
          ("1204 Fayetteville St", 35.7627, -78.6410), ("300 Glenwood Ave", 35.7900, -78.6500)]


@pytest.fixture
def addresses(db):
    address_points_replace(city="raleigh", rows=[
        AddressRow(address=f"{street}, Raleigh 27603", search_text=search_text(street), lat=lat, lng=lng)
        for street, lat, lng in POINTS])


def test_a_resident_registers_a_camera_by_typing_the_street_address_with_the_keyboard_only(
        keyboard_phone, addresses, smtp_sink):
    page = keyboard_phone
    page.goto("/register/")
    keyboard_type_owner_and_camera(page, name="Rosa Alvarez", email="rosa@example.org", camera="Front porch")

    tab_to(page, "#id_cameras-0-address")
    address = page.locator("#id_cameras-0-address")
    expect(address).to_have_attribute("role", "combobox")
    page.keyboard.type("1200 fayette")
    options = page.locator(".address-options [role=option]")
    expect(options).to_have_count(1)
    expect(address).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".address-status").first).to_contain_text("1 address found")
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(address).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    page.keyboard.press("Enter")  # picks the address; the form is not sent

    expect(address).to_have_value("1200 Fayetteville St, Raleigh 27603")
    expect(address).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#id_cameras-0-latitude")).to_have_value("35.762300")
    expect(page.locator("#id_cameras-0-longitude")).to_have_value("-78.641000")
    expect(page.locator(".address-status").first).to_have_text("Camera placed at 1200 Fayetteville St, Raleigh 27603.")
    assert Owner.objects.count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # nothing sideways

    keyboard_accept_and_register(page)

    expect(page.locator("h1")).to_have_text("Check your email")
    camera = Camera.objects.get()
    assert camera.label == "Front porch" and camera.address == "1200 Fayetteville St, Raleigh 27603"
    assert (round(camera.latitude, 4), round(camera.longitude, 4)) == (35.7623, -78.641)


def test_the_map_centre_places_the_camera_and_fills_the_nearest_address(keyboard_phone, addresses):
    page = keyboard_phone
    page.goto("/register/")
    tab_to(page, "#id_cameras-0-address")  # nothing typed: the lookup may fill it
    tab_to(page, ".camera-map")
    page.keyboard.press("ArrowUp")  # Leaflet pans the focused map with the arrow keys
    page.keyboard.press("ArrowUp")
    # Leaflet animates the pan: wait until the centre holds still between two looks.
    page.wait_for_function("""() => {
        const c = document.querySelector('.camera-map').connectMap.getCenter(), key = c.lat + ',' + c.lng;
        const still = window.lastCentre === key;
        window.lastCentre = key;
        return still;
    }""", polling=250)
    centre = page.evaluate("(() => { const c = document.querySelector('.camera-map').connectMap.getCenter();"
                           " return [c.lat, c.lng]; })()")
    # An address point 10 m from where the map now centres.
    address_points_replace(city="centre", rows=[AddressRow(address="77 Centre Ct, Raleigh", search_text="77 centre ct",
                                                           lat=centre[0] + 0.00009, lng=centre[1])])
    tab_to(page, "button.map-centre")
    expect(page.locator("button.map-centre")).to_have_text("Use the map centre")
    page.keyboard.press("Enter")

    expect(page.locator("#id_cameras-0-latitude")).to_have_value(f"{centre[0]:.6f}")
    expect(page.locator("#id_cameras-0-longitude")).to_have_value(f"{centre[1]:.6f}")
    expect(page.locator("#id_cameras-0-address")).to_have_value("77 Centre Ct, Raleigh")
    expect(page.locator(".address-status").first).to_have_text(
        "Camera placed on the map; nearest address: 77 Centre Ct, Raleigh.")


def test_the_staff_map_searches_around_a_picked_address_and_the_ledger_records_both(page, addresses):
    make_staff("investigator")
    staff_sign_in(page, "investigator")
    page.focus("#search-q")
    page.keyboard.type("1202 fay")
    expect(page.locator(".address-options [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#search-q")).to_have_value("1202 Fayetteville St, Raleigh 27603")
    expect(page.locator("#results")).not_to_contain_text("Searching")
    search = AccessEntry.objects.filter(action="address.searched").latest("seq")
    assert search.detail["query"] == "1202 fay" and search.detail["via"] == "map"
    nearby = AccessEntry.objects.filter(action="map.search").latest("seq")
    assert nearby.detail["lat"] == 35.7625 and nearby.detail["query"] == "1202 Fayetteville St, Raleigh 27603"


def test_the_incident_widget_places_the_point_at_a_picked_address(page, addresses):
    make_staff("investigator")
    staff_sign_in(page, "investigator", next_path="/admin/requests_app/incident/add/")
    search = page.get_by_label("Find an address")
    search.focus()
    page.keyboard.type("300 glen")
    expect(page.locator(".address-options [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#id_address")).to_have_value("300 Glenwood Ave, Raleigh 27603")
    stored = page.locator("#id_location").input_value()
    assert '"coordinates":[-78.65,35.79]' in stored.replace(" ", "")
    assert page.url.endswith("/admin/requests_app/incident/add/")  # Enter did not send the form


def test_without_javascript_the_street_address_alone_registers_the_camera(browser, live_server, addresses,
                                                                          smtp_sink):
    context = offline(browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                          viewport={"width": 390, "height": 844}))
    page = context.new_page()
    page.goto("/register/")
    page.fill("#id_name", "Ana Noscript")
    page.fill("#id_email", "ana@example.org")
    page.fill("#id_cameras-0-label", "Porch")
    page.fill("#id_cameras-0-address", "1202 Fayetteville Street")
    page.check("#id_cameras-0-faces_public")
    page.check("#id_accept_terms")
    page.click("button[type=submit]:has-text('Register')")
    expect(page.locator("h1")).to_have_text("Check your email")
    camera = Camera.objects.get()
    assert camera.address == "1202 Fayetteville St, Raleigh 27603" and round(camera.latitude, 4) == 35.7625
    context.close()
