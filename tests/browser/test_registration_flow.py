"""A resident registers, confirms by email, finds the camera in the portal, pauses it and deletes everything."""

import re

import pytest
from playwright.sync_api import expect

from registry.models import Camera, DeletionRecord, Owner
from tests.browser.conftest import screenshot
from tests.conftest import link_in, parsed_mail, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_owner(page, email="rosa@example.org"):
    page.check("#id_kind_0")
    page.fill("#id_name", "Rosa Parks-Lee")
    page.fill("#id_email", email)
    page.fill("#id_phone", "919-555-0177")
    page.fill("#id_address", "12 Glenwood Ave, Raleigh")


def fill_camera(page, index: int, label: str, direction: str = "180"):
    prefix = f"#id_cameras-{index}-"
    page.fill(prefix + "label", label)
    # Place the camera by clicking near the middle of its map (the city); the coordinates fill themselves in.
    camera_map = page.locator(".camera-map").nth(index)
    box = camera_map.bounding_box()
    camera_map.click(position={"x": box["width"] / 2 + 10 * index, "y": box["height"] / 2})
    expect(page.locator(prefix + "latitude")).not_to_have_value("")
    page.fill(prefix + "direction_deg", direction)
    page.check(prefix + "faces_public")


def test_resident_registers_confirms_manages_and_deletes(page, smtp_sink):
    page.goto("/register/")
    fill_owner(page)
    fill_camera(page, 0, "Front porch")
    page.click("#add-camera")
    fill_camera(page, 1, "Driveway", direction="90")
    page.check("#id_accept_terms")
    page.locator("fieldset.camera").first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -80)")
    screenshot(page, "registration")
    page.click("button[type=submit]:has-text('Register')")

    expect(page.locator("h1")).to_have_text("Check your email")
    assert set(Camera.objects.values_list("label", "status")) == {("Front porch", "pending"), ("Driveway", "pending")}

    wait_for(lambda: smtp_sink.messages)
    page.goto(link_in(parsed_mail(smtp_sink)[0]).replace("http://testserver", ""))
    page.click("text=Confirm my registration")

    expect(page.locator("h1")).to_have_text("My cameras")
    cards = page.locator("#my-cameras .card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Active")
    screenshot(page, "owner-portal")

    porch = page.locator(".card", has_text="Front porch")
    porch.get_by_role("button", name="Pause").click()
    expect(page.locator(".messages")).to_contain_text("is paused")
    expect(page.locator(".card", has_text="Front porch")).to_contain_text("Paused")

    page.click("text=Delete my registration and all my data")
    page.click("button:has-text('Delete everything')")
    expect(page.locator("h1")).to_have_text("Your registration is deleted")
    assert not Owner.objects.filter(email="rosa@example.org").exists()
    assert DeletionRecord.objects.get().cameras == 2


def test_errors_are_shown_next_to_the_fields_on_a_phone(phone):
    phone.goto("/register/")
    phone.fill("#id_name", "Sam")
    phone.fill("#id_email", "not an email")
    phone.fill("#id_cameras-0-label", "Door")
    phone.fill("#id_cameras-0-latitude", "40.7128")
    phone.fill("#id_cameras-0-longitude", "-74.0060")
    phone.fill("#id_cameras-0-direction_deg", "400")
    phone.click("button[type=submit]:has-text('Register')")

    expect(phone.locator("#error-summary")).to_be_visible()
    expect(phone.locator("#error-summary")).to_be_focused()
    body = phone.locator("main")
    expect(body).to_contain_text("Enter a valid email address")
    expect(body).to_contain_text("outside the area")
    expect(body).to_contain_text("Direction must be between 0 and 359")
    expect(body).to_contain_text("accept the program terms")
    # What was typed is kept.
    expect(phone.locator("#id_name")).to_have_value("Sam")
    # Nothing overflows sideways on a phone.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert Owner.objects.count() == 0


def test_registration_works_without_javascript(browser, live_server, smtp_sink):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/register/")
    fill_owner(page, email="nojs@example.org")
    page.fill("#id_cameras-0-label", "Porch")
    page.fill("#id_cameras-0-latitude", "35.7796")
    page.fill("#id_cameras-0-longitude", "-78.6382")
    page.check("#id_cameras-0-faces_public")
    page.check("#id_accept_terms")
    page.click("button[type=submit]:has-text('Register')")
    expect(page.locator("h1")).to_have_text("Check your email")
    assert Owner.objects.get().email == "nojs@example.org"
    context.close()


def test_owner_signs_in_by_emailed_link(page, smtp_sink):
    from tests.registry.factories import CameraFactory, OwnerFactory

    CameraFactory(owner=OwnerFactory(email="lin@example.org"), label="Shop door")
    page.goto("/owner/")
    page.fill("#id_email", "lin@example.org")
    page.click("text=Email me a sign-in link")
    expect(page.locator("h1")).to_have_text("Check your email")

    wait_for(lambda: smtp_sink.messages)
    link = link_in(parsed_mail(smtp_sink)[0]).replace("http://testserver", "")
    page.goto(link)
    page.click("button:has-text('Sign in')")
    expect(page.locator("#my-cameras")).to_contain_text("Shop door")

    page.goto(link)  # a second use is refused
    expect(page.locator("main")).to_contain_text(re.compile("already been used"))
