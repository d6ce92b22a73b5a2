"""The notice as a spreadsheet: the same rows and totals as the PDF (openpyxl).

Rendered reproducibly: the workbook's timestamps and its ZIP members' dates are fixed,
so the same notice gives the same bytes and its recorded SHA-256 can be checked.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from typing import TYPE_CHECKING, Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from disburse.domain.money import yuan
from disburse.printing.notice import COLUMNS

if TYPE_CHECKING:
    from disburse.printing.notice import NoticeDocument

_FIXED: Final = datetime(2000, 1, 1)  # noqa: DTZ001 - a constant, not a time of day
_ZIP_DATE: Final = (2000, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def render_xlsx(notice: NoticeDocument) -> bytes:
    """One sheet: title, opening, the table, the total in figures and capitals, objections."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = "公示"
    opening, closing = notice.paragraphs()
    figures, in_capitals = notice.total_lines()
    sheet.append([notice.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([opening])
    sheet.append(list(COLUMNS))
    for number, line in enumerate(notice.lines, start=1):
        sheet.append(
            [number, line.name, line.resident_id, line.programme_name, yuan(line.amount_fen)]
        )
    sheet.append(["合计", f"{len(notice.lines)}人", "", "", yuan(notice.total_fen)])
    sheet.append([figures])
    sheet.append([in_capitals])
    sheet.append([closing])
    sheet.append([notice.footer])
    for column, width in zip("ABCDE", (8, 12, 22, 24, 14), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=4, max_row=sheet.max_row - 4, min_col=5, max_col=5):
        for cell in row:
            cell.alignment = Alignment(horizontal="right")
    book.properties.created = _FIXED
    book.properties.modified = _FIXED
    out = io.BytesIO()
    book.save(out)
    return _reproducible(out.getvalue())


def _reproducible(archive: bytes) -> bytes:
    """The same archive with fixed member dates and modification time."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(
                    rb"<dcterms:modified\1>2000-01-01T00:00:00Z</dcterms:modified>", data
                )
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, data)
    return out.getvalue()
