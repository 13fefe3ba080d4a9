"""Invitations in a real browser on a 360 px phone: a letter's code typed on /invite/, the registration page with
the letter's address and point filled in, the registration counted; the unsubscribe page, in Spanish too."""

import pytest
from django.contrib.gis.geos import Polygon
from playwright.sync_api import expect

from invitations import codes, services
from invitations.codes import short_code_shown
from invitations.models import Campaign
from tests.browser.test_phones import assert_fits
from tests.conftest import wait_for
from tests.invitations.helpers import address_points

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone_page(browser, asgi_server):
    from tests.browser.conftest import checked_page

    with checked_page(browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True) as page:
        yield page


def test_a_letters_code_leads_to_a_prefilled_registration_that_is_counted(phone_page):
    address_points(1)
    area = Polygon.from_bbox((-78.645, 35.775, -78.635, 35.785))
    area.srid = 4326
    campaign = services.campaign_create_letters(actor=None, name="Glenwood", language="en", area=area)
    code = campaign.recipients.get().short_code
    page = phone_page

    page.goto("/invite/")
    assert_fits(page)
    page.fill("#id_code", short_code_shown(code).lower())
    page.click("button:has-text('Continue')")

    expect(page.locator("h1")).to_have_text("Register your cameras")
    expect(page.locator("#id_cameras-0-address")).to_have_value("100 Test St, Raleigh 27601")
    expect(page.locator("#id_cameras-0-latitude")).to_have_value("35.78")
    expect(page.locator(".camera-map").first).to_be_visible()
    assert_fits(page)
    page.check("#id_kind_0")
    page.fill("#id_name", "Rosa Parks-Lee")
    page.fill("#id_email", "rosa@example.org")
    page.fill("#id_cameras-0-label", "Front porch")
    page.check("#id_cameras-0-faces_public")
    page.check("#id_accept_terms")
    page.click("button[type=submit]:has-text('Register')")
    expect(page.locator("h1")).not_to_have_text("Register your cameras")

    wait_for(lambda: Campaign.objects.get().registrations == 1, what="the registration counted")
    assert Campaign.objects.get().visits == 1


def test_the_unsubscribe_page_fits_a_phone_in_spanish(browser, asgi_server):
    from tests.browser.conftest import checked_page

    token = codes.unsubscribe_token(codes.email_hash("ana@example.org"))
    with checked_page(browser, asgi_server, viewport=PHONE, is_mobile=True, has_touch=True,
                      locale="es-ES") as page:
        page.goto(f"/invite/unsubscribe/{token}/")
        assert_fits(page)
        page.click("button:has-text('No enviarme más invitaciones')")
        expect(page.locator("h1")).to_have_text("No recibirá más invitaciones")
        assert_fits(page)


def test_the_campaign_form_draws_its_map_without_errors(page, django_user_model):
    from tests.browser.conftest import staff_sign_in
    from tests.conftest import make_staff

    make_staff("administrator")
    staff_sign_in(page, "administrator", next_path="/invitations/new/")
    expect(page.locator("#area-map")).to_be_visible()
    expect(page.locator(".leaflet-draw-draw-polygon")).to_be_visible()
