"""The chain-of-custody report as a document: human sizes and formats, the verification statement, and the same
report as a PDF (issue 16) with the HTML page's permissions and a ledger entry of its own."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AccessEntry
from requests_app import services
from requests_app.custody import human_duration, human_size
from requests_app.models import Clip, FootageRequest
from tests.conftest import make_staff, sign_in_owner
from tests.requests_app.conftest import clip_uploaded
from tests.requests_app.media import tiny_mp4
from tests.requests_app.pdf_text import pdf_text

pytestmark = pytest.mark.django_db
VIDEO = tiny_mp4()


@pytest.fixture
def clip(client, incident, street_cameras):
    return clip_uploaded(client, incident, street_cameras["near"][0], name="front door.mp4", video=VIDEO)


def page_url(clip):
    return f"/admin/requests_app/incident/clip/{clip.pk}/custody/"


def pdf_url(clip):
    return page_url(clip) + "pdf/"


def test_sizes_and_durations_read_as_people_say_them_with_the_exact_count_kept():
    assert human_size(12_998_112) == "12.4 MB (12,998,112 bytes)"
    assert human_size(900) == "900 bytes"
    assert human_duration(83.4) == "1:23.4 (83.4 s)"
    assert human_duration(3725) == "1:02:05.0 (3,725.0 s)"
    assert human_duration(None) == "not stated"


def test_the_page_shows_human_size_and_format_the_statement_and_a_pdf_link(client, clip, investigator):
    client.force_login(investigator)
    page = client.get(page_url(clip)).content.decode()

    assert f"({clip.size:,} bytes)" in page and "MP4 (video/mp4)" in page
    assert "SHA-256 of the whole file was computed as it arrived" in page
    assert "authenticates each 1 MiB record" in page
    assert f'href="{pdf_url(clip)}"' in page and "Download as PDF" in page
    assert "custody_report.css" in page  # the print stylesheet (tests/browser/test_custody_print.py prints it)


def test_the_pdf_is_the_same_report_with_page_numbers(client, clip, investigator):
    services.clip_verify(clip=clip, user=investigator)
    client.force_login(investigator)
    response = client.get(pdf_url(clip))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    clip.refresh_from_db()
    for seen in ("Chain of custody: front door.mp4", clip.incident.case_number, clip.sha256, str(clip.code),
                 f"({clip.size:,} bytes)", "MP4 (video/mp4)", "last checked against the store at",
                 "sha256sum", "clip.uploaded", "clip.verified", "page 1 of 1"):
        assert seen in text, seen


def test_the_pdf_downloads_as_a_named_file_that_no_cache_keeps(client, clip, investigator):
    client.force_login(investigator)
    response = client.get(pdf_url(clip))

    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="custody-{clip.incident.case_number}-{clip.code}.pdf"'
    assert "front door" not in disposition  # the owner's file name never names the file
    assert "no-store" in response["Cache-Control"]


def test_a_long_access_list_numbers_every_page(client, clip, investigator):
    client.force_login(investigator)
    for _ in range(60):
        client.get(page_url(clip))
    text = pdf_text(client.get(pdf_url(clip)).content)

    pages = text.count("page ")
    assert pages >= 2 and f"page 1 of {pages}" in text and f"page {pages} of {pages}" in text


def test_downloading_the_pdf_is_in_the_ledger_and_the_owners_history(client, clip, investigator):
    client.force_login(investigator)
    client.get(pdf_url(clip))

    entry = AccessEntry.objects.get(target_code=str(clip.code), action="clip.custody_pdf_downloaded")
    owner = clip.request.camera.owner
    assert entry.actor_label == "investigator" and entry.owner_code == str(owner.code)
    assert entry.case_number == clip.incident.case_number
    client.logout()
    sign_in_owner(client, owner)
    history = client.get("/owner/history/").content.decode()
    assert "downloaded the chain-of-custody report of your clip as a PDF" in history


def test_an_investigator_not_on_the_case_gets_neither_the_page_nor_the_pdf(client, clip, django_user_model):
    other = django_user_model.objects.create_user("other-detective", is_staff=True)
    other.groups.add(Group.objects.get(name="Investigator"))
    client.force_login(other)

    for url in (page_url(clip), pdf_url(clip)):
        response = client.get(url)
        assert response.status_code == 404
        assert clip.sha256.encode() not in response.content and b"front door" not in response.content
    assert not AccessEntry.objects.filter(target_code=str(clip.code), actor_label="other-detective").exists()


@pytest.mark.parametrize(("role", "allowed"), [("supervisor", True), ("auditor", True), ("analyst", False),
                                               ("administrator", False)])
def test_who_else_may_download_the_pdf(client, clip, role, allowed):
    client.force_login(make_staff(role))
    response = client.get(pdf_url(clip))
    assert (response.status_code == 200) == allowed
    if not allowed:
        assert response.status_code in (403, 404) and not response.content.startswith(b"%PDF")


def test_signed_out_visitors_are_sent_to_sign_in(client, clip):
    response = client.get(pdf_url(clip))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_name_outside_the_pdf_fonts_is_written_as_code_points_not_lost(client, incident, street_cameras,
                                                                         investigator):
    request = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][1], camera_label="Near",
                                            nonce="n2", state="sent", expires_at=timezone.now() + timedelta(days=5))
    url = services.consent_link(request).replace("http://testserver", "")
    client.post(url + "upload/", {"clips": [SimpleUploadedFile("门口 café.mp4", VIDEO)], "keep_days": "90"})
    clip = Clip.objects.get()
    client.force_login(investigator)

    text = pdf_text(client.get(pdf_url(clip)).content)
    assert "\\u95e8\\u53e3 café.mp4" in text


def test_a_failed_integrity_check_is_stated_on_the_page_and_in_the_pdf(client, clip, investigator):
    Clip.objects.filter(pk=clip.pk).update(integrity_failed_at=timezone.now())
    client.force_login(investigator)

    page = client.get(page_url(clip)).content.decode()
    text = pdf_text(client.get(pdf_url(clip)).content)
    for shown in (page, text):
        assert "Integrity check FAILED at" in shown and "not yet re-checked" not in shown
