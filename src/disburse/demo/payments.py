"""The finance bureau's side of the demo: approve, batch, record the bank's results.

Approvals are made by ``finance-li`` (never the clerk who requested the payout); a
payout above the catalogue's second-approval amount is approved again by
``finance-zhao``. The bank fails a few lines (an account closed); the next round
re-issues them to the person's new account.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from disburse.application.payouts import BankResult
from disburse.demo.cast import CLERK, FINANCE, SECOND_APPROVER
from disburse.domain.batch import Outcome
from disburse.domain.payout import PayoutKind, PayoutStatus

if TYPE_CHECKING:
    import random
    from collections.abc import Iterable
    from datetime import date
    from uuid import UUID

    from disburse.application.ledger import Ledger

FAILURE_RATE = 0.01


@dataclass
class Cashier:
    """Pays what the county requests, round by round, and re-issues what failed."""

    ledger: Ledger
    rng: random.Random
    failed: list[UUID] = field(default_factory=list)
    batches: int = 0
    paid: int = 0
    failures: int = 0
    reissued: int = 0

    def approve(self, payout_id: UUID) -> None:
        """First approval, and the second one where the amount needs it."""
        status = self.ledger.payouts.approve(FINANCE, payout_id)
        if status is not PayoutStatus.APPROVED:
            self.ledger.payouts.approve(SECOND_APPROVER, payout_id)

    def pay(self, payout_ids: Iterable[UUID], *, paid_on: date) -> None:
        """Approve ``payout_ids``, batch them per fund with the re-issues, record results."""
        by_fund: dict[UUID, list[UUID]] = defaultdict(list)
        for payout_id in payout_ids:
            self.approve(payout_id)
            by_fund[self.ledger.payouts.get(payout_id).fund_id].append(payout_id)
        for payout_id in self._reissue():
            by_fund[self.ledger.payouts.get(payout_id).fund_id].append(payout_id)
        for fund_id, lines in by_fund.items():
            self._batch(fund_id, lines, paid_on)

    def _batch(self, fund_id: UUID, lines: list[UUID], paid_on: date) -> None:
        batch_id = self.ledger.payouts.release_batch(FINANCE, fund_id=fund_id, payout_ids=lines)
        self.batches += 1
        results = []
        total = 0
        for number, payout_id in enumerate(lines, start=1):
            payout = self.ledger.payouts.get(payout_id)
            total += payout.amount_fen
            to_person = payout.kind in {PayoutKind.STIPEND, PayoutKind.GRANT}
            first = self.batches == 1 and number == 1  # the bank always fails one line
            if to_person and (first or self.rng.random() < FAILURE_RATE):
                results.append(BankResult(payout_id, Outcome.FAILED, reason="account closed"))
                self.failed.append(payout_id)
                self.failures += 1
            else:
                reference = f"JLB-{paid_on:%Y%m%d}-{self.batches:03d}-{number:05d}"
                results.append(
                    BankResult(payout_id, Outcome.PAID, bank_reference=reference, paid_on=paid_on)
                )
                self.paid += 1
        self.ledger.payouts.record_results(
            FINANCE, batch_id, results=results, control_count=len(lines), control_total_fen=total
        )

    def _reissue(self) -> list[UUID]:
        """The payee opened a new account; the clerk records it; finance re-issues."""
        reissued, self.failed = self.failed, []
        for payout_id in reissued:
            payout = self.ledger.payouts.get(payout_id)
            account = f"6228{self.rng.randrange(10**15):015d}"
            self.ledger.people.change_bank_account(
                CLERK,
                payout.beneficiary_id,
                bank_account=account,
                reason="the bank reported the old account closed",
            )
            self.ledger.payouts.reissue(
                FINANCE, payout_id, account=account, reason="re-issue to the new account"
            )
            self.reissued += 1
        return reissued
