"""Builders of bank return files for the tests: answer an exported payment file as a bank would."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from openpyxl import Workbook, load_workbook

from disburse.bankfiles.template import load_template

if TYPE_CHECKING:
    from collections.abc import Mapping
    from uuid import UUID


def answered_rows(
    rows: list[list[str]], failed: Mapping[UUID, str], *, paid_on: str = "20240205"
) -> list[list[str]]:
    """The payment file's rows with the bank's outcome columns added (generic template)."""
    results = load_template().results
    header = [*rows[0], results.status, results.reason, results.bank_reference, results.paid_on]
    out = [header]
    failed_refs = {payout_id.hex: reason for payout_id, reason in failed.items()}
    for number, row in enumerate(rows[1:-1], start=1):
        reason = failed_refs.get(row[-1])
        if reason is None:
            out.append([*row, "成功", "", f"BOC{number:06d}", paid_on])
        else:
            out.append([*row, "失败", reason, "", ""])
    out.append([*rows[-1], "", "", "", ""])
    return out


def csv_rows(data: bytes) -> list[list[str]]:
    """Rows of an exported CSV payment file."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def to_csv(rows: list[list[str]]) -> bytes:
    """Rows as the bank's CSV (UTF-8 with a BOM)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_rows(data: bytes) -> list[list[str]]:
    """Rows of an exported XLSX payment file, as text."""
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]


def to_xlsx(rows: list[list[str]], *, title: str | None = None) -> bytes:
    """Rows as the bank's XLSX, optionally under a title row as banks print one."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pain002(
    batch_id: UUID,
    lines: Mapping[UUID, tuple[int, str | None]],
    *,
    count: int,
    total: str,
) -> bytes:
    """A pain.002.001.03 status report: per payout (amount in fen, failure reason or None)."""
    transactions = []
    for payout_id, (amount_fen, reason) in lines.items():
        amount = f"{amount_fen // 100}.{amount_fen % 100:02d}"
        status = (
            "<TxSts>ACSC</TxSts><AccptncDtTm>2024-02-05T10:00:00</AccptncDtTm>"
            f"<AcctSvcrRef>BOC-{payout_id.hex[:8]}</AcctSvcrRef>"
            if reason is None
            else f"<TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC04</Cd></Rsn>"
            f"<AddtlInf>{reason}</AddtlInf></StsRsnInf>"
        )
        transactions.append(
            f"<TxInfAndSts><OrgnlEndToEndId>{payout_id.hex}</OrgnlEndToEndId>{status}"
            f'<OrgnlTxRef><Amt><InstdAmt Ccy="CNY">{amount}</InstdAmt></Amt></OrgnlTxRef>'
            "</TxInfAndSts>\n"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">\n'
        "<CstmrPmtStsRpt><GrpHdr><MsgId>R1</MsgId><CreDtTm>2024-02-05T12:00:00</CreDtTm>"
        "</GrpHdr>\n"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{batch_id.hex}</OrgnlMsgId>"
        "<OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>"
        f"<OrgnlNbOfTxs>{count}</OrgnlNbOfTxs><OrgnlCtrlSum>{total}</OrgnlCtrlSum>"
        "<GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>\n"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{batch_id.hex}</OrgnlPmtInfId>\n"
        + "".join(transactions)
        + "</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>\n"
    ).encode()
