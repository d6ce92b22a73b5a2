"""Property: whatever valid payout commands run, in any order, every fund stays balanced."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import TYPE_CHECKING

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from pydantic import SecretStr

from disburse.application.payouts import BankResult
from disburse.bootstrap import build_ledger, initialise
from disburse.domain.batch import Outcome
from disburse.domain.errors import DomainError
from disburse.domain.payout import PayoutStatus
from disburse.persistence.keys import generate_secret
from disburse.settings import Settings
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from disburse.application.ledger import Ledger

COMMITTED = {PayoutStatus.APPROVED, PayoutStatus.BATCHED, PayoutStatus.FAILED}
PAID = {PayoutStatus.PAID, PayoutStatus.RECOVERY_ORDERED, PayoutStatus.RECOVERED}
POSTS = 3


class PayoutBooks(RuleBasedStateMachine):
    """Random approvals, rejections, batches, bank results, re-issues, cancellations, recoveries."""

    ledger: Ledger
    fund_id: UUID
    payouts: list[UUID]

    @initialize(budget=st.integers(min_value=0, max_value=600_000))
    def county_with_stipends(self, budget: int) -> None:
        self.ledger = build_ledger(
            Settings(env="test", database_url="memory://", secret_key=SecretStr(generate_secret())),
            today=lambda: date(2024, 3, 1),
        )
        initialise(self.ledger)
        place = f.county(self.ledger, budget_fen=budget)
        self.fund_id = place.fund_id
        self.payouts = []
        for _ in range(POSTS):
            post_id, _ = f.staffed_post(self.ledger, place)
            payout = self.ledger.posts.record_attendance(
                f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
            )
            assert payout is not None
            self.payouts.append(payout)

    def teardown(self) -> None:
        self.ledger.close()

    def _try(self, command: Callable[[], object]) -> None:
        # A refusal changes nothing; the invariants below check that.
        with contextlib.suppress(DomainError):
            command()

    @rule(i=st.integers(0, POSTS - 1), approver=st.sampled_from(["fa", "fb"]))
    def approve(self, i: int, approver: str) -> None:
        self._try(lambda: self.ledger.payouts.approve(f.finance(approver), self.payouts[i]))

    @rule(i=st.integers(0, POSTS - 1))
    def reject(self, i: int) -> None:
        self._try(lambda: self.ledger.payouts.reject(f.finance(), self.payouts[i], reason="r"))

    @rule(i=st.integers(0, POSTS - 1))
    def cancel(self, i: int) -> None:
        self._try(lambda: self.ledger.payouts.cancel(f.finance(), self.payouts[i], reason="c"))

    @rule(i=st.integers(0, POSTS - 1), outcome=st.sampled_from(list(Outcome)))
    def batch_and_result(self, i: int, outcome: Outcome) -> None:
        payout = self.ledger.payouts.get(self.payouts[i])
        if payout.status is PayoutStatus.APPROVED:
            batch = self.ledger.payouts.release_batch(
                f.finance(), fund_id=self.fund_id, payout_ids=[payout.id]
            )
        elif payout.batch_id is not None:
            batch = payout.batch_id
        else:
            return
        result = BankResult(payout.id, outcome, bank_reference="REF", reason="bank said so")
        self._try(
            lambda: self.ledger.payouts.record_results(
                f.finance(),
                batch,
                results=[result],
                control_count=1,
                control_total_fen=payout.amount_fen,
            )
        )

    @rule(i=st.integers(0, POSTS - 1))
    def reissue(self, i: int) -> None:
        payout = self.ledger.payouts.get(self.payouts[i])
        account = self.ledger.people.get(payout.beneficiary_id).bank_account
        self._try(
            lambda: self.ledger.payouts.reissue(f.finance(), payout.id, account=account, reason="x")
        )

    @rule(i=st.integers(0, POSTS - 1), amount=st.integers(1, 200_000))
    def recover(self, i: int, amount: int) -> None:
        payout_id = self.payouts[i]
        self._try(
            lambda: self.ledger.payouts.order_recovery(
                f.finance(), payout_id, amount_fen=amount, case_reference="A-1", reason="improper"
            )
        )
        self._try(
            lambda: self.ledger.payouts.record_recovery(
                f.finance(), payout_id, amount_fen=amount, received_on=date(2024, 3, 1)
            )
        )

    @rule(amount=st.integers(1, 300_000))
    def top_up(self, amount: int) -> None:
        self.ledger.funds.top_up(f.finance(), self.fund_id, amount_fen=amount, reason="budget")

    @invariant()
    def the_fund_balances_and_matches_its_payouts(self) -> None:
        fund = self.ledger.funds.get(self.fund_id)
        assert fund.allocated_fen == (
            fund.available_fen + fund.committed_fen + fund.paid_fen - fund.recovered_fen
        )
        assert fund.available_fen >= 0
        payouts = [self.ledger.payouts.get(p) for p in self.payouts]
        assert fund.committed_fen == sum(p.amount_fen for p in payouts if p.status in COMMITTED)
        assert fund.paid_fen == sum(p.amount_fen for p in payouts if p.status in PAID)
        assert fund.recovered_fen == sum(p.recovered_fen for p in payouts)


PayoutBooks.TestCase.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
test_any_sequence_of_payout_commands_keeps_every_fund_balanced = PayoutBooks.TestCase
