"""What the reports need that no other query answers.

Payouts per programme and status, and the villages not yet lifted with the posts set up
and held there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.payout import PayoutStatus
from disburse.domain.regions import check_region_scope

if TYPE_CHECKING:
    from disburse.readside.db import ViewDB

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


@dataclass(frozen=True)
class Village:
    """A village not yet lifted out of poverty, with the posts set up and held there."""

    site_id: str
    region_code: str
    name: str
    population: int
    posts: int  # set up at the village (Site.PostAdded)
    held: int  # with a holder who has not exited


def villages_not_lifted(db: ViewDB, scope: str = "") -> list[Village]:
    """The roster's villages registered as not lifted inside a region prefix, by region."""
    check_region_scope(scope, field="region")
    with db.read() as tx:
        rows = tx.all(
            "SELECT s.site_id, s.region_code, s.name, s.population,"
            " COUNT(sp.post_id) AS posts,"
            " COALESCE(SUM(CASE WHEN p.holder_id IS NOT NULL AND p.exited_on IS NULL"
            " THEN 1 ELSE 0 END), 0) AS held"
            " FROM roster_sites s"
            " LEFT JOIN roster_site_posts sp ON sp.site_id = s.site_id"
            " LEFT JOIN roster_posts p ON p.post_id = sp.post_id"
            " WHERE s.kind = 'village' AND s.lifted = 0 AND s.region_code LIKE :scope"
            " GROUP BY s.site_id, s.region_code, s.name, s.population"
            " ORDER BY s.region_code, s.name, s.site_id",
            {"scope": f"{scope}%"},
        )
    return [
        Village(
            site_id=str(row["site_id"]),
            region_code=str(row["region_code"]),
            name=str(row["name"]),
            population=int(row["population"]),
            posts=int(row["posts"]),
            held=int(row["held"]),
        )
        for row in rows
    ]
