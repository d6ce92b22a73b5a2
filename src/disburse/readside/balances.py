"""Balances: a double-entry view of every money event.

Each money event posts entries that sum to zero. The accounts of a fund are
``budget`` (the appropriation, a credit: minus what was allocated), ``available``,
``committed`` (approved, payable to the beneficiary), ``paid`` and ``recovered`` (a
credit: minus what came back). Because every posting balances,
``allocated = available + committed + paid - recovered`` holds for every fund.
Recovery orders post a memorandum pair: ``recovery_receivable`` against
``recovery_ordered``, cleared as money comes back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from disburse.readside.base import Position, View, event_type, handles

if TYPE_CHECKING:
    from disburse.readside.db import Tx

ACCOUNTS = (
    "budget",
    "available",
    "committed",
    "paid",
    "recovered",
    "recovery_receivable",
    "recovery_ordered",
)

#: Fund events and the (debit, credit) accounts they post between.
_FUND_POSTINGS = {
    "Fund.Allocated": ("available", "budget"),
    "Fund.ToppedUp": ("available", "budget"),
    "Fund.Committed": ("committed", "available"),
    "Fund.Released": ("available", "committed"),
    "Fund.Paid": ("paid", "committed"),
    "Fund.PaymentReversed": ("committed", "paid"),
    "Fund.Recovered": ("available", "recovered"),
}
_PAYOUT_POSTINGS = {
    "Payout.RecoveryOrdered": ("recovery_receivable", "recovery_ordered"),
    "Payout.Recovered": ("recovery_ordered", "recovery_receivable"),
}
_POSTINGS = _FUND_POSTINGS | _PAYOUT_POSTINGS


class BalancesView(View):
    """Double-entry postings per fund, region, programme and beneficiary."""

    name = "balances"
    tables = ("balance_entries", "balance_funds", "balance_payouts")
    schema: ClassVar[tuple[str, ...]] = (
        "CREATE TABLE IF NOT EXISTS balance_funds ("
        " fund_id TEXT PRIMARY KEY, source TEXT NOT NULL, region_code TEXT NOT NULL,"
        " year INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS balance_payouts ("
        " payout_id TEXT PRIMARY KEY, fund_id TEXT NOT NULL, beneficiary_id TEXT NOT NULL,"
        " programme TEXT NOT NULL, kind TEXT NOT NULL, period TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS balance_entries ("
        " position BIGINT NOT NULL, seq INTEGER NOT NULL, account TEXT NOT NULL,"
        " amount_fen BIGINT NOT NULL, fund_id TEXT NOT NULL, source TEXT NOT NULL,"
        " region_code TEXT NOT NULL, year INTEGER NOT NULL, programme TEXT,"
        " person_id TEXT, payout_id TEXT, period TEXT, event_type TEXT NOT NULL,"
        " recorded_at TEXT NOT NULL, PRIMARY KEY (position, seq))",
        "CREATE INDEX IF NOT EXISTS balance_entries_fund ON balance_entries (fund_id, account)",
        "CREATE INDEX IF NOT EXISTS balance_entries_region"
        " ON balance_entries (region_code, account)",
        "CREATE INDEX IF NOT EXISTS balance_entries_person ON balance_entries (person_id, account)",
    )

    @handles("Fund.Allocated")
    def _allocated(self, tx: Tx, event: Any, where: Position) -> None:
        tx.write(
            "INSERT INTO balance_funds (fund_id, source, region_code, year)"
            " VALUES (:id, :source, :region, :year)",
            {
                "id": str(event.originator_id),
                "source": str(event.source),
                "region": event.region_code,
                "year": event.year,
            },
        )
        self._post_fund(tx, event, where)

    @handles(*(name for name in _FUND_POSTINGS if name != "Fund.Allocated"))
    def _post_fund(self, tx: Tx, event: Any, where: Position) -> None:
        name = event_type(event)
        payout_id = getattr(event, "payout_id", None)
        self._post(tx, where, name, str(event.originator_id), payout_id, event.amount_fen)

    @handles("Payout.Requested")
    def _requested(self, tx: Tx, event: Any, where: Position) -> None:
        tx.write(
            "INSERT INTO balance_payouts (payout_id, fund_id, beneficiary_id, programme, kind,"
            " period) VALUES (:id, :fund, :person, :programme, :kind, :period)",
            {
                "id": str(event.originator_id),
                "fund": str(event.fund_id),
                "person": str(event.beneficiary_id),
                "programme": event.programme,
                "kind": str(event.kind),
                "period": event.period,
            },
        )

    @handles(*_PAYOUT_POSTINGS)
    def _recovery(self, tx: Tx, event: Any, where: Position) -> None:
        row = tx.one(
            "SELECT fund_id FROM balance_payouts WHERE payout_id = :id",
            {"id": str(event.originator_id)},
        )
        if row is None:  # pragma: no cover - a payout is requested before it is recovered
            return
        name = event_type(event)
        self._post(tx, where, name, row["fund_id"], event.originator_id, event.amount_fen)

    @staticmethod
    def _post(  # noqa: PLR0917 - one posting's facts
        tx: Tx, where: Position, name: str, fund_id: str, payout_id: object, amount: int
    ) -> None:
        if amount == 0:
            return
        debit, credit = _POSTINGS[name]
        params: dict[str, object] = {
            "position": where.position,
            "fund": fund_id,
            "payout": None if payout_id is None else str(payout_id),
            "event_type": name,
            "at": where.at,
        }
        for seq, (account, amount_fen) in enumerate(((debit, amount), (credit, -amount))):
            tx.write(
                "INSERT INTO balance_entries (position, seq, account, amount_fen, fund_id,"
                " source, region_code, year, programme, person_id, payout_id, period,"
                " event_type, recorded_at)"
                " SELECT :position, :seq, :account, :amount, f.fund_id, f.source,"
                " f.region_code, f.year, p.programme, p.beneficiary_id, :payout, p.period,"
                " :event_type, :at"
                " FROM balance_funds f LEFT JOIN balance_payouts p ON p.payout_id = :payout"
                " WHERE f.fund_id = :fund",
                params | {"seq": seq, "account": account, "amount": amount_fen},
            )
