"""A records release as people click through it: the officer prepares it from the dashboard and reviews the
redacted keyframes; the owner objects on a 360 px phone, in Spanish; the officer approves and releases after the
window."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from records.models import OwnerNotice, Release
from records.services import objection_link
from tests.browser.conftest import checked_page, staff_sign_in
from tests.conftest import make_staff
from tests.records import media
from tests.records.conftest import close
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.conftest import clip_uploaded
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def closed_case(transactional_db, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.RECORDS_POLICY = "releasable"
    incident = IncidentFactory(case_number="26-004777")
    owner = OwnerFactory(email="rosa@example.org", language="es")
    clip_uploaded(Client(), incident, CameraFactory(owner=owner), name="garage.mp4", video=media.scene_mp4(frames=6))
    close(incident)
    return incident


def test_release_prepared_objected_on_a_phone_and_released(browser, live_server, closed_case):
    make_staff("records_officer")
    with checked_page(browser, live_server.url) as page:
        staff_sign_in(page, "records_officer", next_path="/records/")
        row = page.locator("tr", has_text="26-004777")
        row.locator("input[name=reference]").fill("PRR-2026-0101")
        row.locator("button", has_text="Prepare").click()
        page.wait_for_url("**/records/releases/*/")
        page.get_by_text("Done, to review").wait_for()
        keyframe = page.locator(".keyframes img").first
        keyframe.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=keyframe.element_handle())
        release_url = page.url

        notice = OwnerNotice.objects.get()
        context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740},
                                      is_mobile=True, locale="es-ES", extra_http_headers={"Accept-Language": "es"})
        phone = context.new_page()
        phone.goto(objection_link(notice).replace("http://testserver", ""))
        phone.get_by_role("heading", name="Oponerse a la publicación de registros públicos").wait_for()
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        phone.get_by_label("Por qué se opone (opcional)").fill("Mis hijos juegan en esa entrada.")
        phone.get_by_role("button", name="Enviar mi oposición").click()
        phone.get_by_role("heading", name="Recibimos su oposición").wait_for()
        context.close()

        Release.objects.update(objection_until=timezone.now() - timedelta(seconds=1))
        page.goto(release_url)
        page.get_by_text("Mis hijos juegan en esa entrada.").wait_for()
        page.get_by_role("button", name="Approve this redaction").click()
        page.get_by_text("Reviewed and approved").wait_for()
        page.get_by_label("Note (required to release over an objection)").fill("Faces and plates blurred.")
        page.get_by_role("button", name="Record the decision").click()
        page.get_by_role("link", name="Download the redacted clip").wait_for()
    assert Release.objects.get().released_at is not None
