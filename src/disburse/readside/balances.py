"""Balances: a double-entry view of every money event.

Each money event posts entries that sum to zero. The accounts of a fund are
``budget`` (the appropriation, a credit: minus what was allocated), ``available``,
``committed`` (approved, payable to the beneficiary), ``paid`` and ``recovered`` (a
credit: minus what came back). Because every posting balances,
``allocated = available + committed + paid - recovered`` holds for every fund.
Recovery orders post a memorandum pair: ``recovery_receivable`` against
``recovery_ordered``, cleared as money comes back.

A batch of events is applied set-based (:mod:`disburse.readside.batch`): the funds and
payouts its postings name are read in one query each, and its entries are written
together when it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from disburse.readside.base import Position, View, event_type, handles
from disburse.readside.batch import Rows, Table

if TYPE_CHECKING:
    from collections.abc import Sequence

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


_FUNDS = Table("balance_funds", ("fund_id",), ("fund_id", "source", "region_code", "year"))
_PAYOUTS = Table(
    "balance_payouts",
    ("payout_id",),
    ("payout_id", "fund_id", "beneficiary_id", "programme", "kind", "period"),
)
_ENTRIES = Table(
    "balance_entries",
    ("position", "seq"),
    (
        "position",
        "seq",
        "account",
        "amount_fen",
        "fund_id",
        "source",
        "region_code",
        "year",
        "programme",
        "person_id",
        "payout_id",
        "period",
        "event_type",
        "recorded_at",
    ),
)


@dataclass
class _Batch:
    """What the balances view keeps while it applies one batch of events."""

    funds: Rows = field(default_factory=lambda: Rows(_FUNDS))
    payouts: Rows = field(default_factory=lambda: Rows(_PAYOUTS))
    entries: list[dict[str, object]] = field(default_factory=list)


class BalancesView(View):
    """Double-entry postings per fund, region, programme and beneficiary."""

    name = "balances"
    tables = ("balance_entries", "balance_funds", "balance_payouts")
    pipelined = False  # a batch is written at its end, by COPY on PostgreSQL
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

    def begin(self, tx: Tx, batch: Sequence[tuple[Any, Position]]) -> None:
        """Read the funds and payouts the batch's postings name."""
        state = _Batch()
        funds, payouts = [], []
        for event, _ in batch:
            name = event_type(event)
            if name in _FUND_POSTINGS:
                funds.append(str(event.originator_id))
                payout_id = getattr(event, "payout_id", None)
                if payout_id is not None:
                    payouts.append(str(payout_id))
            elif name in _PAYOUT_POSTINGS:
                payouts.append(str(event.originator_id))
        state.payouts.load(tx, "payout_id", payouts)
        funds += (str(payout["fund_id"]) for payout in state.payouts.present())
        state.funds.load(tx, "fund_id", funds)
        tx.memo[self.name] = state

    def flush(self, tx: Tx) -> None:
        """Write the batch's funds, payouts and entries."""
        state = self._batch(tx)
        state.funds.flush(tx)
        state.payouts.flush(tx)
        _ENTRIES.insert(tx, state.entries)
        del tx.memo[self.name]

    def _batch(self, tx: Tx) -> _Batch:
        state: _Batch = tx.memo[self.name]
        return state

    @handles("Fund.Allocated")
    def _allocated(self, tx: Tx, event: Any, where: Position) -> None:
        self._batch(tx).funds.insert(
            {
                "fund_id": str(event.originator_id),
                "source": str(event.source),
                "region_code": event.region_code,
                "year": event.year,
            }
        )
        self._post_fund(tx, event, where)

    @handles(*(name for name in _FUND_POSTINGS if name != "Fund.Allocated"))
    def _post_fund(self, tx: Tx, event: Any, where: Position) -> None:
        name = event_type(event)
        payout_id = getattr(event, "payout_id", None)
        self._post(tx, where, name, str(event.originator_id), payout_id, event.amount_fen)

    @handles("Payout.Requested")
    def _requested(self, tx: Tx, event: Any, where: Position) -> None:
        self._batch(tx).payouts.insert(
            {
                "payout_id": str(event.originator_id),
                "fund_id": str(event.fund_id),
                "beneficiary_id": str(event.beneficiary_id),
                "programme": event.programme,
                "kind": str(event.kind),
                "period": event.period,
            }
        )

    @handles(*_PAYOUT_POSTINGS)
    def _recovery(self, tx: Tx, event: Any, where: Position) -> None:
        row = self._batch(tx).payouts.get(tx, str(event.originator_id))
        if row is None:  # pragma: no cover - a payout is requested before it is recovered
            return
        name = event_type(event)
        self._post(tx, where, name, row["fund_id"], event.originator_id, event.amount_fen)

    def _post(  # noqa: PLR0917 - one posting's facts
        self, tx: Tx, where: Position, name: str, fund_id: str, payout_id: object, amount: int
    ) -> None:
        """Two entries, debit and credit, with the fund's and the payout's facts.

        No fund, no entries; a payout the view does not know leaves its facts empty.
        """
        if amount == 0:
            return
        state = self._batch(tx)
        fund = state.funds.get(tx, fund_id)
        if fund is None:
            return
        payout_key = None if payout_id is None else str(payout_id)
        payout = None if payout_key is None else state.payouts.get(tx, payout_key)
        debit, credit = _POSTINGS[name]
        for seq, (account, amount_fen) in enumerate(((debit, amount), (credit, -amount))):
            state.entries.append(
                {
                    "position": where.position,
                    "seq": seq,
                    "account": account,
                    "amount_fen": amount_fen,
                    "fund_id": fund["fund_id"],
                    "source": fund["source"],
                    "region_code": fund["region_code"],
                    "year": fund["year"],
                    "programme": None if payout is None else payout["programme"],
                    "person_id": None if payout is None else payout["beneficiary_id"],
                    "payout_id": payout_key,
                    "period": None if payout is None else payout["period"],
                    "event_type": name,
                    "recorded_at": where.at,
                }
            )
