"""Questions finance asks of the balances view, and the check that it balances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.regions import check_region_scope, region_scope
from disburse.readside.listing import region_clause

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from disburse.readside.db import Row, ViewDB


@dataclass(frozen=True)
class Totals:
    """Money of a fund or a group of funds, in fen."""

    allocated_fen: int = 0
    available_fen: int = 0
    committed_fen: int = 0
    paid_fen: int = 0
    recovered_fen: int = 0
    recovery_outstanding_fen: int = 0

    @classmethod
    def from_accounts(cls, sums: Mapping[str, int]) -> Totals:
        """From account balances (credits are negative)."""
        return cls(
            allocated_fen=-sums.get("budget", 0),
            available_fen=sums.get("available", 0),
            committed_fen=sums.get("committed", 0),
            paid_fen=sums.get("paid", 0),
            recovered_fen=-sums.get("recovered", 0),
            recovery_outstanding_fen=sums.get("recovery_receivable", 0),
        )

    @property
    def balanced(self) -> bool:
        """``allocated = available + committed + paid - recovered``."""
        return self.allocated_fen == (
            self.available_fen + self.committed_fen + self.paid_fen - self.recovered_fen
        )


@dataclass(frozen=True)
class FundBalance:
    """One fund's balances."""

    fund_id: str
    source: str
    region_code: str
    year: int
    totals: Totals


@dataclass(frozen=True)
class GroupBalance:
    """Balances of a group of funds or payouts (a region, a programme, a year...)."""

    key: str
    totals: Totals


@dataclass(frozen=True)
class RegionBalance:
    """A region scope's balances, rolled up from every fund inside it."""

    scope: str
    totals: Totals
    by_region: list[GroupBalance]
    by_source: list[GroupBalance]


@dataclass(frozen=True)
class Receipt:
    """What a beneficiary received under a programme in a year, in fen."""

    programme: str
    year: str
    paid_fen: int
    recovered_fen: int

    @property
    def net_fen(self) -> int:
        """Paid minus recovered."""
        return self.paid_fen - self.recovered_fen


#: Postings recorded before a moment (``recorded_at`` is UTC ISO text: it sorts as time).
_UNTIL = " AND recorded_at < :until"


def _grouped(rows: Iterable[Row]) -> dict[str, dict[str, int]]:
    groups: dict[str, dict[str, int]] = {}
    for row in rows:
        groups.setdefault(str(row["k"]), {})[row["account"]] = int(row["total"])
    return groups


class BalanceQueries:
    """Reads of the balances view."""

    def __init__(self, db: ViewDB) -> None:
        self.db = db

    def fund(self, fund_id: str, *, until: str | None = None) -> FundBalance | None:
        """A fund's balances, or None if no such fund was allocated.

        ``until`` (UTC ISO timestamp): only postings recorded before it (balances as of then).
        """
        with self.db.read() as tx:
            fund = tx.one("SELECT * FROM balance_funds WHERE fund_id = :f", {"f": fund_id})
            rows = tx.all(
                "SELECT account, '' AS k, SUM(amount_fen) AS total FROM balance_entries"
                f" WHERE fund_id = :f{_UNTIL if until else ''} GROUP BY account",
                {"f": fund_id, "until": until},
            )
        if fund is None:
            return None
        totals = Totals.from_accounts(_grouped(rows).get("", {}))
        return FundBalance(fund_id, fund["source"], fund["region_code"], fund["year"], totals)

    def funds(self) -> list[FundBalance]:
        """Every fund, by region, year and source."""
        with self.db.read() as tx:
            funds = tx.all("SELECT * FROM balance_funds ORDER BY region_code, year, source")
            rows = tx.all(
                "SELECT fund_id AS k, account, SUM(amount_fen) AS total FROM balance_entries"
                " GROUP BY fund_id, account"
            )
        sums = _grouped(rows)
        return [
            FundBalance(
                f["fund_id"],
                f["source"],
                f["region_code"],
                f["year"],
                Totals.from_accounts(sums.get(f["fund_id"], {})),
            )
            for f in funds
        ]

    def region(
        self, code: str, *, year: int | None = None, until: str | None = None
    ) -> RegionBalance:
        """Totals of every fund inside a region (a 6-digit code or a 2/4/6-digit prefix).

        ``by_region`` breaks a province down by city and a city by county. ``until`` (UTC
        ISO timestamp): only postings recorded before it (balances as of then).
        """
        scope = region_scope(code)
        child = {2: 4, 4: 6}.get(len(scope), 6)
        clause, params = region_clause("region_code", scope)
        where = (
            (clause or "1 = 1")
            + (" AND year = :year" if year is not None else "")
            + (_UNTIL if until else "")
        )
        params |= {"year": year, "until": until}
        with self.db.read() as tx:
            total = tx.all(
                "SELECT '' AS k, account, SUM(amount_fen) AS total FROM balance_entries"
                f" WHERE {where} GROUP BY account",
                params,
            )
            regions = tx.all(
                f"SELECT SUBSTR(region_code, 1, {child}) AS k, account,"
                f" SUM(amount_fen) AS total FROM balance_entries WHERE {where}"
                f" GROUP BY SUBSTR(region_code, 1, {child}), account",
                params,
            )
            sources = tx.all(
                "SELECT source AS k, account, SUM(amount_fen) AS total FROM balance_entries"
                f" WHERE {where} GROUP BY source, account",
                params,
            )
        return RegionBalance(
            scope=scope,
            totals=Totals.from_accounts(_grouped(total).get("", {})),
            by_region=_groups(regions),
            by_source=_groups(sources),
        )

    def programmes(self, scope: str = "") -> list[GroupBalance]:
        """Committed, paid and recovered per programme inside a region scope."""
        check_region_scope(scope, field="region")
        clause, params = region_clause("region_code", scope)
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT programme AS k, account, SUM(amount_fen) AS total FROM balance_entries"
                f" WHERE programme IS NOT NULL AND {clause or '1 = 1'}"
                " GROUP BY programme, account",
                params,
            )
        return _groups(rows)

    def person(self, person_id: str) -> list[Receipt]:
        """What a beneficiary received, by programme and year (of the period paid for)."""
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT programme, SUBSTR(period, 1, 4) AS year, account,"
                " SUM(amount_fen) AS total FROM balance_entries"
                " WHERE person_id = :p AND account IN ('paid', 'recovered')"
                " GROUP BY programme, SUBSTR(period, 1, 4), account"
                " ORDER BY programme, year",
                {"p": person_id},
            )
        receipts: dict[tuple[str, str], dict[str, int]] = {}
        for row in rows:
            receipts.setdefault((row["programme"], row["year"]), {})[row["account"]] = int(
                row["total"]
            )
        return [
            Receipt(programme, year, sums.get("paid", 0), -sums.get("recovered", 0))
            for (programme, year), sums in receipts.items()
        ]

    def check(self) -> list[str]:
        """Problems found: entries that do not sum to zero, funds out of balance. Empty: ok."""
        problems: list[str] = []
        with self.db.read() as tx:
            total = tx.one("SELECT COALESCE(SUM(amount_fen), 0) AS total FROM balance_entries")
            unbalanced = tx.all(
                "SELECT position, SUM(amount_fen) AS total FROM balance_entries"
                " GROUP BY position HAVING SUM(amount_fen) <> 0 ORDER BY position"
            )
        if total is not None and int(total["total"]) != 0:
            problems.append(f"all entries sum to {total['total']} fen, not 0")
        problems.extend(
            f"the entries of position {row['position']} sum to {row['total']} fen"
            for row in unbalanced
        )
        problems.extend(
            f"fund {fund.fund_id}: allocated {fund.totals.allocated_fen} != available + "
            "committed + paid - recovered"
            for fund in self.funds()
            if not fund.totals.balanced
        )
        return problems


def _groups(rows: Iterable[Row]) -> list[GroupBalance]:
    return [
        GroupBalance(key, Totals.from_accounts(sums))
        for key, sums in sorted(_grouped(rows).items())
    ]


@dataclass(frozen=True)
class MonthFlows:
    """Money that moved in one month (UTC) inside a region scope, in fen."""

    month: str
    allocated_fen: int = 0
    committed_fen: int = 0
    paid_fen: int = 0
    recovered_fen: int = 0


def monthly_flows(db: ViewDB, scope: str) -> list[MonthFlows]:
    """Budget execution by month: allocated (and topped up), committed, paid, recovered.

    Paid is net of reversals by the bank; committed counts approvals as they happened
    (what was later released is not taken back out of the month it was committed in).
    """
    clause, params = region_clause("region_code", scope)
    with db.read() as tx:
        rows = tx.all(
            "SELECT SUBSTR(recorded_at, 1, 7) AS month, account, event_type,"
            " SUM(amount_fen) AS total FROM balance_entries"
            f" WHERE {clause or '1 = 1'}"
            " AND account IN ('budget', 'committed', 'paid', 'recovered')"
            " GROUP BY SUBSTR(recorded_at, 1, 7), account, event_type",
            params,
        )
    months: dict[str, dict[str, int]] = {}
    for row in rows:
        sums = months.setdefault(str(row["month"]), {})
        total = int(row["total"])
        account = row["account"]
        if account == "budget":
            sums["allocated"] = sums.get("allocated", 0) - total
        elif account == "committed" and row["event_type"] == "Fund.Committed":
            sums["committed"] = sums.get("committed", 0) + total
        elif account == "paid":
            sums["paid"] = sums.get("paid", 0) + total
        elif account == "recovered":
            sums["recovered"] = sums.get("recovered", 0) - total
    return [
        MonthFlows(
            month,
            allocated_fen=sums.get("allocated", 0),
            committed_fen=sums.get("committed", 0),
            paid_fen=sums.get("paid", 0),
            recovered_fen=sums.get("recovered", 0),
        )
        for month, sums in sorted(months.items())
    ]


def fund_balances(db: ViewDB, scope: str) -> list[FundBalance]:
    """The balances of each fund inside a region scope, by region, year and source."""
    funds_clause, params = region_clause("region_code", scope)
    entries_clause = funds_clause.replace("region_code", "e.region_code")
    with db.read() as tx:
        funds = tx.all(
            f"SELECT * FROM balance_funds WHERE {funds_clause or '1 = 1'}"
            " ORDER BY region_code, year, source",
            params,
        )
        rows = tx.all(
            "SELECT e.fund_id AS k, e.account, SUM(e.amount_fen) AS total"
            f" FROM balance_entries e WHERE {entries_clause or '1 = 1'}"
            " GROUP BY e.fund_id, e.account",
            params,
        )
    sums = _grouped(rows)
    return [
        FundBalance(
            f["fund_id"],
            f["source"],
            f["region_code"],
            f["year"],
            Totals.from_accounts(sums.get(f["fund_id"], {})),
        )
        for f in funds
    ]
