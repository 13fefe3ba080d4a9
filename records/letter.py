"""The refusal letter a records officer prints when the policy is confidential: as data, so the HTML page and the
PDF (fpdf2) say the same words."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from records.policy import confidential_reason
from requests_app.custody_pdf import NEXT_LINE, pdf_text


@dataclass(frozen=True)
class RefusalLetter:
    agency: str
    date: str
    requester: str
    reference: str
    paragraphs: list[str]
    signed: str


def refusal_letter(*, user, requester: str, reference: str) -> RefusalLetter:
    agency = settings.AGENCY_NAME
    return RefusalLetter(
        agency=agency, date=f"{timezone.localdate():%B %-d, %Y}", requester=requester, reference=reference,
        paragraphs=[
            f"Re: your public-records request {reference}.",
            f"{agency} has received your request for records of its community camera program: the registry of "
            "cameras residents and businesses have registered, and footage they have shared with investigators.",
            f"The request is refused. {confidential_reason()}",
            "Residents register their cameras and share footage on the program's written promise that neither is "
            "made public. No part of the registry or of shared footage will be released in answer to this request, "
            "redacted or otherwise.",
            "The program's public transparency report, which counts requests, clips and live views without naming "
            f"anyone, is published at {settings.PUBLIC_URL}/transparency/.",
        ],
        signed=f"{user.get_full_name() or user.get_username()}, records officer")


def refusal_letter_pdf(letter: RefusalLetter) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_title(pdf_text(f"Refusal of public-records request {letter.reference}"))
    pdf.set_creator("connect")
    pdf.set_margins(24, 22, 24)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.multi_cell(0, 7, pdf_text(letter.agency), **NEXT_LINE)
    pdf.set_font("helvetica", size=11)
    pdf.ln(4)
    for line in (letter.date, "", f"To: {letter.requester}", ""):
        pdf.multi_cell(0, 6, pdf_text(line), **NEXT_LINE)
    for paragraph in letter.paragraphs:
        pdf.multi_cell(0, 6, pdf_text(paragraph), **NEXT_LINE)
        pdf.ln(3)
    pdf.ln(6)
    pdf.multi_cell(0, 6, pdf_text(letter.signed), **NEXT_LINE)
    return bytes(pdf.output())
