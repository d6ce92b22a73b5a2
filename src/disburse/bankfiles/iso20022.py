"""ISO 20022 messages: pain.001.001.03 out (credit transfers), pain.002 back (their status).

The payment file is one ``CstmrCdtTrfInitn`` with one payment information block (the
batch, ``PmtInfId`` = ``MsgId`` = the batch id in hex) and one transaction per payout
(``EndToEndId`` = the payout id in hex), amounts in CNY with two decimals. The status
report is read by local element names, so pain.002.001.03 and later versions are read
alike; a document type declaration is refused (no entities, no external resources).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from uuid import UUID
from xml.parsers import expat

from disburse.bankfiles.amounts import fen_of, yuan
from disburse.bankfiles.returns import MAX_LINES, ReturnFile, ReturnLine
from disburse.bankfiles.tables import reference_of
from disburse.domain.batch import Outcome
from disburse.domain.text import TextError, TextKind, clean_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from disburse.application.payouts import Payee
    from disburse.bankfiles.template import BankTemplate
    from disburse.domain.batch import PaymentBatch

PAIN_001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
PAIN_002 = "urn:iso:std:iso:20022:tech:xsd:pain.002."
CURRENCY = "CNY"
#: Transaction statuses that are final: settled (paid) or rejected (failed).
PAID_STATUS = "ACSC"
FAILED_STATUS = "RJCT"


def _add(parent: ET.Element, path: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = parent
    *outer, last = path.split("/")
    for name in outer:
        node = ET.SubElement(node, name)
    node = ET.SubElement(node, last, attrs)
    if text is not None:
        node.text = text
    return node


def pain001(
    batch: PaymentBatch,
    payees: Sequence[Payee],
    template: BankTemplate,
    *,
    created: datetime,
    execution: date,
) -> bytes:
    """The batch as a pain.001.001.03 customer credit transfer initiation."""
    document = ET.Element("Document", xmlns=PAIN_001)  # names unqualified under it
    initiation = _add(document, "CstmrCdtTrfInitn")
    total = yuan(sum(p.amount_fen for p in payees))
    header = _add(initiation, "GrpHdr")
    _add(header, "MsgId", batch.id.hex)
    _add(header, "CreDtTm", created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    _add(header, "NbOfTxs", str(len(payees)))
    _add(header, "CtrlSum", total)
    _add(header, "InitgPty/Nm", template.debtor.name)
    info = _add(initiation, "PmtInf")
    _add(info, "PmtInfId", batch.id.hex)
    _add(info, "PmtMtd", "TRF")
    _add(info, "BtchBookg", "true")
    _add(info, "NbOfTxs", str(len(payees)))
    _add(info, "CtrlSum", total)
    _add(info, "ReqdExctnDt", execution.isoformat())
    _add(info, "Dbtr/Nm", template.debtor.name)
    _add(info, "DbtrAcct/Id/Othr/Id", template.debtor.account or batch.fund_id.hex)
    _add(info, "DbtrAgt/FinInstnId/Othr/Id", "NOTPROVIDED")
    _add(info, "ChrgBr", "SLEV")
    for payee in payees:
        transfer = _add(info, "CdtTrfTxInf")
        _add(transfer, "PmtId/EndToEndId", reference_of(payee.payout_id))
        _add(transfer, "Amt/InstdAmt", yuan(payee.amount_fen), Ccy=CURRENCY)
        _add(transfer, "Cdtr/Nm", payee.name)
        _add(transfer, "CdtrAcct/Id/Othr/Id", payee.account)
        _add(transfer, "RmtInf/Ustrd", template.purpose_of(payee.programme, payee.period))
    ET.indent(document)
    content: bytes = ET.tostring(document, encoding="utf-8", xml_declaration=True)
    return content


class _Node:
    """An element of a parsed message: local name, text, children, and its line."""

    __slots__ = ("children", "line", "name", "text")

    def __init__(self, name: str, line: int) -> None:
        self.name = name
        self.line = line
        self.text = ""
        self.children: list[_Node] = []

    def all(self, path: str) -> list[_Node]:
        """Descendants along a path of local names (``a/b``)."""
        found = [self]
        for name in path.split("/"):
            found = [c for node in found for c in node.children if c.name == name]
        return found

    def first(self, path: str) -> str | None:
        """The text of the first element on the path, stripped; None if there is none."""
        found = self.all(path)
        return found[0].text.strip() if found else None


def _parse(data: bytes) -> tuple[_Node, str]:
    """The root element and its namespace; ``ValueError`` if not a plain XML document."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise ValueError("a document type declaration is not accepted")
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Node] = []
    root: list[tuple[_Node, str]] = []

    def start(tag: str, _: object) -> None:
        namespace, _sep, name = tag.rpartition(" ")
        node = _Node(name, parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append((node, namespace))
        stack.append(node)

    def end(_: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)  # noqa: FBT003 - expat's isfinal flag
    except expat.ExpatError as error:
        raise ValueError(f"not well-formed XML: {error}") from None
    return root[0]


def read_pain002(data: bytes) -> ReturnFile:
    """A customer payment status report: each transaction's final status, the totals."""
    read = ReturnFile("pain.002")
    try:
        document, namespace = _parse(data)
    except ValueError as error:
        read.refuse(0, "BANKFILE-FORMAT", str(error))
        return read
    reports = document.all("CstmrPmtStsRpt")
    if not namespace.startswith(PAIN_002) or not reports:
        read.refuse(0, "BANKFILE-FORMAT", "not an ISO 20022 pain.002 payment status report")
        return read
    report = reports[0]
    group = report.all("OrgnlGrpInfAndSts")
    line = group[0].line if group else 0
    read.totals_line = line
    read.batch_reference = report.first("OrgnlGrpInfAndSts/OrgnlMsgId")
    count = report.first("OrgnlGrpInfAndSts/OrgnlNbOfTxs")
    total = report.first("OrgnlGrpInfAndSts/OrgnlCtrlSum")
    if count is None or total is None or not count.isdigit() or not count.isascii():
        read.refuse(line, "BANKFILE-TOTALS", "OrgnlNbOfTxs and OrgnlCtrlSum are required")
    else:
        read.count = int(count)
        try:
            read.total_fen = fen_of(total)
        except ValueError as error:
            read.refuse(line, "BANKFILE-AMOUNT", str(error), "OrgnlCtrlSum")
    transactions = report.all("OrgnlPmtInfAndSts/TxInfAndSts")
    if len(transactions) > MAX_LINES:
        read.refuse(0, "BANKFILE-SIZE", f"more than {MAX_LINES} transactions")
        return read
    for node in transactions:
        _transaction(read, node)
    return read


def _transaction(read: ReturnFile, node: _Node) -> None:  # noqa: C901 - one check per field
    before = len(read.problems)
    payout_id = outcome = amount = paid_on = None
    try:
        payout_id = UUID(node.first("OrgnlEndToEndId") or "")
    except ValueError:
        read.refuse(node.line, "BANKFILE-REFERENCE", "not a reference of ours", "OrgnlEndToEndId")
    status = node.first("TxSts") or ""
    if status == PAID_STATUS:
        outcome = Outcome.PAID
    elif status == FAILED_STATUS:
        outcome = Outcome.FAILED
    else:
        read.refuse(
            node.line, "BANKFILE-STATUS", f"{status[:8]!r} is not final (ACSC or RJCT)", "TxSts"
        )
    reasons = [
        " ".join(filter(None, (n.first("Rsn/Cd") or n.first("Rsn/Prtry"), n.first("AddtlInf"))))
        for n in node.all("StsRsnInf")
    ]
    stated = node.first("OrgnlTxRef/Amt/InstdAmt")
    if stated is not None:
        try:
            amount = fen_of(stated)
        except ValueError as error:
            read.refuse(node.line, "BANKFILE-AMOUNT", str(error), "InstdAmt")
    accepted = node.first("AccptncDtTm")
    if accepted:
        try:
            paid_on = date.fromisoformat(accepted[:10])
        except ValueError:
            read.refuse(node.line, "BANKFILE-DATE", "AccptncDtTm is no date", "AccptncDtTm")
    try:
        reason = clean_text("; ".join(r for r in reasons if r), kind=TextKind.REASON)
        reference = clean_text(node.first("AcctSvcrRef") or "", kind=TextKind.CODE)
    except TextError as error:
        read.refuse(node.line, error.rule_id, error.message)
        return
    if outcome is Outcome.FAILED and not reason:
        read.refuse(node.line, "BANKFILE-REASON", "a rejection states its reason", "StsRsnInf")
    if len(read.problems) > before or payout_id is None or outcome is None:
        return
    read.lines.append(
        ReturnLine(
            line=node.line,
            payout_id=payout_id,
            outcome=outcome,
            amount_fen=amount,
            bank_reference=reference,
            reason=reason,
            paid_on=paid_on if outcome is Outcome.PAID else None,
        )
    )
