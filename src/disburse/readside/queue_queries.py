"""Questions asked of the payout queue: what awaits a decision, one payout, the batches.

Over 400 lines on purpose: the queue's row types, its filters and its keyset pages (both
ways) belong together; the API and the console read the same pages from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, Unpack
from uuid import UUID

from disburse.domain.batch import Outcome
from disburse.domain.errors import InvalidInputError
from disburse.domain.payout import PayoutKind, PayoutStatus
from disburse.domain.regions import region_scope
from disburse.readside.listing import region_clause

if TYPE_CHECKING:
    from disburse.readside.db import Row, ViewDB

RULE = "QUEUE-FILTER"
MAX_LIMIT = 1000

#: What awaits a decision: not yet approved (or approved once of two), not yet rejected.
AWAITING_DECISION = (
    PayoutStatus.REQUESTED,
    PayoutStatus.ON_NOTICE,
    PayoutStatus.HELD,
    PayoutStatus.FIRST_APPROVED,
)


@dataclass(frozen=True)
class Evidence:
    """What the payout's source rests on.

    A grant: ``evidence_ref`` (and ``external_claim_id``). An application: ``documents``
    (and ``external_claim_id``). A stipend: the post's attendance for the month,
    ``days_worked`` of ``days_required``.
    """

    kind: PayoutKind
    recorded_at: datetime
    evidence_ref: str | None = None
    external_claim_id: str | None = None
    documents: tuple[str, ...] = ()
    days_worked: int | None = None
    days_required: int | None = None


@dataclass(frozen=True)
class QueuedPayout:
    """One payout as the queue shows it; ``version`` is the aggregate's (an ETag)."""

    payout_id: str
    kind: PayoutKind
    programme: str
    source_id: str
    period: str
    beneficiary_id: str
    fund_id: str
    region_code: str
    amount_fen: int
    status: PayoutStatus
    version: int
    requested_at: datetime
    requested_position: int
    requested_by: str
    updated_at: datetime
    notice_ends_on: date | None
    open_objections: int
    approvers: tuple[str, ...]
    batch_id: str | None
    failure: str | None
    explanation: dict[str, Any]
    recovery_ordered_fen: int
    recovered_fen: int
    evidence: Evidence | None

    @property
    def outstanding_recovery_fen(self) -> int:
        """Ordered but not yet recovered."""
        return self.recovery_ordered_fen - self.recovered_fen

    def age_days(self, today: date) -> int:
        """Whole days since the request (by the UTC date it was recorded)."""
        return (today - self.requested_at.date()).days


@dataclass(frozen=True)
class QueuedBatch:
    """A payment batch with its control totals and the bank's results so far.

    Counts and sums are by each line's last result: a payment reversed after it was
    reported paid counts as reversed, not as paid.
    """

    batch_id: str
    fund_id: str
    count: int
    total_fen: int
    released_at: datetime
    released_by: str
    version: int
    updated_at: datetime
    results: int
    paid_count: int
    paid_fen: int
    failed_count: int
    failed_fen: int
    reversed_count: int
    reversed_fen: int

    @property
    def complete(self) -> bool:
        """Every line of the batch has a result."""
        return self.results == self.count


@dataclass(frozen=True)
class BatchLine:
    """One payout of a batch and the bank's last result for it (None: none yet)."""

    payout_id: str
    amount_fen: int
    outcome: Outcome | None
    detail: str | None


@dataclass(frozen=True)
class BatchDetail(QueuedBatch):
    """A batch with its lines."""

    lines: tuple[BatchLine, ...]


_SELECT_PAYOUTS = (
    "SELECT p.*, e.kind AS e_kind, e.recorded_at AS e_recorded_at,"
    " e.evidence_ref AS e_evidence_ref, e.external_claim_id AS e_external_claim_id,"
    " e.documents AS e_documents, e.days_worked AS e_days_worked,"
    " e.days_required AS e_days_required"
    " FROM queue_payouts p LEFT JOIN queue_evidence e"
    " ON e.source_id = p.source_id AND e.period = p.period"
)


class QueueFilters(TypedDict, total=False):
    """Which payouts :meth:`QueueQueries.pending` and ``pending_count`` select."""

    status: PayoutStatus | str | None
    fund_id: UUID | str | None
    region: str | None
    programme: str | None
    period: str | None
    older_than_days: int | None
    today: date | None


class QueueQueries:
    """Reads of the payout queue view."""

    def __init__(self, db: ViewDB) -> None:
        self.db = db

    def pending(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        after: int | None = None,
        newest_first: bool = False,
        **filters: Unpack[QueueFilters],
    ) -> list[QueuedPayout]:
        """Payouts oldest first (by position in the log), with their evidence.

        ``after``: keyset paging, only payouts requested after that log position (the
        ``requested_position`` of the last row of the page before); it costs the same on
        the thousandth page as on the first, unlike ``offset``.

        By default those awaiting a decision (:data:`AWAITING_DECISION`); ``status`` names
        any one status instead (``approved``: awaiting a batch). ``region`` is a 2/4/6-digit
        prefix, or a 6-digit code ending in 00/0000 for its city or province.
        ``older_than_days`` keeps payouts requested more than that many days before
        ``today`` (required with it). ``InvalidInputError`` (QUEUE-FILTER, REGION-CODE)
        for a filter that makes no sense. ``newest_first``: the other way round (``after``
        then keeps the payouts requested before that position).
        """
        rows = self.pending_rows(
            limit=limit, offset=offset, after=after, newest_first=newest_first, **filters
        )
        return [_payout(row) for row in rows]

    def pending_rows(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        after: int | None = None,
        newest_first: bool = False,
        **filters: Unpack[QueueFilters],
    ) -> list[Row]:
        """What :meth:`pending` reads, as rows (evidence ``e_*``; stored JSON still text)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInputError(RULE, f"limit is 1 to {MAX_LIMIT}", "limit")
        if offset < 0:
            raise InvalidInputError(RULE, "offset is not negative", "offset")
        where, params = _filters(**filters)
        if after is not None:
            where += f" AND p.requested_position {'<' if newest_first else '>'} :after"
            params["after"] = after
        order = "p.requested_position DESC" if newest_first else "p.requested_position"
        with self.db.read() as tx:
            return tx.all(
                f"{_SELECT_PAYOUTS} WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset",
                params | {"limit": limit, "offset": offset},
            )

    def pending_count(
        self,
        **filters: Unpack[QueueFilters],
    ) -> int:
        """How many payouts :meth:`pending` would list without a limit."""
        where, params = _filters(**filters)
        with self.db.read() as tx:
            row = tx.one(f"SELECT COUNT(*) AS n FROM queue_payouts p WHERE {where}", params)
        return 0 if row is None else int(row["n"])

    def awaiting_notice(self, *, region: str, period: str) -> list[UUID]:
        """Ids of the payouts of ``period`` in ``region`` still ``requested``, oldest first.

        What a public notice lists (``Notices.issue`` decides each from its events).
        """
        found: list[UUID] = []
        after: int | None = None
        while True:
            rows = self.pending(
                limit=MAX_LIMIT,
                after=after,
                status=PayoutStatus.REQUESTED,
                region=region,
                period=period,
            )
            found += [UUID(row.payout_id) for row in rows]
            if len(rows) < MAX_LIMIT:
                return found
            after = rows[-1].requested_position

    def payout(self, payout_id: UUID | str) -> QueuedPayout | None:
        """One payout with its evidence, or None if the view has no such payout."""
        with self.db.read() as tx:
            row = tx.one(f"{_SELECT_PAYOUTS} WHERE p.payout_id = :id", {"id": str(payout_id)})
        return None if row is None else _payout(row)

    def payout_ids(
        self,
        *,
        region: str = "",
        up_to_position: int | None = None,
        after: str = "",
        limit: int = MAX_LIMIT,
    ) -> list[str]:
        """Ids of every payout (any status) in ``region``, ascending, ``limit`` after ``after``.

        The ids are compared byte by byte (as Python compares them) on both backends, so
        pages follow one another and their order is the order of ``sorted()``. With
        ``up_to_position``, only payouts requested at or before that log position: a set
        that stays the same however many payouts are requested later. For the next page,
        pass the last id as ``after``. ``region`` is a prefix as in :meth:`pending`.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInputError(RULE, f"limit is 1 to {MAX_LIMIT}", "limit")
        key = 'payout_id COLLATE "C"' if self.db.dialect == "postgres" else "payout_id"
        upto = "" if up_to_position is None else " AND requested_position <= :upto"
        with self.db.read() as tx:
            rows = tx.all(
                f"SELECT payout_id FROM queue_payouts WHERE region_code LIKE :scope"
                f" AND {key} > :after{upto} ORDER BY {key} LIMIT :limit",
                {
                    "scope": region_scope(region) + "%",
                    "after": after,
                    "upto": up_to_position,
                    "limit": limit,
                },
            )
        return [str(row["payout_id"]) for row in rows]

    def batches(self, fund_id: UUID | str | None = None) -> list[QueuedBatch]:
        """Payment batches (of one fund), in the order they were released."""
        where = "" if fund_id is None else " WHERE fund_id = :fund"
        with self.db.read() as tx:
            rows = tx.all(
                f"SELECT * FROM queue_batches{where} ORDER BY released_position",
                {"fund": None if fund_id is None else str(fund_id)},
            )
        return [QueuedBatch(**_batch_fields(row)) for row in rows]

    def batch(self, batch_id: UUID | str) -> BatchDetail | None:
        """One batch with its lines, or None if the view has no such batch."""
        with self.db.read() as tx:
            row = tx.one("SELECT * FROM queue_batches WHERE batch_id = :id", {"id": str(batch_id)})
            lines = tx.all(
                "SELECT * FROM queue_batch_lines WHERE batch_id = :id ORDER BY payout_id",
                {"id": str(batch_id)},
            )
        if row is None:
            return None
        return BatchDetail(
            **_batch_fields(row),
            lines=tuple(
                BatchLine(
                    payout_id=line["payout_id"],
                    amount_fen=int(line["amount_fen"]),
                    outcome=None if line["outcome"] is None else Outcome(line["outcome"]),
                    detail=line["detail"],
                )
                for line in lines
            ),
        )


def _filters(**filters: Unpack[QueueFilters]) -> tuple[str, dict[str, object]]:
    """A WHERE clause of fixed text (values are bound, never formatted in) and its values."""
    status = filters.get("status")
    fund_id = filters.get("fund_id")
    region = filters.get("region")
    programme = filters.get("programme")
    period = filters.get("period")
    older_than_days = filters.get("older_than_days")
    today = filters.get("today")
    statuses: tuple[PayoutStatus, ...] = AWAITING_DECISION
    if status is not None:
        try:
            statuses = (PayoutStatus(status),)
        except ValueError:
            known = ", ".join(s.value for s in PayoutStatus)
            raise InvalidInputError(
                RULE, f"{status!r} is not a status ({known})", "status"
            ) from None
    names = [f"s{i}" for i in range(len(statuses))]
    clauses = [f"p.status IN ({', '.join(f':{n}' for n in names)})"]
    params: dict[str, object] = {n: s.value for n, s in zip(names, statuses, strict=True)}
    if fund_id is not None:
        clauses.append("p.fund_id = :fund")
        params["fund"] = str(fund_id)
    clause, values = region_clause("p.region_code", region)
    if clause:
        clauses.append(clause)
        params.update(values)
    if programme is not None:
        clauses.append("p.programme = :programme")
        params["programme"] = programme
    if period is not None:
        clauses.append("p.period = :period")
        params["period"] = period
    if older_than_days is not None:
        if today is None:
            raise InvalidInputError(RULE, "an age filter needs today's date", "today")
        if older_than_days < 0:
            raise InvalidInputError(RULE, "an age is not negative", "older_than_days")
        clauses.append("p.requested_at < :before")
        params["before"] = (today - timedelta(days=older_than_days)).isoformat()
    return " AND ".join(clauses), params


def _payout(row: Row) -> QueuedPayout:
    evidence = None
    if row["e_kind"] is not None:
        evidence = Evidence(
            kind=PayoutKind(row["e_kind"]),
            recorded_at=datetime.fromisoformat(row["e_recorded_at"]),
            evidence_ref=row["e_evidence_ref"],
            external_claim_id=row["e_external_claim_id"],
            documents=tuple(json.loads(row["e_documents"] or "[]")),
            days_worked=row["e_days_worked"],
            days_required=row["e_days_required"],
        )
    notice = row["notice_ends_on"]
    return QueuedPayout(
        payout_id=row["payout_id"],
        kind=PayoutKind(row["kind"]),
        programme=row["programme"],
        source_id=row["source_id"],
        period=row["period"],
        beneficiary_id=row["beneficiary_id"],
        fund_id=row["fund_id"],
        region_code=row["region_code"],
        amount_fen=int(row["amount_fen"]),
        status=PayoutStatus(row["status"]),
        version=int(row["version"]),
        requested_at=datetime.fromisoformat(row["requested_at"]),
        requested_position=int(row["requested_position"]),
        requested_by=row["requested_by"],
        updated_at=datetime.fromisoformat(row["updated_at"]),
        notice_ends_on=None if notice is None else date.fromisoformat(notice),
        open_objections=int(row["open_objections"]),
        approvers=tuple(json.loads(row["approvers"])),
        batch_id=row["batch_id"],
        failure=row["failure"],
        explanation=json.loads(row["explanation"]),
        recovery_ordered_fen=int(row["recovery_ordered_fen"]),
        recovered_fen=int(row["recovered_fen"]),
        evidence=evidence,
    )


def _batch_fields(row: Row) -> dict[str, Any]:
    return {
        "batch_id": row["batch_id"],
        "fund_id": row["fund_id"],
        "released_at": datetime.fromisoformat(row["released_at"]),
        "released_by": row["released_by"],
        "updated_at": datetime.fromisoformat(row["updated_at"]),
        **{
            name: int(row[name])
            for name in (
                "count",
                "total_fen",
                "version",
                "results",
                "paid_count",
                "paid_fen",
                "failed_count",
                "failed_fen",
                "reversed_count",
                "reversed_fen",
            )
        },
    }
