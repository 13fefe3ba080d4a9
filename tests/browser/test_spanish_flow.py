"""On a phone (390x844), a resident switches the site to Spanish, registers a camera placed on the map, confirms
from the Spanish email, and answers a footage request on the footage page with a clip: all in Spanish."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registry.models import Camera, Owner
from requests_app import services
from requests_app.models import Clip, FootageRequest
from tests.browser.conftest import checked_page
from tests.conftest import link_in, parsed_mail, wait_for
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def phone(browser, asgi_server):
    """A phone-sized page under uvicorn (the footage page streams its upload pieces to the ASGI endpoint); a JavaScript
    error or a blocked script fails the test."""
    with checked_page(browser, asgi_server, viewport={"width": 390, "height": 844}, is_mobile=True,
                      has_touch=True) as page:
        yield page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_registration_and_the_footage_page_in_spanish_on_a_phone(phone, smtp_sink, tmp_path):
    phone.goto("/register/")
    expect(phone.locator("h1")).to_have_text("Register your cameras")
    phone.click("#language-es")  # the switch in the header: a plain form post, no script needed

    expect(phone.locator("h1")).to_have_text("Registre sus cámaras")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    assert fits_the_screen(phone)
    phone.check("#id_kind_0")
    phone.fill("#id_name", "Rosa Martínez")
    phone.fill("#id_email", "rosa@example.org")
    phone.fill("#id_cameras-0-label", "Entrada")
    camera_map = phone.locator(".camera-map").first
    camera_map.scroll_into_view_if_needed()
    box = camera_map.bounding_box()
    camera_map.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    expect(phone.locator("#id_cameras-0-latitude")).not_to_have_value("")
    phone.check("#id_cameras-0-faces_public")
    expect(phone.locator("label[for=id_cameras-0-faces_public]")).to_contain_text("enfoca el espacio público")
    phone.check("#id_accept_terms")
    phone.click("button[type=submit]:has-text('Registrarme')")

    expect(phone.locator("h1")).to_have_text("Revise su correo electrónico")
    owner = Owner.objects.get(email="rosa@example.org")
    assert owner.language == "es" and owner.cameras.get().status == Camera.Status.PENDING

    wait_for(lambda: smtp_sink.messages, what="the confirmation email")
    confirmation = parsed_mail(smtp_sink)[0]
    assert str(confirmation["Subject"]).strip().startswith("Confirme el registro de su cámara")
    phone.goto(link_in(confirmation).replace("http://testserver", ""))
    phone.click("text=Confirmar mi registro")
    expect(phone.locator("h1")).to_have_text("Mis cámaras")
    expect(phone.locator(".messages")).to_contain_text("Su registro está confirmado")
    expect(phone.locator("#my-cameras .card")).to_contain_text("Activa")
    assert fits_the_screen(phone)

    # A footage request for the new camera: the owner answers on the footage page, still in Spanish.
    camera = owner.cameras.get()
    incident = IncidentFactory(case_number="26-004512")
    request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                            nonce="spanish-flow", state="sent", sent_at=timezone.now(),
                                            expires_at=timezone.now() + timedelta(days=10))
    phone.goto(services.consent_link(request).replace("http://testserver", ""))
    expect(phone.locator("h1")).to_have_text("¿Puede ayudar con grabaciones?")
    expect(phone.locator("main")).to_contain_text("le pregunta si su cámara Entrada grabó algo entre el")
    assert fits_the_screen(phone)
    video = tmp_path / "entrada.mp4"
    video.write_bytes(tiny_mp4())
    phone.set_input_files("#clips", str(video))
    expect(phone.locator("#keep_days option").first).to_contain_text("días")
    with phone.expect_response(lambda r: r.url.endswith("/uploads/finish/")) as streamed:
        phone.click("button:has-text('Subir')")
    assert streamed.value.status == 200
    expect(phone.locator("h1")).to_have_text("Gracias")
    expect(phone.locator("main")).to_contain_text("Recibimos 1 archivo.")
    assert Clip.objects.filter(request=request).count() == 1
    assert fits_the_screen(phone)

    # And back to English with the same switch.
    phone.goto("/")
    phone.click("#language-en")
    expect(phone.locator("h1")).to_have_text("Community camera program")
