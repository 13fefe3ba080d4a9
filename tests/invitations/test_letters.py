"""Printed letters: one page per address, each with its short code and a QR code of that letter's landing page.

No QR decoder is among the dependencies, so the test reads the QR code's squares back from each page's drawing
and compares them, module by module, with the QR code of the landing URL the page's code leads to."""

import re
import zlib

import pytest
import segno
from django.conf import settings

from audit.actions import Action
from audit.models import AccessEntry
from invitations.models import Campaign
from tests.invitations.helpers import AREA_GEOJSON, address_points, new_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"

# A stream is read by its /Length: compressed bytes may end in a carriage return, which a pattern up to
# "endstream" would drop (1 page in about 256: the fresh-clone run failed so).
_STREAM = re.compile(rb"/Length (\d+)[^>]*>>\s*stream\r?\n")
_RECT = re.compile(r"([\d.]+) ([\d.]+) ([\d.]+) -([\d.]+) re f")
_TEXT = re.compile(r"\(([^)]*)\) Tj")


def _pages(pdf: bytes) -> list[str]:
    """Each page's drawing (content stream), decompressed."""
    return [zlib.decompress(pdf[found.end():found.end() + int(found.group(1))]).decode("latin-1")
            for found in _STREAM.finditer(pdf)]


def _qr_drawn(page: str) -> set[tuple[int, int]]:
    """The dark modules, from the rectangles drawn (each a run of modules along a row, one module high)."""
    rects = [(float(x), float(y), float(width), float(height)) for x, y, width, height in _RECT.findall(page)]
    step = rects[0][3]
    left, top = min(rect[0] for rect in rects), max(rect[1] for rect in rects)
    return {(round((top - y) / step), round((x - left) / step) + offset)
            for x, y, width, _height in rects for offset in range(round(width / step))}


def _qr_expected(url: str) -> set[tuple[int, int]]:
    matrix = segno.make(url, error="m").matrix
    return {(row, column) for row, cells in enumerate(matrix) for column, dark in enumerate(cells) if dark}


def _built(client, campaign, capture) -> str:
    """Asks for the letters (POST) with the worker's task run at the commit; the download link the page then shows."""
    with capture(execute=True):
        response = client.post(f"/invitations/{campaign.code}/letters/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Ready: " in page
    return re.search(r'id="letters-download" href="([^"]+)"', page).group(1)


def test_the_pdf_has_one_page_per_address_each_with_its_code_and_qr(client, staff_user,
                                                                    django_capture_on_commit_callbacks):
    address_points(4)
    address_points(2, inside=False)
    client.force_login(staff_user("administrator"))
    new_campaign(client, channel="letter", language="es", area_geojson=AREA_GEOJSON)
    campaign = Campaign.objects.get()

    response = client.get(_built(client, campaign, django_capture_on_commit_callbacks))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.count(b"/Type /Page\n") == 4
    pages = _pages(pdf)
    assert len(pages) == 4
    printed = []
    for page in pages:
        texts = _TEXT.findall(page)
        [code] = [text for text in texts if re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", text)]
        printed.append(code.replace("-", ""))
        assert any("Test St, Raleigh 27601" in text for text in texts)
        assert any("Una invitaci" in text for text in texts)  # the campaign's language: Spanish
        assert _qr_drawn(page) == _qr_expected(f"{settings.PUBLIC_URL}/invite/{code.replace('-', '')}/")
    assert sorted(printed) == sorted(campaign.recipients.values_list("short_code", flat=True))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert campaign.recipients.filter(sent_at__isnull=True).count() == 0
    assert AccessEntry.objects.filter(action=Action.INVITATIONS_PRINTED, target_code=str(campaign.code)).exists()


def test_asking_for_the_letters_builds_nothing_in_the_request_and_records_only_the_download(
        client, staff_user, django_capture_on_commit_callbacks, settings):
    from invitations.models import LetterPrint

    address_points(3)
    client.force_login(staff_user("administrator"))
    new_campaign(client, channel="letter", area_geojson=AREA_GEOJSON)
    campaign = Campaign.objects.get()

    client.post(f"/invitations/{campaign.code}/letters/")  # the task is not run: no worker yet
    client.post(f"/invitations/{campaign.code}/letters/")  # a second click: the same build
    [waiting] = LetterPrint.objects.all()
    assert waiting.status == LetterPrint.Status.QUEUED and waiting.pages == 3
    page = client.get(f"/invitations/{campaign.code}/letters/").content.decode()
    assert "Building: 0 of 3 pages" in page and 'http-equiv="refresh"' in page and "letters-download" not in page
    assert not AccessEntry.objects.filter(action=Action.INVITATIONS_PRINTED).exists()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT  # not printed until downloaded

    from invitations import tasks

    assert tasks.letters_build_task(waiting.pk) == "built 3 pages"
    waiting.refresh_from_db()
    stored = (settings.EVIDENCE_DIR / "letters" / waiting.stored_name).read_bytes()
    assert b"%PDF" not in stored and b"Test St" not in stored  # sealed: no address in plain text on disk
    assert not AccessEntry.objects.filter(action=Action.INVITATIONS_PRINTED).exists()
    url = re.search(r'id="letters-download" href="([^"]+)"',
                    client.get(f"/invitations/{campaign.code}/letters/").content.decode()).group(1)
    assert client.get(url).content.startswith(b"%PDF")
    assert AccessEntry.objects.filter(action=Action.INVITATIONS_PRINTED).count() == 1


def test_an_area_with_more_addresses_than_allowed_is_refused_with_the_count(client, staff_user, settings):
    settings.INVITE_LETTERS_MAX = 2
    address_points(3)
    client.force_login(staff_user("administrator"))

    response = new_campaign(client, channel="letter", area_geojson=AREA_GEOJSON)

    assert response.status_code == 400 and not Campaign.objects.exists()
    assert "The area holds 3 addresses, more than one campaign prints (2)" in response.content.decode()
