"""Export a batch as a bank file (an audited event), and record a bank return file whole."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from disburse.application.payouts import BankResult
from disburse.bankfiles.iso20022 import pain001, read_pain002
from disburse.bankfiles.returns import LineProblem, ReturnFile, ReturnFileError
from disburse.bankfiles.tables import csv_bytes, payment_rows, read_table, xlsx_bytes
from disburse.bankfiles.template import DEFAULT_TEMPLATE, load_template
from disburse.domain.batch import EXPORT_FORMATS
from disburse.domain.errors import InvalidInputError, NotFoundError
from disburse.domain.money import yuan

if TYPE_CHECKING:
    from disburse.access.context import Context
    from disburse.application.payouts import Payee, Payouts
    from disburse.domain.batch import PaymentBatch

#: Return file formats, as ``--format`` and ``?format=`` name them.
RETURN_FORMATS = ("csv", "xlsx", "pain.002")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pain.001": "application/xml",
}
_SUFFIX = {"csv": "csv", "xlsx": "xlsx", "pain.001": "xml"}


@dataclass(frozen=True)
class BankFile:
    """A payment file as sent: its bytes, name, format, template and SHA-256."""

    content: bytes
    file_name: str
    file_format: str
    template: str
    sha256: str

    encoding: str = "utf-8"

    @property
    def media_type(self) -> str:
        """The HTTP content type of the file (a CSV's in its template's encoding)."""
        if self.file_format == "csv":
            return f"text/csv; charset={self.encoding}"
        return MEDIA_TYPES[self.file_format]


def export_batch(
    payouts: Payouts,
    ctx: Context,
    batch_id: UUID,
    *,
    file_format: str,
    template: str = DEFAULT_TEMPLATE,
    reason: str | None = None,
) -> BankFile:
    """Render the batch's payment file and record the export (``PaymentBatch.Exported``)."""
    if file_format not in EXPORT_FORMATS:
        raise InvalidInputError(
            "BANKFILE-FORMAT", f"export formats: {', '.join(EXPORT_FORMATS)}", "format"
        )
    layout = load_template(template)
    batch, payees = payouts.payees(batch_id)
    if file_format == "pain.001":
        now = datetime.now(UTC)
        content = pain001(batch, payees, layout, created=now, execution=now.date())
    else:
        rows = payment_rows(layout, payees)
        content = csv_bytes(layout, rows) if file_format == "csv" else xlsx_bytes(layout, rows)
    sha256 = hashlib.sha256(content).hexdigest()
    payouts.record_export(
        ctx, batch_id, file_format=file_format, template=layout.name, sha256=sha256, reason=reason
    )
    name = f"batch-{batch_id.hex[:12]}-{layout.name}.{_SUFFIX[file_format]}"
    encoding = "utf-8" if layout.encoding.startswith("utf-8") else layout.encoding
    return BankFile(content, name, file_format, layout.name, sha256, encoding)


def format_of(data: bytes, file_name: str = "", asked: str | None = None) -> str:
    """The return file's format: as asked, else by its bytes (XML, XLSX) or CSV."""
    if asked is not None:
        if asked not in RETURN_FORMATS:
            raise InvalidInputError(
                "BANKFILE-FORMAT", f"return formats: {', '.join(RETURN_FORMATS)}", "format"
            )
        return asked
    if data.startswith(b"PK\x03\x04") or file_name.lower().endswith(".xlsx"):
        return "xlsx"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "pain.002"
    return "csv"


def read_return_file(
    data: bytes,
    *,
    file_name: str = "",
    file_format: str | None = None,
    template: str = DEFAULT_TEMPLATE,
) -> ReturnFile:
    """Every line of a return file and its stated totals, with the problems met reading it."""
    kind = format_of(data, file_name, file_format)
    if kind == "pain.002":
        return read_pain002(data)
    return read_table(data, load_template(template), file_format=kind)


def batch_of(payouts: Payouts, read: ReturnFile, batch_id: UUID | None) -> UUID:
    """The batch the file answers: as named, else the batch of its first line's payout."""
    if batch_id is not None:
        return batch_id
    if read.batch_reference:
        try:
            return UUID(read.batch_reference)
        except ValueError:
            pass
    for line in read.lines:
        try:
            found = payouts.get(line.payout_id).batch_id
        except NotFoundError:
            continue
        if found is not None:
            return found
    problems = read.problems or [LineProblem(0, "BANKFILE-BATCH", "name the batch: none found")]
    raise ReturnFileError(problems)


def check_against(read: ReturnFile, batch: PaymentBatch, payees: list[Payee]) -> list[LineProblem]:
    """Every problem of the file, the reading's and those found against the batch."""
    problems = list(read.problems)
    if read.batch_reference and read.batch_reference not in (batch.id.hex, str(batch.id)):
        problems.append(
            LineProblem(read.totals_line, "BANKFILE-BATCH", "the file answers another batch")
        )
    if read.count is None or read.total_fen is None:
        if not any(p.rule_id == "BANKFILE-TOTALS" for p in problems):
            problems.append(LineProblem(0, "BANKFILE-TOTALS", "the file has no control totals"))
    elif (read.count, read.total_fen) != (batch.count, batch.total_fen):
        problems.append(
            LineProblem(
                read.totals_line,
                "BATCH-TOTALS",
                f"the batch has {batch.count} payouts totalling {yuan(batch.total_fen)} yuan; "
                f"the file states {read.count} totalling {yuan(read.total_fen)} yuan",
            )
        )
    by_id = {p.payout_id: p for p in payees}
    seen: set[UUID] = set()
    for line in read.lines:
        payee = by_id.get(line.payout_id)
        if payee is None:
            problems.append(
                LineProblem(line.line, "BATCH-UNKNOWN-PAYOUT", "this line is not in the batch")
            )
        elif line.payout_id in seen or str(line.payout_id) in batch.results:
            problems.append(
                LineProblem(line.line, "BATCH-DUP-RESULT", "this payout already has a result")
            )
        elif line.amount_fen is not None and line.amount_fen != payee.amount_fen:
            problems.append(
                LineProblem(
                    line.line,
                    "BANKFILE-MISMATCH",
                    f"amount {yuan(line.amount_fen)}; the batch sent {yuan(payee.amount_fen)}",
                )
            )
        elif line.account and line.account != payee.account:
            problems.append(
                LineProblem(line.line, "BANKFILE-MISMATCH", "the account is not the one sent")
            )
        seen.add(line.payout_id)
    return sorted(problems, key=lambda p: p.line)


def record_return_file(
    payouts: Payouts,
    ctx: Context,
    read: ReturnFile,
    *,
    batch_id: UUID | None = None,
) -> PaymentBatch:
    """Record a read return file whole, or refuse it whole listing every problem."""
    batch, payees = payouts.payees(batch_of(payouts, read, batch_id), names=False)
    problems = check_against(read, batch, payees)
    if problems:
        raise ReturnFileError(problems)
    assert read.count is not None  # noqa: S101 - checked above
    assert read.total_fen is not None  # noqa: S101 - idem
    return payouts.record_results(
        ctx,
        batch.id,
        results=[
            BankResult(
                payout_id=line.payout_id,
                outcome=line.outcome,
                bank_reference=line.bank_reference,
                reason=line.reason,
                paid_on=line.paid_on,
            )
            for line in read.lines
        ],
        control_count=read.count,
        control_total_fen=read.total_fen,
    )
