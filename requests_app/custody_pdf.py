"""The chain-of-custody report as a PDF, drawn with fpdf2 (pure Python: no browser, no system library).

The PDF's built-in fonts hold Windows-1252 only (Latin letters, accents, dashes and quotes). Any other character
(a file name in Chinese, an emoji) is written as its code point, \\u76d1, so the name stays exact and readable;
the page says so. Shipping a Unicode font would cost a vendored file of several hundred kilobytes."""

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from requests_app.custody import CustodyReport

ENCODING = "cp1252"
NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
MONO = FontFace(family="courier", size_pt=9)


def pdf_text(text: str) -> str:
    return text.encode(ENCODING, "backslashreplace").decode(ENCODING)


class _CustodyPDF(FPDF):
    def __init__(self, report: CustodyReport):
        super().__init__(format="Letter")
        self.core_fonts_encoding = ENCODING
        self.report = report
        self.set_title(pdf_text(report.title))
        self.set_creator("connect")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)

    def footer(self):
        self.set_y(-13)
        self.set_font("helvetica", size=8)
        self.cell(0, 5, pdf_text(f"{self.report.title} · printed {self.report.printed}"), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"page {self.page_no()} of {{nb}}", align="R")

    def heading(self, text: str, size: int):
        self.set_font("helvetica", "B", size)
        self.multi_cell(0, size * 0.5, pdf_text(text), **NEXT_LINE)
        self.ln(2)

    def paragraph(self, text: str, size: int = 10):
        self.set_font("helvetica", size=size)
        self.multi_cell(0, 5, pdf_text(text), align="L", **NEXT_LINE)
        self.ln(1.5)


def custody_pdf(report: CustodyReport) -> bytes:
    pdf = _CustodyPDF(report)
    pdf.add_page()
    pdf.heading(report.title, 16)
    pdf.paragraph(f"All times are in {report.zone}, the program's time zone; each time gives its own offset from "
                  "UTC. Characters outside Windows-1252 are written as their code point (\\uXXXX).", size=9)

    pdf.set_font("helvetica", size=10)
    with pdf.table(col_widths=(24, 76), text_align="LEFT", first_row_as_headings=False,
                   line_height=5) as table:
        for fact in report.facts:
            row = table.row()
            row.cell(pdf_text(fact.label))
            # Courier breaks a 64-character hash at the cell's edge: it prints whole, over two lines if need be.
            row.cell(pdf_text(fact.value), style=MONO if fact.verbatim else None)
    pdf.ln(4)

    pdf.heading("Verification", 12)
    for line in report.verification:
        pdf.paragraph(line)
    pdf.ln(2)

    pdf.heading("Every access since upload", 12)
    pdf.set_font("helvetica", size=8.5)
    with pdf.table(col_widths=(38, 18, 26, 18), text_align="LEFT", line_height=4.5) as table:
        header = table.row()
        for label in ("When", "Who", "What", "Note"):
            header.cell(label)
        for access in report.accesses:
            row = table.row()
            for value in (access.at, access.who, access.action, access.note):
                row.cell(pdf_text(value))
    pdf.ln(3)
    pdf.paragraph(f"Printed {report.printed}.", size=9)
    return bytes(pdf.output())

