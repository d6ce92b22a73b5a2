"""The payout queue: every payout with its status, evidence and explanation, and every batch.

One row per payout mirrors the aggregate's transitions event by event (status, version,
approvers, batch, failure, recovery). The evidence of a payout's source (a grant's
evidence reference, an application's documents, a post's attendance for the month) is
kept apart, keyed by source and period, and joined when the queue is read: within one
save the payout's ``Requested`` event may come before or after its source's event.
Payment batches keep their lines and the bank's last result for each line.

A batch of events is applied set-based (:mod:`disburse.readside.batch`): the payouts,
payment batches and lines it touches are read in one query per table when it begins,
changed in memory event by event, and written when it ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from disburse.domain.batch import Outcome
from disburse.domain.payout import PayoutKind, PayoutStatus
from disburse.readside.base import Position, View, dumps, event_type, handles
from disburse.readside.batch import Rows, Table, columns

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from disburse.readside.db import Row, Tx

_PAYOUT_COLUMNS = (
    "payout_id TEXT PRIMARY KEY, kind TEXT NOT NULL, programme TEXT NOT NULL,"
    " source_id TEXT NOT NULL, period TEXT NOT NULL, beneficiary_id TEXT NOT NULL,"
    " fund_id TEXT NOT NULL, region_code TEXT NOT NULL, amount_fen BIGINT NOT NULL,"
    " status TEXT NOT NULL, version BIGINT NOT NULL, requested_at TEXT NOT NULL,"
    " requested_position BIGINT NOT NULL, requested_by TEXT NOT NULL,"
    " updated_at TEXT NOT NULL, notice_ends_on TEXT, open_objections INTEGER NOT NULL,"
    " approvers TEXT NOT NULL, batch_id TEXT, failure TEXT, explanation TEXT NOT NULL,"
    " recovery_ordered_fen BIGINT NOT NULL, recovered_fen BIGINT NOT NULL"
)
_EVIDENCE_COLUMNS = (
    "source_id TEXT NOT NULL, period TEXT NOT NULL, kind TEXT NOT NULL, evidence_ref TEXT,"
    " external_claim_id TEXT, documents TEXT, days_worked INTEGER, days_required INTEGER,"
    " recorded_at TEXT NOT NULL, PRIMARY KEY (source_id, period)"
)
_EVIDENCE_FIELDS = (
    "evidence_ref",
    "external_claim_id",
    "documents",
    "days_worked",
    "days_required",
)
_BATCH_COLUMNS = (
    "batch_id TEXT PRIMARY KEY, fund_id TEXT NOT NULL, count INTEGER NOT NULL,"
    " total_fen BIGINT NOT NULL, released_at TEXT NOT NULL, released_by TEXT NOT NULL,"
    " released_position BIGINT NOT NULL, version BIGINT NOT NULL, updated_at TEXT NOT NULL,"
    " results INTEGER NOT NULL, paid_count INTEGER NOT NULL, paid_fen BIGINT NOT NULL,"
    " failed_count INTEGER NOT NULL, failed_fen BIGINT NOT NULL,"
    " reversed_count INTEGER NOT NULL, reversed_fen BIGINT NOT NULL"
)
_LINE_COLUMNS = (
    "batch_id TEXT NOT NULL, payout_id TEXT NOT NULL, amount_fen BIGINT NOT NULL,"
    " outcome TEXT, detail TEXT, PRIMARY KEY (batch_id, payout_id)"
)


def _objection_resolved(event: Any, row: Row) -> dict[str, object]:
    still_open = max(int(row["open_objections"]) - 1, 0)
    if event.upheld:
        return {"status": PayoutStatus.REJECTED, "open_objections": still_open}
    status = PayoutStatus.ON_NOTICE if still_open == 0 else PayoutStatus(row["status"])
    return {"status": status, "open_objections": still_open}


def _recovered(event: Any, row: Row) -> dict[str, object]:
    recovered = int(row["recovered_fen"]) + event.amount_fen
    settled = recovered == int(row["recovery_ordered_fen"])
    status = PayoutStatus.RECOVERED if settled else PayoutStatus(row["status"])
    return {"status": status, "recovered_fen": recovered}


#: How each payout event after ``Requested`` changes its row, as the aggregate changes
#: itself (the view also sets the version and the update time). Keys are column names.
_TRANSITIONS: dict[str, Callable[[Any, Row], dict[str, object]]] = {
    "Payout.NoticeStarted": lambda e, _row: {
        "status": PayoutStatus.ON_NOTICE,
        "notice_ends_on": e.ends_on.isoformat(),
    },
    "Payout.ObjectionLodged": lambda _e, row: {
        "status": PayoutStatus.HELD,
        "open_objections": int(row["open_objections"]) + 1,
    },
    "Payout.ObjectionResolved": _objection_resolved,
    "Payout.Approved": lambda e, row: {
        "status": PayoutStatus.APPROVED if e.final else PayoutStatus.FIRST_APPROVED,
        "approvers": dumps([*json.loads(row["approvers"]), e.meta.actor_id]),
    },
    "Payout.Rejected": lambda _e, _row: {"status": PayoutStatus.REJECTED},
    "Payout.Batched": lambda e, _row: {"status": PayoutStatus.BATCHED, "batch_id": str(e.batch_id)},
    "Payout.Paid": lambda _e, _row: {"status": PayoutStatus.PAID},
    "Payout.Failed": lambda e, _row: {"status": PayoutStatus.FAILED, "failure": e.failure},
    "Payout.PaymentReversed": lambda e, _row: {
        "status": PayoutStatus.FAILED,
        "failure": f"reversed by the bank ({e.bank_reference})",
    },
    "Payout.Reissued": lambda _e, _row: {"status": PayoutStatus.APPROVED, "batch_id": None},
    "Payout.Cancelled": lambda _e, _row: {"status": PayoutStatus.CANCELLED},
    "Payout.RecoveryOrdered": lambda e, row: {
        "status": PayoutStatus.RECOVERY_ORDERED,
        "recovery_ordered_fen": int(row["recovery_ordered_fen"]) + e.amount_fen,
    },
    "Payout.Recovered": _recovered,
}


_PAYOUTS = Table("queue_payouts", ("payout_id",), columns(_PAYOUT_COLUMNS))
_BATCHES = Table("queue_batches", ("batch_id",), columns(_BATCH_COLUMNS))
_LINES = Table("queue_batch_lines", ("batch_id", "payout_id"), columns(_LINE_COLUMNS))
_UPSERT_EVIDENCE = (
    "INSERT INTO queue_evidence (source_id, period, kind, evidence_ref,"
    " external_claim_id, documents, days_worked, days_required, recorded_at)"
    " VALUES (:source_id, :period, :kind, :evidence_ref, :external_claim_id,"
    " :documents, :days_worked, :days_required, :recorded_at)"
    " ON CONFLICT (source_id, period) DO UPDATE SET kind = excluded.kind,"
    " evidence_ref = excluded.evidence_ref,"
    " external_claim_id = excluded.external_claim_id, documents = excluded.documents,"
    " days_worked = excluded.days_worked, days_required = excluded.days_required,"
    " recorded_at = excluded.recorded_at"
)


@dataclass
class _Batch:
    """What the queue keeps while it applies one batch of events."""

    payouts: Rows = field(default_factory=lambda: Rows(_PAYOUTS))
    batches: Rows = field(default_factory=lambda: Rows(_BATCHES))
    lines: Rows = field(default_factory=lambda: Rows(_LINES))
    evidence: list[dict[str, object]] = field(default_factory=list)


class PayoutQueueView(View):
    """Payouts awaiting (or past) a decision, their sources' evidence, and payment batches."""

    name = "queue"
    tables = ("queue_payouts", "queue_evidence", "queue_batches", "queue_batch_lines")
    pipelined = False  # a batch is written at its end, by COPY on PostgreSQL
    schema: ClassVar[tuple[str, ...]] = (
        f"CREATE TABLE IF NOT EXISTS queue_payouts ({_PAYOUT_COLUMNS})",
        f"CREATE TABLE IF NOT EXISTS queue_evidence ({_EVIDENCE_COLUMNS})",
        f"CREATE TABLE IF NOT EXISTS queue_batches ({_BATCH_COLUMNS})",
        f"CREATE TABLE IF NOT EXISTS queue_batch_lines ({_LINE_COLUMNS})",
        (
            "CREATE INDEX IF NOT EXISTS queue_payouts_status"
            " ON queue_payouts (status, requested_position)"
        ),
        "CREATE INDEX IF NOT EXISTS queue_payouts_fund ON queue_payouts (fund_id)",
        "CREATE INDEX IF NOT EXISTS queue_payouts_region ON queue_payouts (region_code)",
        "CREATE INDEX IF NOT EXISTS queue_payouts_programme ON queue_payouts (programme)",
        (
            "CREATE INDEX IF NOT EXISTS queue_batches_fund"
            " ON queue_batches (fund_id, released_position)"
        ),
    )

    def begin(self, tx: Tx, batch: Sequence[tuple[Any, Position]]) -> None:
        """Read the payouts, payment batches and lines the batch's events change."""
        state = _Batch()
        payouts, results = [], []
        for event, _ in batch:
            name = event_type(event)
            if name in _TRANSITIONS:
                payouts.append(str(event.originator_id))
            elif name == "PaymentBatch.ResultRecorded":
                results.append(str(event.originator_id))
        state.payouts.load(tx, "payout_id", payouts)
        state.batches.load(tx, "batch_id", results)
        state.lines.load(tx, "batch_id", results)
        tx.memo[self.name] = state

    def flush(self, tx: Tx) -> None:
        """Write the batch's payouts, evidence, payment batches and lines."""
        state = self._batch(tx)
        state.payouts.flush(tx)
        tx.write_many(_UPSERT_EVIDENCE, state.evidence)
        state.batches.flush(tx)
        state.lines.flush(tx)
        del tx.memo[self.name]

    def _batch(self, tx: Tx) -> _Batch:
        state: _Batch = tx.memo[self.name]
        return state

    # -- payouts ----------------------------------------------------------------------------

    @handles("Payout.Requested")
    def _requested(self, tx: Tx, event: Any, where: Position) -> None:
        self._batch(tx).payouts.insert(
            {
                "payout_id": str(event.originator_id),
                "kind": PayoutKind(event.kind).value,
                "programme": event.programme,
                "source_id": str(event.source_id),
                "period": event.period,
                "beneficiary_id": str(event.beneficiary_id),
                "fund_id": str(event.fund_id),
                "region_code": event.region_code,
                "amount_fen": event.amount_fen,
                "status": PayoutStatus.REQUESTED.value,
                "version": event.originator_version,
                "requested_at": where.at,
                "requested_position": where.position,
                "requested_by": event.meta.actor_id,
                "updated_at": where.at,
                "notice_ends_on": None,
                "open_objections": 0,
                "approvers": "[]",
                "batch_id": None,
                "failure": None,
                "explanation": dumps(event.explanation),
                "recovery_ordered_fen": 0,
                "recovered_fen": 0,
            }
        )

    @handles(*_TRANSITIONS)
    def _transition(self, tx: Tx, event: Any, where: Position) -> None:
        payouts = self._batch(tx).payouts
        payout_id = str(event.originator_id)
        row = payouts.get(tx, payout_id)
        if row is None:  # pragma: no cover - a payout is requested before anything else
            return
        fields = _TRANSITIONS[event_type(event)](event, row)
        values = {k: v.value if isinstance(v, PayoutStatus) else v for k, v in fields.items()}
        payouts.update(
            tx, payout_id, version=event.originator_version, updated_at=where.at, **values
        )

    # -- evidence ---------------------------------------------------------------------------

    @handles("TransportGrant.Claimed")
    def _grant_claimed(self, tx: Tx, event: Any, where: Position) -> None:
        self._evidence(
            tx,
            where,
            source_id=str(event.originator_id),
            period=event.period,
            kind=PayoutKind.GRANT.value,
            evidence_ref=event.evidence_ref,
            external_claim_id=event.external_claim_id,
        )

    @handles("SubsidyApplication.Submitted")
    def _application_submitted(self, tx: Tx, event: Any, where: Position) -> None:
        self._evidence(
            tx,
            where,
            source_id=str(event.originator_id),
            period=str(event.period_start.year),  # as SubsidyApplication.period
            kind=PayoutKind.APPLICATION.value,
            external_claim_id=event.external_claim_id,
            documents=dumps(list(event.evidence)),
        )

    @handles("Post.AttendanceRecorded")
    def _attendance_recorded(self, tx: Tx, event: Any, where: Position) -> None:
        self._evidence(
            tx,
            where,
            source_id=str(event.originator_id),
            period=str(event.month),
            kind=PayoutKind.STIPEND.value,
            days_worked=event.days_worked,
            days_required=event.days_required,
        )

    def _evidence(self, tx: Tx, where: Position, **values: object) -> None:
        """Upserted at the end of the batch, in the order recorded (the last one wins)."""
        row = dict.fromkeys(_EVIDENCE_FIELDS) | {"recorded_at": where.at} | values
        self._batch(tx).evidence.append(row)

    # -- payment batches --------------------------------------------------------------------

    @handles("PaymentBatch.Released")
    def _batch_released(self, tx: Tx, event: Any, where: Position) -> None:
        state = self._batch(tx)
        batch_id = str(event.originator_id)
        state.batches.insert(
            {
                "batch_id": batch_id,
                "fund_id": str(event.fund_id),
                "count": event.count,
                "total_fen": event.total_fen,
                "released_at": where.at,
                "released_by": event.meta.actor_id,
                "released_position": where.position,
                "version": event.originator_version,
                "updated_at": where.at,
                "results": 0,
            }
            | dict.fromkeys(_COUNTS, 0)
        )
        for payout_id, amount_fen in sorted(event.lines.items()):
            state.lines.insert(
                {
                    "batch_id": batch_id,
                    "payout_id": str(payout_id),
                    "amount_fen": amount_fen,
                    "outcome": None,
                    "detail": None,
                }
            )

    @handles("PaymentBatch.ResultRecorded")
    def _result_recorded(self, tx: Tx, event: Any, where: Position) -> None:
        """The line's last result, and the batch's counts and sums by each line's last result."""
        state = self._batch(tx)
        batch_id, payout_id = str(event.originator_id), str(event.payout_id)
        outcome = Outcome(event.outcome).value
        batch = state.batches.get(tx, batch_id)
        line = state.lines.get(tx, batch_id, payout_id)
        counts: dict[str, object] = {}
        if line is not None:
            if batch is not None:
                counts = _recount(batch, line, outcome)
            state.lines.update(tx, batch_id, payout_id, outcome=outcome, detail=event.detail)
        if batch is not None:
            state.batches.update(
                tx, batch_id, version=event.originator_version, updated_at=where.at, **counts
            )


#: A batch's counts and sums per outcome, as columns.
_COUNTS = tuple(f"{o.value}_{what}" for o in Outcome for what in ("count", "fen"))


def _recount(batch: Row, line: Row, outcome: str) -> dict[str, object]:
    """A batch's results, counts and sums once ``line``'s last result is ``outcome``."""
    amount = int(line["amount_fen"])
    counts = {column: int(batch[column]) for column in (*_COUNTS, "results")}
    was = line["outcome"]
    if was is not None:
        counts[f"{was}_count"] -= 1
        counts[f"{was}_fen"] -= amount
        counts["results"] -= 1
    counts[f"{outcome}_count"] += 1
    counts[f"{outcome}_fen"] += amount
    counts["results"] += 1
    return dict(counts)
