"""On a 360 px phone, in Spanish, a neighbour asks "Is a camera watching my home?": the address is chosen from the
type-ahead, the form is sent, and the Spanish confirmation email's link confirms it. Nothing on the way names a
camera or its owner."""

import pytest
from playwright.sync_api import expect

from addresses.reading import AddressRow
from addresses.services import address_points_replace
from addresses.text import search_text
from concerns.models import Concern
from tests.browser.conftest import checked_page
from tests.conftest import link_in, parsed_mail, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone_360(browser, live_server):
    with checked_page(browser, live_server.url, viewport={"width": 360, "height": 740}, is_mobile=True,
                      has_touch=True) as page:
        yield page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_neighbour_sends_and_confirms_a_concern_in_spanish_on_a_360_px_phone(phone_360, smtp_sink, owner_a):
    page = phone_360
    address_points_replace(city="raleigh", rows=[AddressRow(
        address="1200 Fayetteville St, Raleigh 27603", search_text=search_text("1200 Fayetteville St"),
        lat=35.7623, lng=-78.6410)])
    page.goto("/concern/")
    page.click("#language-es")
    expect(page.locator("h1")).to_have_text("¿Me está mirando una cámara?")
    assert fits_the_screen(page)
    expect(page.locator("#id_website")).not_to_be_in_viewport()  # the honeypot is out of a person's sight

    page.click("form.concern button[type=submit]")  # empty: every field says what is missing, in Spanish
    expect(page.locator("#error-summary")).to_contain_text("Corrija los campos marcados")
    assert fits_the_screen(page)

    address = page.locator("#id_address")
    address.click()
    page.keyboard.type("1200 fayette")
    expect(page.locator(".address-options [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(address).to_have_value("1200 Fayetteville St, Raleigh 27603")
    expect(page.locator(".address-status")).to_have_text("Dirección elegida: 1200 Fayetteville St, Raleigh 27603.")
    expect(page.locator("#id_latitude")).to_have_value("35.7623")
    page.fill("#id_email", "lucia@example.org")
    page.fill("#id_text", "Una cámara parece mirar hacia mi ventana.")
    page.click("button[type=submit]:has-text('Enviar mi inquietud')")
    expect(page.locator("h1")).to_have_text("Revise su correo electrónico")
    assert fits_the_screen(page)

    [mail] = wait_for(lambda: parsed_mail(smtp_sink), what="the confirmation email")
    assert mail["Subject"].startswith("Confirme su inquietud")
    page.goto(link_in(mail).replace("http://testserver", ""))
    page.click("button[type=submit]:has-text('Confirmar mi inquietud')")
    expect(page.locator("h1")).to_have_text("Su inquietud está confirmada")
    assert fits_the_screen(page)
    concern = Concern.objects.get()
    assert (concern.state, concern.language, concern.address) == (
        Concern.State.OPEN, "es", "1200 Fayetteville St, Raleigh 27603")
    assert "Alice" not in page.content() and "porch" not in page.content()
