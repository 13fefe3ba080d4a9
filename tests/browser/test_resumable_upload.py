"""On a phone (390x844) under uvicorn, an owner uploads a clip that the connection drops mid-way, and one that a
closed tab left half sent: each resumes from where the server got to and is shared whole."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from requests_app import services
from requests_app.models import Clip, FootageRequest
from tests.browser.conftest import offline
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import padded_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MIB = 1024 * 1024

# Every text the upload's status line shows, in order (the upload is quick on one machine).
RECORD_STATUS = """
new MutationObserver(() => {
  const text = document.getElementById("upload-status-text");
  if (text && text.textContent) (window.statusTexts = window.statusTexts || []).push(text.textContent);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def phone_context(browser, asgi_server):
    context = offline(browser.new_context(base_url=asgi_server, viewport={"width": 390, "height": 844},
                                          is_mobile=True, has_touch=True))
    context.set_default_timeout(20_000)
    context.add_init_script(RECORD_STATUS)
    errors = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield context
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def consent_path(db):
    camera = CameraFactory(label="Porch", owner=OwnerFactory(email="porch@example.org"))
    request = FootageRequest.objects.create(incident=IncidentFactory(), camera=camera, camera_label="Porch",
                                            nonce="nonce-resume", state="sent", sent_at=timezone.now(),
                                            expires_at=timezone.now() + timedelta(days=10))
    return services.consent_link(request).replace("http://testserver", "")


def pieces(page) -> list[tuple[str, str]]:
    """(Upload-Offset, outcome) of each PATCH the page sends."""
    sent = []
    page.on("requestfinished", lambda r: sent.append((r.headers.get("upload-offset"), "sent"))
            if r.method == "PATCH" else None)
    page.on("requestfailed", lambda r: sent.append((r.headers.get("upload-offset"), "cut"))
            if r.method == "PATCH" else None)
    return sent


def test_an_upload_cut_mid_way_resumes_and_completes(phone_context, consent_path, tmp_path):
    page = phone_context.new_page()
    video = tmp_path / "driveway.mp4"
    video.write_bytes(padded_mp4(20 * MIB + 4321))  # three pieces of 8 MiB
    cut = []

    def cut_the_second_piece(route):
        if route.request.headers.get("upload-offset") == str(8 * MIB) and not cut:
            cut.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/uploads/*", cut_the_second_piece)
    sent = pieces(page)
    page.goto(consent_path)
    page.set_input_files("#clips", str(video))
    with page.expect_response(lambda r: r.url.endswith("/uploads/finish/"), timeout=60_000) as finished:
        page.click("button:has-text('Upload')")
    assert finished.value.status == 200
    expect(page.locator("h1")).to_have_text("Thank you")
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    expect(page.locator("main")).to_contain_text(digest)
    assert Clip.objects.get().sha256 == digest

    assert cut and sent == [("0", "sent"), (str(8 * MIB), "cut"), (str(8 * MIB), "sent"), (str(16 * MIB), "sent")]
    seen = page.evaluate("window.statusTexts")
    assert any(text.startswith("Sending ") and 0 < int(text.split()[-1].rstrip("%")) < 100 for text in seen)
    assert any("connection dropped" in text for text in seen)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_closed_tab_resumes_when_the_same_file_is_chosen_again(phone_context, consent_path, tmp_path, monkeypatch):
    from requests_app import resumable_views

    # Chromium may leave the closed tab's piece open without sending more of it: the server gives that piece up
    # after STALLED_AFTER_S (20 s), and the new tab's retries, refused as busy meanwhile, go on then. Shortened here.
    monkeypatch.setattr(resumable_views, "STALLED_AFTER_S", 2.0)
    video = tmp_path / "garden.mp4"
    video.write_bytes(padded_mp4(17 * MIB))
    first = phone_context.new_page()
    first.goto(consent_path)
    first.set_input_files("#clips", str(video))
    with first.expect_response(lambda r: r.request.method == "PATCH" and r.status == 204):
        first.click("button:has-text('Upload')")
    first.close()  # the tab is closed after the first piece
    assert not Clip.objects.exists()

    again = phone_context.new_page()
    sent = pieces(again)
    again.goto(consent_path)
    again.set_input_files("#clips", str(video))
    with again.expect_response(lambda r: r.url.endswith("/uploads/finish/"), timeout=60_000):
        again.click("button:has-text('Upload')")
    expect(again.locator("h1")).to_have_text("Thank you")
    assert Clip.objects.get().sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
    assert sent and sent[0][0] != "0"  # it went on from the server's offset, not from the start
