"""Payment and return files in a bank's spreadsheet layout (CSV or XLSX), per template.

The payment file: a header row (the template's column headers), one row per payout, and
a control-totals row (the template's label, the count, the total in yuan). The return
file is the same sheet with the bank's columns added (outcome, reason, its reference,
value date); rows may come in any order, and title rows above the header are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from disburse.bankfiles.amounts import fen_of, yuan
from disburse.bankfiles.returns import MAX_LINES, ReturnFile, ReturnLine
from disburse.domain.batch import Outcome
from disburse.domain.text import TextError, TextKind, clean_text

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from disburse.application.payouts import Payee
    from disburse.bankfiles.template import BankTemplate

_HEADER_SEARCH = 10
_XLSX_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError)
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def reference_of(payout_id: UUID) -> str:
    """A line's reference: the payout id in 32 hex digits (fits ISO 20022's 35)."""
    return payout_id.hex


def payment_rows(template: BankTemplate, payees: Sequence[Payee]) -> list[list[str]]:
    """The payment file's rows: header, one per payee, control totals."""
    rows = [template.headers()]
    for number, payee in enumerate(payees, start=1):
        rows.append(
            [
                str(number),
                payee.account,
                payee.name,
                yuan(payee.amount_fen),
                template.purpose_of(payee.programme, payee.period),
                reference_of(payee.payout_id),
            ]
        )
    totals = dict.fromkeys(template.columns.model_dump(), "")
    totals["sequence"] = template.totals.label
    totals[template.totals.count_column] = str(len(payees))
    totals["amount"] = yuan(sum(p.amount_fen for p in payees))
    rows.append(list(totals.values()))
    return rows


def csv_bytes(template: BankTemplate, rows: Sequence[Sequence[str]]) -> bytes:
    """CSV in the template's encoding (``utf-8-sig`` opens in Excel with Chinese intact)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(template.encoding)


def xlsx_bytes(template: BankTemplate, rows: Sequence[Sequence[str]]) -> bytes:
    """One sheet; every cell text (accounts keep leading zeros, amounts their decimals)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = template.sheet
    for row in rows:
        sheet.append(list(row))
    for column in sheet.iter_cols():
        for cell in column:
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_rows(data: bytes, template: BankTemplate) -> Iterator[Sequence[object]]:
    for encoding in dict.fromkeys((template.encoding, "utf-8-sig", "gb18030")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        yield from csv.reader(io.StringIO(text, newline=""))
        return
    raise ValueError("the file is neither UTF-8 nor GB18030 text")


def _xlsx_rows(data: bytes, template: BankTemplate) -> Iterator[Sequence[object]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _XLSX_ERRORS as error:
        raise ValueError(f"the XLSX file cannot be opened: {error}") from None
    try:
        sheet = book[template.sheet] if template.sheet in book.sheetnames else book.active
        if sheet is None:
            raise ValueError("the workbook has no sheet")
        yield from sheet.iter_rows(values_only=True)
    finally:
        book.close()


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _day(cell: object) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    if not text:
        return None
    found = _DATE.fullmatch(text)
    if found is None:
        raise ValueError(f"{text[:20]!r} is not a date (YYYY-MM-DD or YYYYMMDD)")
    return date(int(found[1]), int(found[2]), int(found[3]))


def read_table(data: bytes, template: BankTemplate, *, file_format: str) -> ReturnFile:
    """A CSV or XLSX return file in the template's layout, every problem noted per line."""
    read = ReturnFile(file_format)
    rows = _xlsx_rows(data, template) if file_format == "xlsx" else _csv_rows(data, template)
    columns: dict[str, int] | None = None
    try:
        for number, cells in enumerate(rows, start=1):
            if number > MAX_LINES:
                read.refuse(number, "BANKFILE-SIZE", f"more than {MAX_LINES} lines")
                break
            texts = [_text(c) for c in cells]
            if columns is None:
                columns = _header(texts, template) if number <= _HEADER_SEARCH else {}
                if columns == {}:
                    read.refuse(0, "BANKFILE-COLUMNS", _missing(template))
                    break
                continue
            if any(texts):
                _row(read, number, cells, columns, template)
    except (ValueError, csv.Error) as error:
        read.refuse(0, "BANKFILE-FORMAT", str(error))
    if columns is None and not read.problems:
        read.refuse(0, "BANKFILE-COLUMNS", _missing(template))
    return read


def _missing(template: BankTemplate) -> str:
    c, r = template.columns, template.results
    needed = (c.sequence, c.account, c.amount, c.reference, r.status, r.reason)
    return "no header row with the template's columns: " + ", ".join(needed)


def _header(texts: list[str], template: BankTemplate) -> dict[str, int] | None:
    """Field -> column index, if this row is the header (else None: a title row)."""
    at = {text: index for index, text in enumerate(texts) if text}
    fields = {**template.columns.model_dump(), **template.results.model_dump()}
    found = {f: at[h] for f, h in fields.items() if isinstance(h, str) and h in at}
    if template.columns.reference not in at:
        return None
    required = ("sequence", "account", "amount", "reference", "status", "reason")
    return found if all(f in found for f in required) else {}


def _row(  # noqa: C901, PLR0912 - one check per column, each reported on its own
    read: ReturnFile,
    number: int,
    cells: Sequence[object],
    columns: dict[str, int],
    template: BankTemplate,
) -> None:
    def cell(field: str) -> object:
        index = columns.get(field)
        return cells[index] if index is not None and index < len(cells) else None

    heads = {**template.columns.model_dump(), **template.results.model_dump()}
    if _text(cell("sequence")) == template.totals.label:
        if read.totals_line:
            read.refuse(number, "BANKFILE-TOTALS", "a second totals row")
            return
        read.totals_line = number
        count = _text(cell(template.totals.count_column))
        if count.isdigit() and count.isascii():
            read.count = int(count)
        else:
            read.refuse(number, "BANKFILE-TOTALS", f"count {count[:20]!r} is not a whole number")
        try:
            read.total_fen = fen_of(cell("amount"))
        except ValueError as error:
            read.refuse(number, "BANKFILE-AMOUNT", str(error), heads["amount"])
        return
    before = len(read.problems)
    payout_id = amount = outcome = paid_on = None
    try:
        payout_id = UUID(_text(cell("reference")))
    except ValueError:
        read.refuse(number, "BANKFILE-REFERENCE", "not a reference of ours", heads["reference"])
    try:
        amount = fen_of(cell("amount"))
    except ValueError as error:
        read.refuse(number, "BANKFILE-AMOUNT", str(error), heads["amount"])
    status = _text(cell("status"))
    if status in template.results.paid:
        outcome = Outcome.PAID
    elif status in template.results.failed:
        outcome = Outcome.FAILED
    else:
        words = "/".join((*template.results.paid, *template.results.failed))
        read.refuse(
            number, "BANKFILE-STATUS", f"{status[:20]!r} is none of {words}", heads["status"]
        )
    try:
        reason = clean_text(_text(cell("reason")), kind=TextKind.REASON)
        bank_reference = clean_text(_text(cell("bank_reference")), kind=TextKind.CODE)
    except TextError as error:
        read.refuse(number, error.rule_id, error.message)
        reason = bank_reference = ""
    if outcome is Outcome.FAILED and not reason:
        read.refuse(number, "BANKFILE-REASON", "a failed line states why", heads["reason"])
    try:
        paid_on = _day(cell("paid_on"))
    except ValueError as error:
        read.refuse(number, "BANKFILE-DATE", str(error), heads["paid_on"])
    if len(read.problems) > before or payout_id is None or outcome is None:
        return
    read.lines.append(
        ReturnLine(
            line=number,
            payout_id=payout_id,
            outcome=outcome,
            amount_fen=amount,
            account=_text(cell("account")),
            bank_reference=bank_reference,
            reason=reason,
            paid_on=paid_on if outcome is Outcome.PAID else None,
        )
    )
