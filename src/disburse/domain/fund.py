"""Funds: a budget of one fund source, for a region and a year."""

from __future__ import annotations

import uuid
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from disburse.domain.meta import Meta
from disburse.domain.money import MAX_FEN, check_amount, yuan
from disburse.domain.money import RULE as MONEY_RULE
from disburse.domain.regions import check_region_code

FUND_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e002")
_MIN_YEAR, _MAX_YEAR = 2000, 2100


class FundSource(StrEnum):
    """The three fund sources of DOMAIN.md."""

    EMPLOYMENT_SUBSIDY = "employment_subsidy"  # 就业补助资金
    RURAL_REVITALISATION = "rural_revitalisation"  # 衔接推进乡村振兴补助资金
    EAST_WEST = "east_west"  # 东西部协作资金


def fund_id_for(source: FundSource, region_code: str, year: int) -> UUID:
    """One fund per source, region and year: the id is derived from that natural key."""
    return uuid.uuid5(FUND_NAMESPACE, f"{source.value}:{region_code}:{year}")


class Fund(Aggregate):
    """Budget of one fund source for a region and year.

    Invariant: ``allocated = available + committed + paid - recovered``.

    The fund holds totals only, never a record per payout: its cost to load and copy
    does not grow with the payouts it paid. That a payout is committed, paid or
    recovered once is the payout's own state (``Payout``: approved once, paid once from
    a batch, recovered up to what was ordered), checked in the same transaction that
    moves the money here. Events written when the fund kept a map per payout carry the
    same payloads and replay to the same totals.
    """

    @staticmethod
    def create_id(source: FundSource, region_code: str, year: int) -> UUID:
        """Deterministic id from the natural key (source, region, year)."""
        return fund_id_for(FundSource(source), region_code, year)

    @event("Allocated")
    def __init__(
        self, *, source: FundSource, region_code: str, year: int, amount_fen: int, meta: Meta
    ) -> None:
        self.source = FundSource(source)
        self.region_code = region_code
        self.year = year
        self.allocated_fen = amount_fen
        self.committed_fen = 0
        self.paid_fen = 0
        self.recovered_fen = 0

    @classmethod
    def allocate(
        cls, *, source: FundSource, region_code: str, year: int, amount_fen: int, meta: Meta
    ) -> Fund:
        """Open a budget, after checking its facts."""
        check_region_code(region_code)
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise InvalidInputError("FUND-YEAR", f"{year} is not a budget year", field="year")
        check_amount(amount_fen, allow_zero=True)
        return cls(
            source=FundSource(source),
            region_code=region_code,
            year=year,
            amount_fen=amount_fen,
            meta=meta,
        )

    @property
    def available_fen(self) -> int:
        """What can still be committed."""
        return self.allocated_fen - self.committed_fen - self.paid_fen + self.recovered_fen

    def top_up(self, *, amount_fen: int, meta: Meta) -> None:
        """Add budget (a supplementary allocation)."""
        check_amount(amount_fen)
        if self.allocated_fen + amount_fen > MAX_FEN:
            raise InvalidInputError(
                MONEY_RULE, f"a fund holds at most {MAX_FEN} fen (10 trillion yuan)", "amount_fen"
            )
        self._topped_up(amount_fen=amount_fen, meta=meta)

    @event("ToppedUp")
    def _topped_up(self, *, amount_fen: int, meta: Meta) -> None:
        self.allocated_fen += amount_fen

    def commit(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        """Reserve money for a payout's final approval; refused beyond what is available."""
        check_amount(amount_fen)
        if amount_fen > self.available_fen:
            raise RuleViolationError(
                "FUND-INSUFFICIENT",
                f"fund has {yuan(self.available_fen)} yuan available, "
                f"{yuan(amount_fen)} yuan requested",
                field="amount_fen",
            )
        self._committed(payout_id=payout_id, amount_fen=amount_fen, meta=meta)

    @event("Committed")
    def _committed(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        self.committed_fen += amount_fen

    def release(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        """Return a payout's commitment to the available budget (rejection, cancellation)."""
        self._check_committed(payout_id, amount_fen)
        self._released(payout_id=payout_id, amount_fen=amount_fen, meta=meta)

    @event("Released")
    def _released(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        self.committed_fen -= amount_fen

    def record_payment(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        """A committed payout was paid by the bank."""
        self._check_committed(payout_id, amount_fen)
        self._paid(payout_id=payout_id, amount_fen=amount_fen, meta=meta)

    @event("Paid")
    def _paid(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        self.committed_fen -= amount_fen
        self.paid_fen += amount_fen

    def reverse_payment(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        """The bank returned a payment: the money is committed to the payout again."""
        check_amount(amount_fen)
        if amount_fen > self.paid_fen:
            raise ConflictError("FUND-COMMIT", f"payout {payout_id} has no reversible payment")
        self._payment_reversed(payout_id=payout_id, amount_fen=amount_fen, meta=meta)

    @event("PaymentReversed")
    def _payment_reversed(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        self.paid_fen -= amount_fen
        self.committed_fen += amount_fen

    def record_recovery(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        """Money recovered from an improper payment returns to the fund.

        The payout checks that it is its own payment's (ordered, not yet recovered); the
        fund that no more comes back than it paid out.
        """
        check_amount(amount_fen)
        outstanding = self.paid_fen - self.recovered_fen
        if amount_fen > outstanding:
            raise RuleViolationError(
                "FUND-RECOVERY",
                f"only {yuan(outstanding)} yuan paid from this fund remains to recover",
                field="amount_fen",
            )
        self._recovered(payout_id=payout_id, amount_fen=amount_fen, meta=meta)

    @event("Recovered")
    def _recovered(self, *, payout_id: UUID, amount_fen: int, meta: Meta) -> None:
        self.recovered_fen += amount_fen

    def _check_committed(self, payout_id: UUID, amount_fen: int) -> None:
        check_amount(amount_fen)
        if amount_fen > self.committed_fen:
            raise ConflictError("FUND-COMMIT", f"payout {payout_id} has no commitment in this fund")
