"""Printed invitations: one page per address point, with the address, a short code and a QR code of the landing
page. The QR code is drawn as squares (vector), so it prints sharp at any size."""

import segno
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from invitations import codes
from invitations.models import Campaign
from invitations.services import landing_url

QR_MODULE_MM = 1.2


def _latin1(text: str) -> str:
    """The PDF's core fonts hold Latin-1 (every letter of English and Spanish); anything else becomes '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _qr(pdf: FPDF, url: str, *, x: float, y: float) -> None:
    """One rectangle per run of dark modules in a row: a third of the drawing operations of one per module."""
    for row_index, row in enumerate(segno.make(url, error="m").matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            pdf.rect(x + start * QR_MODULE_MM, y + row_index * QR_MODULE_MM, (column - start) * QR_MODULE_MM,
                     QR_MODULE_MM, style="F")


PROGRESS_EVERY = 25  # pages between two progress reports


def letters_pdf(campaign: Campaign, progress=None) -> bytes:
    """The campaign's letters, one page each; `progress(pages_done)` is called every PROGRESS_EVERY pages."""
    pdf = FPDF(format="letter", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_title(_latin1(campaign.name))
    entry = settings.PUBLIC_URL + "/invite/"
    with translation.override(campaign.language):
        for done, recipient in enumerate(campaign.recipients.order_by("address", "pk")):
            if progress is not None and done and done % PROGRESS_EVERY == 0:
                progress(done)
            pdf.add_page()
            pdf.set_font("Helvetica", "B", 14)
            pdf.set_xy(20, 20)
            pdf.cell(0, 8, _latin1(settings.AGENCY_NAME), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 11)
            pdf.set_xy(20, 40)
            pdf.multi_cell(120, 6, _latin1(_("To the residents of") + "\n" + recipient.address))
            pdf.set_xy(20, 70)
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(175, 8, _latin1(_("An invitation to join the community camera program")))
            pdf.set_font("Helvetica", "", 11)
            pdf.set_x(20)
            pdf.multi_cell(175, 6, _latin1(_(
                "If you have a security camera at your home or business, you can register it with %(agency)s. "
                "When a crime happens nearby, investigators may ask you for a clip; you decide whether to share. "
                "Police never see your camera unless you choose so, and you can leave at any time.")
                % {"agency": settings.AGENCY_NAME}))
            pdf.ln(4)
            pdf.set_x(20)
            pdf.multi_cell(175, 6, _latin1(_("Scan the code with your phone, or go to %(url)s and type your code:")
                                           % {"url": entry}))
            pdf.set_font("Courier", "B", 24)
            pdf.set_xy(20, 150)
            pdf.cell(80, 14, codes.short_code_shown(recipient.short_code))
            _qr(pdf, landing_url(recipient), x=130, y=140)
            pdf.set_font("Helvetica", "", 9)
            pdf.set_xy(20, 250)
            pdf.multi_cell(175, 5, _latin1(_("Questions: %(email)s %(phone)s")
                                           % {"email": settings.AGENCY_EMAIL, "phone": settings.AGENCY_PHONE}))
    return bytes(pdf.output())
