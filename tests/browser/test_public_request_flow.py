"""A public area request from posting to the investigator's download: posted and approved, found on /requests/ on
a 360 px phone by someone who never registered, answered with an email confirmed through the real SMTP sink and a
clip sent through the consent page's resumable upload, then downloaded by the investigator."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from public_requests import services
from requests_app import services as incident_services
from requests_app.models import Clip
from tests.browser.conftest import offline
from tests.browser.test_phones import assert_fits
from tests.conftest import link_in, make_staff, parsed_mail, wait_for
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def small_phone(browser, asgi_server):
    context = offline(browser.new_context(base_url=asgi_server, viewport={"width": 360, "height": 740},
                                          is_mobile=True, has_touch=True))
    context.set_default_timeout(20_000)
    errors = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield context.new_page()
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_a_visitor_who_never_registered_answers_on_a_phone_and_the_investigator_downloads(
        small_phone, smtp_sink, tmp_path):
    investigator, supervisor = make_staff("investigator"), make_staff("supervisor")
    incident = IncidentFactory(case_number="26-880001", offense_type="Vehicle break-in")
    incident_services.incident_investigators_set(incident=incident, users=[investigator])
    posted = services.public_request_post(
        user=investigator, incident=incident, starts_at=incident.starts_at, ends_at=incident.ends_at,
        answers_until=timezone.now() + timedelta(days=7), summary="A parked car was broken into near here.")
    services.public_request_approve(public_request=posted, user=supervisor)

    page = small_phone
    page.goto("/requests/")
    expect(page.locator("#requests-map")).to_have_attribute("data-areas", "1")  # drawn even with the tiles offline
    expect(page.locator("#requests-map path.leaflet-interactive")).to_have_count(1)
    expect(page.locator(".request")).to_contain_text("Fewer than 5 people answered")
    assert_fits(page, "/requests/")
    page.click("text=Vehicle break-in")
    page.fill("#id_email", "neighbour@example.org")
    page.check("#id_wants_to_register")
    page.click("button:has-text('Continue')")
    expect(page.locator("h1")).to_have_text("Check your email")

    wait_for(lambda: smtp_sink.messages, what="the confirmation mail")
    page.goto(path_of(link_in(parsed_mail(smtp_sink)[0])))
    assert_fits(page, "confirm")
    page.click("button:has-text('Confirm')")
    expect(page.locator("h1")).to_have_text("My shared footage")
    assert_fits(page, "the uploader's page")
    video = tmp_path / "porch.mp4"
    video.write_bytes(tiny_mp4())
    page.set_input_files("#clips", str(video))
    with page.expect_response(lambda r: r.url.endswith("/uploads/finish/"), timeout=60_000) as finished:
        page.click("button:has-text('Upload')")
    assert finished.value.status == 200
    expect(page.locator("main")).to_contain_text("1 file was shared")
    clip = Clip.objects.get(incident=incident)
    expect(page.locator("#my-clips")).to_contain_text(clip.sha256)
    expect(page.locator("main a:has-text('Register it')")).to_have_attribute(
        "href", "/register/?email=neighbour%40example.org")

    wait_for(lambda: len(smtp_sink.messages) == 2, what="the receipt")
    receipt = parsed_mail(smtp_sink)[1]
    assert clip.sha256 in receipt.get_body(("plain",)).get_content()

    staff = Client()
    staff.force_login(investigator)
    admin_page = staff.get(f"/admin/public_requests/publicrequest/{posted.pk}/change/").content.decode()
    assert f"/evidence/{clip.code}/download/" in admin_page and "neighbour@example.org" not in admin_page
    download = staff.get(f"/evidence/{clip.code}/download/")
    assert b"".join(download.streaming_content) == video.read_bytes()
    # The uploader's history shows the download.
    history_link = [u for u in re.findall(r"https?://\S+", receipt.get_body(("plain",)).get_content())
                    if "/requests/answers/" in u][0]
    page.goto(path_of(history_link))
    expect(page.locator("#history")).to_contain_text("downloaded your clip")


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 900}])
def test_the_public_pages_pass_the_accessibility_engine(browser, live_server, viewport):
    from public_requests import links
    from tests.browser.test_accessibility import AXE, check

    assert AXE.exists()
    investigator, supervisor = make_staff("investigator"), make_staff("supervisor")
    incident = IncidentFactory()
    incident_services.incident_investigators_set(incident=incident, users=[investigator])
    posted = services.public_request_post(
        user=investigator, incident=incident, starts_at=incident.starts_at, ends_at=incident.ends_at,
        answers_until=timezone.now() + timedelta(days=7), summary="A parked car was broken into near here.")
    services.public_request_approve(public_request=posted, user=supervisor)
    answer = services.public_answer_start(public_request=posted, email="n@example.org", language="en",
                                          wants_to_register=False)
    confirm = path_of(links.confirm_link(answer))
    services.public_answer_confirm(answer=answer)
    context = offline(browser.new_context(base_url=live_server.url, bypass_csp=True, viewport=viewport))
    try:
        page = context.new_page()
        assert check(page, ["/requests/", f"/requests/{posted.code}/", links.access_path(answer)]) == {}
        page.goto(confirm)  # used already: its own friendly page
        expect(page.locator("h1")).to_have_text("This link cannot be used")
    finally:
        context.close()
