"""The notice as an A4 PDF, its Chinese font embedded (reportlab).

The font is WenQuanYi Micro Hei, shipped in ``fonts/`` with its licence (Apache-2.0): a
notice must print the same on any machine, so it relies on nothing installed, and the
PDF carries the subset of glyphs it uses (a TrueType ``FontFile2``), so any reader shows
it. ``invariant`` rendering leaves out the creation time and random document id: the same
notice renders to the same bytes, which is what lets its recorded SHA-256 be checked.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from disburse.domain.money import yuan
from disburse.printing.notice import COLUMNS

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus.doctemplate import BaseDocTemplate

    from disburse.printing.notice import NoticeDocument

FONT: Final = "WenQuanYiMicroHei"
FONT_FILE: Final = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"
_WIDTHS: Final = (14 * mm, 30 * mm, 50 * mm, 54 * mm, 32 * mm)


@cache
def _font() -> str:
    """Register the shipped font once per process (reportlab's registry is global)."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=4 * mm
        ),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=10, leading=13),
        "amount": ParagraphStyle(
            "amount", parent=body, fontSize=10, leading=13, alignment=TA_RIGHT
        ),
        "small": ParagraphStyle("small", parent=body, fontSize=9, leading=12),
    }


def render_pdf(notice: NoticeDocument) -> bytes:
    """The printable notice: title, opening, the table with its total, 大写, where to object."""
    styles = _styles()
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=notice.title,
        author="disburse",
        subject=str(notice.notice_id),
        invariant=1,
        initialFontName=_font(),  # no stray reference to a font the PDF does not carry
    )
    opening, closing = notice.paragraphs()
    figures, in_capitals = notice.total_lines()
    story: list[Any] = [
        Paragraph(_escape(notice.title), styles["title"]),
        Paragraph(_escape(opening), styles["body"]),
        Spacer(1, 4 * mm),
        _table(notice, styles),
        Spacer(1, 4 * mm),
        Paragraph(_escape(figures), styles["body"]),
        Paragraph(_escape(in_capitals), styles["body"]),
        Spacer(1, 4 * mm),
        Paragraph(_escape(closing), styles["body"]),
        Spacer(1, 6 * mm),
        Paragraph(_escape(notice.footer), styles["small"]),
    ]
    document.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return out.getvalue()


def _table(notice: NoticeDocument, styles: dict[str, ParagraphStyle]) -> Table:
    cell, amount = styles["cell"], styles["amount"]
    header = [Paragraph(name, cell) for name in COLUMNS]
    rows = [
        [
            Paragraph(_escape(text), amount if i == len(COLUMNS) - 1 else cell)
            for i, text in enumerate(row)
        ]
        for row in notice.rows()
    ]
    total = [
        Paragraph("合计", cell),
        Paragraph(f"{len(notice.lines)}人", cell),
        "",
        "",
        Paragraph(yuan(notice.total_fen), amount),
    ]
    table = Table([header, *rows, total], colWidths=_WIDTHS, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _font()),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("SPAN", (1, -1), (3, -1)),
            ]
        )
    )
    return table


def _page_number(canvas: Canvas, document: BaseDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(_font(), 9)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"第 {document.page} 页")
    canvas.restoreState()


def _escape(text: str) -> str:
    """Paragraphs read a little markup: what people typed is shown, never interpreted."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
