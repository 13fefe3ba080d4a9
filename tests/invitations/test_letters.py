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

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_RECT = re.compile(r"([\d.]+) ([\d.]+) ([\d.]+) -([\d.]+) re f")
_TEXT = re.compile(r"\(([^)]*)\) Tj")


def _pages(pdf: bytes) -> list[str]:
    """Each page's drawing (content stream), decompressed."""
    return [zlib.decompress(data).decode("latin-1") for data in _STREAM.findall(pdf)]


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


def test_the_pdf_has_one_page_per_address_each_with_its_code_and_qr(client, staff_user):
    address_points(4)
    address_points(2, inside=False)
    client.force_login(staff_user("administrator"))
    new_campaign(client, channel="letter", language="es", area_geojson=AREA_GEOJSON)
    campaign = Campaign.objects.get()

    response = client.get(f"/invitations/{campaign.code}/letters.pdf")

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


def test_an_area_with_more_addresses_than_allowed_is_refused_with_the_count(client, staff_user, settings):
    settings.INVITE_LETTERS_MAX = 2
    address_points(3)
    client.force_login(staff_user("administrator"))

    response = new_campaign(client, channel="letter", area_geojson=AREA_GEOJSON)

    assert response.status_code == 400 and not Campaign.objects.exists()
    assert "The area holds 3 addresses, more than one campaign prints (2)" in response.content.decode()
