"""Payment batches: approved payouts of one fund sent to the bank, and the bank's results."""

from __future__ import annotations

import re
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from disburse.domain.meta import Meta
from disburse.domain.money import yuan


class Outcome(StrEnum):
    """What the bank says about one payout."""

    PAID = "paid"
    FAILED = "failed"
    REVERSED = "reversed"


#: A SHA-256 digest as lowercase hex: what an export event records of the file.
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: Bank file formats a batch can be exported in.
EXPORT_FORMATS = ("csv", "xlsx", "pain.001")


class PaymentBatch(Aggregate):
    """Payouts of one fund released together, with control totals (count, sum)."""

    @event("Released")
    def __init__(
        self, *, fund_id: UUID, lines: dict[str, int], count: int, total_fen: int, meta: Meta
    ) -> None:
        self.fund_id = fund_id
        self.lines = lines  # payout id -> amount in fen
        self.count = count
        self.total_fen = total_fen
        self.results: dict[str, str] = {}  # payout id -> last outcome

    @classmethod
    def release(cls, *, fund_id: UUID, lines: dict[UUID, int], meta: Meta) -> PaymentBatch:
        """A batch of at least one payout; control totals are computed from the lines."""
        meta.require_finance("release payment batches")
        if not lines:
            raise InvalidInputError(
                "BATCH-EMPTY", "a batch needs at least one payout", "payout_ids"
            )
        return cls(
            fund_id=fund_id,
            lines={str(k): v for k, v in lines.items()},
            count=len(lines),
            total_fen=sum(lines.values()),
            meta=meta,
        )

    def check_totals(self, *, count: int, total_fen: int) -> None:
        """The bank's file must state the batch's control totals (BATCH-TOTALS)."""
        if (count, total_fen) != (self.count, self.total_fen):
            raise RuleViolationError(
                "BATCH-TOTALS",
                f"the batch has {self.count} payouts totalling {yuan(self.total_fen)} yuan; "
                f"the result file states {count} totalling {yuan(total_fen)} yuan",
                "control_total_fen",
            )

    def record_result(self, *, payout_id: UUID, outcome: Outcome, detail: str, meta: Meta) -> None:
        """One bank result. Unknown payouts and second results are refused, except reversals."""
        meta.require_finance("record bank results")
        key = str(payout_id)
        if key not in self.lines:
            raise RuleViolationError(
                "BATCH-UNKNOWN-PAYOUT", f"payout {payout_id} is not in this batch", "payout_id"
            )
        previous = self.results.get(key)
        if outcome is Outcome.REVERSED:
            if previous != Outcome.PAID:
                raise ConflictError(
                    "BATCH-REVERSAL", "only a payment reported paid can be reversed", "outcome"
                )
        elif previous is not None:
            raise ConflictError(
                "BATCH-DUP-RESULT",
                f"payout {payout_id} already has the result {previous!s}; send a documented "
                "reversal to change it",
                "payout_id",
            )
        self._result_recorded(
            payout_id=payout_id, outcome=Outcome(outcome), detail=detail, meta=meta
        )

    @event("ResultRecorded")
    def _result_recorded(
        self, *, payout_id: UUID, outcome: Outcome, detail: str, meta: Meta
    ) -> None:
        self.results[str(payout_id)] = Outcome(outcome).value

    def record_export(self, *, file_format: str, template: str, sha256: str, meta: Meta) -> None:
        """The batch went out as a bank file: which format, template and exact bytes (digest).

        Recorded for every export, so an inspector can match the file the bank received
        with the ledger (its SHA-256) and say who produced it, when and why.
        """
        meta.require_finance("export payment files")
        if file_format not in EXPORT_FORMATS:
            raise InvalidInputError(
                "BANKFILE-FORMAT", f"no bank file format {file_format!r}", "format"
            )
        if not _SHA256.fullmatch(sha256):
            raise InvalidInputError("BANKFILE-DIGEST", "a SHA-256 digest in hex", "sha256")
        self._exported(file_format=file_format, template=template, sha256=sha256, meta=meta)

    @event("Exported")
    def _exported(self, *, file_format: str, template: str, sha256: str, meta: Meta) -> None:
        """Nothing of the batch changes: the event is the record of what was sent."""

    @property
    def settled_fen(self) -> int:
        """Sum of the payouts with a final result (paid or failed)."""
        return sum(self.lines[k] for k in self.results)

    @property
    def is_reconciled(self) -> bool:
        """Every payout has a result, and results cover the control total."""
        return len(self.results) == self.count and self.settled_fen == self.total_fen
