"""What the reports need that no other query answers: payouts per programme and status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.payout import PayoutStatus
from disburse.domain.regions import check_region_scope

if TYPE_CHECKING:
    from disburse.projections.db import ViewDB

#: The statuses in the order a payout lives through them, the dead ends last.
LIFECYCLE = (
    PayoutStatus.REQUESTED,
    PayoutStatus.ON_NOTICE,
    PayoutStatus.HELD,
    PayoutStatus.FIRST_APPROVED,
    PayoutStatus.APPROVED,
    PayoutStatus.BATCHED,
    PayoutStatus.PAID,
    PayoutStatus.FAILED,
    PayoutStatus.RECOVERY_ORDERED,
    PayoutStatus.RECOVERED,
    PayoutStatus.REJECTED,
    PayoutStatus.CANCELLED,
)


@dataclass(frozen=True)
class StatusCount:
    """How many payouts of a programme are in a status, and their amounts in fen."""

    programme: str
    status: PayoutStatus
    payouts: int
    amount_fen: int
    recovered_fen: int


class ReportQueries:
    """Aggregates of the payout queue view for the reports."""

    def __init__(self, db: ViewDB) -> None:
        self.db = db

    def payouts_by_status(self, scope: str = "", year: int | None = None) -> list[StatusCount]:
        """Payouts per programme and status inside a region prefix, by programme then lifecycle.

        ``year``: only payouts for a period of that year (``YYYY`` or ``YYYY-MM``).
        """
        check_region_scope(scope, field="region")
        where = "region_code LIKE :scope" + (
            "" if year is None else " AND SUBSTR(period, 1, 4) = :year"
        )
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT programme, status, COUNT(*) AS n, SUM(amount_fen) AS amount,"
                " SUM(recovered_fen) AS recovered FROM queue_payouts"
                f" WHERE {where} GROUP BY programme, status",
                {"scope": f"{scope}%", "year": None if year is None else f"{year:04d}"},
            )
        counts = [
            StatusCount(
                programme=row["programme"],
                status=PayoutStatus(row["status"]),
                payouts=int(row["n"]),
                amount_fen=int(row["amount"]),
                recovered_fen=int(row["recovered"]),
            )
            for row in rows
        ]
        return sorted(counts, key=lambda c: (c.programme, LIFECYCLE.index(c.status)))
