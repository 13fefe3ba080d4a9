"""An owner answers a footage request from the email's link with a clip; the investigator downloads it."""

import hashlib

import pytest
from playwright.sync_api import expect

from requests_app import services
from requests_app.models import Clip
from tests.browser.conftest import checked_page, screenshot, staff_sign_in
from tests.conftest import link_in, make_staff, parsed_mail, wait_for
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_jpeg, tiny_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def page(browser, asgi_server):
    """Under uvicorn, as connect is served: the page's script streams the clip to the ASGI endpoint."""
    with checked_page(browser, asgi_server) as page:
        yield page


def test_owner_uploads_from_the_email_and_investigator_downloads(page, smtp_sink, tmp_path):
    investigator = make_staff("investigator")
    incident = IncidentFactory()
    services.incident_investigators_set(incident=incident, users=[investigator])
    camera = CameraFactory(label="Corner shop door", owner=OwnerFactory(email="shop@example.org"))

    # The investigator chooses the camera in the admin and sends the request.
    staff_sign_in(page, "investigator", next_path=f"/admin/requests_app/incident/{incident.pk}/change/")
    page.click("text=Choose cameras and send requests")
    expect(page.locator("#nearby-cameras")).to_contain_text("Corner shop door")
    page.check(f"#cam-{camera.code}")
    page.click("text=Send requests to the ticked cameras")
    expect(page.locator(".messagelist")).to_contain_text("1 request(s) queued")
    wait_for(lambda: smtp_sink.messages)

    # The owner opens the link from the mail in a fresh browser context and uploads a clip.
    owner_page = page.context.browser.new_page(base_url=page.url.split("/admin")[0])
    owner_page.goto(link_in(parsed_mail(smtp_sink)[0]).replace("http://testserver", ""))
    expect(owner_page.locator("h1")).to_have_text("Can you help with footage?")
    expect(owner_page.locator("main")).to_contain_text(incident.owner_summary)
    video = tmp_path / "door.mp4"
    video.write_bytes(tiny_mp4())
    owner_page.set_input_files("#clips", str(video))
    owner_page.select_option("#keep_days", "90")
    screenshot(owner_page, "consent-page")
    with owner_page.expect_response(lambda r: r.url.endswith("/uploads/finish/")) as streamed:
        owner_page.click("button:has-text('Upload')")
    assert streamed.value.status == 200  # one file: sent in pieces, sealed as they arrived, then shared
    expect(owner_page.locator("h1")).to_have_text("Thank you")
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    expect(owner_page.locator("main")).to_contain_text(digest)
    owner_page.close()

    # The investigator sees the answer and downloads the clip, hash verified.
    page.goto(f"/admin/requests_app/incident/{incident.pk}/change/")
    expect(page.locator("body")).to_contain_text("Uploaded")
    with page.expect_download() as download_info:
        page.click("text=download")
    path = download_info.value.path()
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == digest == Clip.objects.get().sha256


def test_an_owner_sees_a_refused_file_and_a_too_large_one_and_then_shares_two(page, tmp_path, settings):
    from datetime import timedelta

    from django.utils import timezone

    from requests_app.models import FootageRequest

    camera = CameraFactory(label="Porch", owner=OwnerFactory(email="porch@example.org"))
    request = FootageRequest.objects.create(incident=IncidentFactory(), camera=camera, camera_label="Porch",
                                            nonce="nonce-browser", state="sent", sent_at=timezone.now(),
                                            expires_at=timezone.now() + timedelta(days=10))
    settings.UPLOAD_MAX_MB = 1
    page.goto(services.consent_link(request).replace("http://testserver", ""))
    uploads = []
    page.on("request", lambda r: uploads.append(r.url) if "/uploads/" in r.url else None)

    big = tmp_path / "long.mp4"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))
    page.set_input_files("#clips", str(big))
    page.click("button:has-text('Upload')")  # refused by the page itself, before a byte is sent
    expect(page.locator(".error-summary")).to_contain_text("larger than 1 MB")
    assert uploads == []

    fake = tmp_path / "notes.mp4"
    fake.write_bytes(b"not a video " * 1000)
    page.set_input_files("#clips", str(fake))
    page.click("button:has-text('Upload')")
    expect(page.locator(".error-summary")).to_contain_text("“notes.mp4” was not accepted")
    assert not Clip.objects.exists()

    video, still = tmp_path / "porch.mp4", tmp_path / "still.jpg"
    video.write_bytes(tiny_mp4())
    still.write_bytes(tiny_jpeg())
    page.set_input_files("#clips", [str(video), str(still)])  # the form shown with the error streams too
    with page.expect_response(lambda r: r.url.endswith("/uploads/finish/")):
        page.click("button:has-text('Upload')")
    expect(page.locator("h1")).to_have_text("Thank you")
    expect(page.locator("main")).to_contain_text("We received 2 files")
    for path in (video, still):
        expect(page.locator("main")).to_contain_text(hashlib.sha256(path.read_bytes()).hexdigest())
    request.refresh_from_db()
    assert request.state == "uploaded"
    assert sorted(Clip.objects.values_list("original_name", flat=True)) == ["porch.mp4", "still.jpg"]
