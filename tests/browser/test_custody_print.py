"""The chain-of-custody report printed from the browser (issue 16): the report alone, without the admin around it,
its hash whole on the page; the PDF link stays on screen only."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from requests_app import services
from requests_app.models import Clip, FootageRequest
from tests.browser.conftest import staff_sign_in
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def clip():
    incident = IncidentFactory(case_number="26-000777")
    services.incident_investigators_set(incident=incident, users=[make_staff("investigator")])
    camera = CameraFactory(label="Porch")
    request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label, nonce="p",
                                            state="sent", expires_at=timezone.now() + timedelta(days=5))
    upload = services.consent_link(request).replace("http://testserver", "") + "upload/"
    Client().post(upload, {"clips": [SimpleUploadedFile("porch.mp4", tiny_mp4())], "keep_days": "90"})
    return Clip.objects.get()


def test_printing_the_report_leaves_the_admin_out_and_the_hash_whole(page, clip):
    url = f"/admin/requests_app/incident/clip/{clip.pk}/custody/"
    staff_sign_in(page, "investigator", next_path=url)
    chrome = ("#header", ".breadcrumbs", "#nav-sidebar", ".custody-actions")
    for selector in chrome:
        expect(page.locator(selector)).to_be_visible()  # on screen the admin is all there

    page.set_viewport_size({"width": 700, "height": 900})  # about a Letter page's printable width
    page.emulate_media(media="print")

    for selector in chrome:
        expect(page.locator(selector)).to_be_hidden()
    report = page.locator("#custody-report")
    expect(report.get_by_role("heading", level=1)).to_have_text("Chain of custody: porch.mp4")
    sha = report.locator(".custody-verbatim", has_text=clip.sha256)
    expect(sha).to_be_visible()
    box, page_width = sha.bounding_box(), page.evaluate("document.documentElement.clientWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= page_width  # wrapped, not cut off at the edge
    expect(report).to_contain_text("last checked against the store" if clip.verified_at
                                   else "not yet re-checked at rest")
    expect(report.locator("#custody-entries tbody tr").first).to_contain_text("clip.uploaded")
    assert page.evaluate("document.documentElement.scrollWidth") <= page_width


def test_the_report_passes_the_accessibility_engine(browser, live_server, clip):
    """Its tables have headers and its hash a readable contrast (tests/browser/test_accessibility.py's engine)."""
    from tests.browser.conftest import offline
    from tests.browser.test_accessibility import AXE, blocking_violations

    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs it (scripts/bootstrap.sh --test runs npm ci).")
    context = offline(browser.new_context(base_url=live_server.url, bypass_csp=True))
    context.set_default_timeout(10_000)
    page = context.new_page()
    url = f"/admin/requests_app/incident/clip/{clip.pk}/custody/"
    staff_sign_in(page, "investigator", next_path=url)
    try:
        assert blocking_violations(page) == []
        page.emulate_media(media="print")
        assert blocking_violations(page) == []
    finally:
        context.close()
