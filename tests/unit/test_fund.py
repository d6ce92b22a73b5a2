"""Funds: allocation, commitment, payment, release and recovery keep the books balanced."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from disburse.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from disburse.domain.fund import Fund, FundSource, fund_id_for
from disburse.domain.meta import Role
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger

PAYOUT = uuid.UUID(int=1)
OTHER_PAYOUT = uuid.UUID(int=2)


def assert_balanced(fund: Fund) -> None:
    assert fund.allocated_fen == (
        fund.available_fen + fund.committed_fen + fund.paid_fen - fund.recovered_fen
    )
    assert min(fund.committed_fen, fund.paid_fen - fund.recovered_fen, fund.available_fen) >= 0


# -- allocation -----------------------------------------------------------------------------


def test_a_new_fund_has_its_whole_allocation_available() -> None:
    fund = f.domain_fund(1_000_000)

    assert fund.allocated_fen == fund.available_fen == 1_000_000
    assert fund.committed_fen == fund.paid_fen == fund.recovered_fen == 0


def test_a_fund_is_named_by_its_source_region_and_year() -> None:
    fund = f.domain_fund()

    assert fund.id == fund_id_for(FundSource.EMPLOYMENT_SUBSIDY, f.COUNTY, 2024)
    assert fund.id != fund_id_for(FundSource.EMPLOYMENT_SUBSIDY, f.COUNTY, 2025)
    assert fund.id != fund_id_for(FundSource.EAST_WEST, f.COUNTY, 2024)


@pytest.mark.parametrize(
    ("region", "year", "amount", "rule_id"),
    [
        ("2202", 2024, 1, "REGION-CODE"),
        ("990101", 2024, 1, "REGION-CODE"),
        (f.COUNTY, 1999, 1, "FUND-YEAR"),
        (f.COUNTY, 2101, 1, "FUND-YEAR"),
        (f.COUNTY, 2024, -1, "MONEY-FEN"),
    ],
)
def test_an_allocation_with_invalid_facts_is_refused(
    region: str, year: int, amount: int, rule_id: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Fund.allocate(
            source=FundSource.EMPLOYMENT_SUBSIDY,
            region_code=region,
            year=year,
            amount_fen=amount,
            meta=f.meta(),
        )
    assert caught.value.rule_id == rule_id


def test_allocating_the_same_fund_twice_is_refused_with_fund_exists(
    memory_ledger: Ledger,
) -> None:
    f.county(memory_ledger)

    with pytest.raises(ConflictError) as caught:
        memory_ledger.funds.allocate(
            f.finance(),
            source=FundSource.EMPLOYMENT_SUBSIDY,
            region_code=f.COUNTY,
            year=2024,
            amount_fen=1,
        )
    assert caught.value.rule_id == "FUND-EXISTS"


def test_a_top_up_adds_to_the_allocation_and_what_is_available(memory_ledger: Ledger) -> None:
    place = f.county(memory_ledger, budget_fen=1_000)

    memory_ledger.funds.top_up(f.finance(), place.fund_id, amount_fen=500, reason="supplement")

    fund = memory_ledger.funds.get(place.fund_id)
    assert fund.allocated_fen == fund.available_fen == 1_500


def test_a_top_up_of_zero_is_refused() -> None:
    fund = f.domain_fund()

    with pytest.raises(InvalidInputError) as caught:
        fund.top_up(amount_fen=0, meta=f.meta())
    assert caught.value.rule_id == "MONEY-FEN"


# -- commitments ----------------------------------------------------------------------------


def test_committing_more_than_is_available_is_refused_with_fund_insufficient() -> None:
    fund = f.domain_fund(1_000)
    fund.commit(payout_id=PAYOUT, amount_fen=600, meta=f.meta())

    with pytest.raises(RuleViolationError) as caught:
        fund.commit(payout_id=OTHER_PAYOUT, amount_fen=401, meta=f.meta())
    assert caught.value.rule_id == "FUND-INSUFFICIENT"
    assert caught.value.field == "amount_fen"
    assert fund.available_fen == 400


def test_committing_exactly_what_is_available_empties_the_fund() -> None:
    fund = f.domain_fund(1_000)

    fund.commit(payout_id=PAYOUT, amount_fen=1_000, meta=f.meta())

    assert fund.available_fen == 0
    assert fund.committed_fen == 1_000
    assert_balanced(fund)


def test_a_payout_is_committed_at_most_once(memory_ledger: Ledger) -> None:
    """The payout's state says it is committed: a second approval moves no money."""
    place = f.county(memory_ledger, budget_fen=1_000_000)
    post_id, _ = f.staffed_post(memory_ledger, place)
    payout = memory_ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert payout is not None
    memory_ledger.payouts.approve(f.finance(), payout)
    committed = memory_ledger.funds.get(place.fund_id).committed_fen

    with pytest.raises(ConflictError) as caught:
        memory_ledger.payouts.approve(f.finance("finance-2"), payout)
    assert caught.value.rule_id == "PAYOUT-STATE"
    fund = memory_ledger.funds.get(place.fund_id)
    assert fund.committed_fen == committed == memory_ledger.payouts.get(payout).amount_fen


def test_a_released_commitment_is_available_again() -> None:
    fund = f.domain_fund(1_000)
    fund.commit(payout_id=PAYOUT, amount_fen=300, meta=f.meta())

    fund.release(payout_id=PAYOUT, amount_fen=300, meta=f.meta())

    assert fund.available_fen == 1_000
    assert fund.committed_fen == 0


def test_releasing_an_uncommitted_payout_is_refused() -> None:
    fund = f.domain_fund(1_000)

    with pytest.raises(ConflictError) as caught:
        fund.release(payout_id=PAYOUT, amount_fen=1, meta=f.meta())
    assert caught.value.rule_id == "FUND-COMMIT"


def test_paying_an_uncommitted_payout_is_refused() -> None:
    fund = f.domain_fund(1_000)

    with pytest.raises(ConflictError) as caught:
        fund.record_payment(payout_id=PAYOUT, amount_fen=300, meta=f.meta())
    assert caught.value.rule_id == "FUND-COMMIT"
    assert fund.paid_fen == 0


def test_a_payment_moves_a_commitment_to_paid() -> None:
    fund = f.domain_fund(1_000)
    fund.commit(payout_id=PAYOUT, amount_fen=300, meta=f.meta())

    fund.record_payment(payout_id=PAYOUT, amount_fen=300, meta=f.meta())

    assert (fund.committed_fen, fund.paid_fen, fund.available_fen) == (0, 300, 700)
    assert_balanced(fund)


def test_a_paid_payout_cannot_be_released_or_committed_again(memory_ledger: Ledger) -> None:
    """Rejecting, cancelling, approving or paying a paid payout again moves no money."""
    story = f.money_story(memory_ledger)
    before = memory_ledger.funds.get(story.place.fund_id)
    books = (before.committed_fen, before.paid_fen, before.recovered_fen)
    paid = story.reissued

    for command in (
        lambda: memory_ledger.payouts.reject(f.finance(), paid, reason="late"),
        lambda: memory_ledger.payouts.cancel(f.finance(), paid, reason="late"),
        lambda: memory_ledger.payouts.approve(f.finance("finance-9"), paid),
    ):
        with pytest.raises(ConflictError) as caught:
            command()
        assert caught.value.rule_id == "PAYOUT-STATE"
    after = memory_ledger.funds.get(story.place.fund_id)
    assert (after.committed_fen, after.paid_fen, after.recovered_fen) == books


def test_releasing_or_paying_more_than_is_committed_is_refused() -> None:
    fund = f.domain_fund(1_000)
    fund.commit(payout_id=PAYOUT, amount_fen=300, meta=f.meta())
    fund.record_payment(payout_id=PAYOUT, amount_fen=300, meta=f.meta())

    with pytest.raises(ConflictError) as released:
        fund.release(payout_id=PAYOUT, amount_fen=300, meta=f.meta())
    with pytest.raises(ConflictError) as paid:
        fund.record_payment(payout_id=PAYOUT, amount_fen=300, meta=f.meta())
    assert released.value.rule_id == paid.value.rule_id == "FUND-COMMIT"
    assert (fund.committed_fen, fund.paid_fen) == (0, 300)


# -- recovery -------------------------------------------------------------------------------


def test_recovered_money_returns_to_what_is_available() -> None:
    fund = f.domain_fund(1_000)
    fund.commit(payout_id=PAYOUT, amount_fen=300, meta=f.meta())
    fund.record_payment(payout_id=PAYOUT, amount_fen=300, meta=f.meta())

    fund.record_recovery(payout_id=PAYOUT, amount_fen=120, meta=f.meta())

    assert (fund.paid_fen, fund.recovered_fen, fund.available_fen) == (300, 120, 820)
    assert_balanced(fund)


def test_recovering_more_than_was_paid_is_refused_with_fund_recovery() -> None:
    fund = f.domain_fund(1_000)
    fund.commit(payout_id=PAYOUT, amount_fen=300, meta=f.meta())
    fund.record_payment(payout_id=PAYOUT, amount_fen=300, meta=f.meta())
    fund.record_recovery(payout_id=PAYOUT, amount_fen=200, meta=f.meta())

    with pytest.raises(RuleViolationError) as caught:
        fund.record_recovery(payout_id=PAYOUT, amount_fen=101, meta=f.meta())
    assert caught.value.rule_id == "FUND-RECOVERY"
    assert fund.recovered_fen == 200


def test_recovering_a_payout_that_was_not_paid_from_the_fund_is_refused() -> None:
    fund = f.domain_fund(1_000)
    fund.commit(payout_id=PAYOUT, amount_fen=300, meta=f.meta())

    with pytest.raises(RuleViolationError) as caught:
        fund.record_recovery(payout_id=PAYOUT, amount_fen=100, meta=f.meta())
    assert caught.value.rule_id == "FUND-RECOVERY"


def test_every_fund_event_carries_who_did_it_and_replays_to_the_same_books() -> None:
    fund = f.domain_fund(1_000)
    meta = f.meta("finance-2", Role.FINANCE)
    fund.top_up(amount_fen=500, meta=meta)
    fund.commit(payout_id=PAYOUT, amount_fen=300, meta=meta)
    fund.commit(payout_id=OTHER_PAYOUT, amount_fen=200, meta=meta)
    fund.release(payout_id=OTHER_PAYOUT, amount_fen=200, meta=meta)
    fund.record_payment(payout_id=PAYOUT, amount_fen=300, meta=meta)
    fund.record_recovery(payout_id=PAYOUT, amount_fen=50, meta=meta)

    events = fund.collect_events()
    rebuilt = f.replay(Fund, events)

    assert f.names_of(events) == [
        "Allocated",
        "ToppedUp",
        "Committed",
        "Committed",
        "Released",
        "Paid",
        "Recovered",
    ]
    assert all(f.meta_of(e) == meta for e in events[1:])
    assert (rebuilt.allocated_fen, rebuilt.committed_fen, rebuilt.paid_fen) == (1_500, 0, 300)
    assert (rebuilt.recovered_fen, rebuilt.available_fen) == (50, 1_250)


# -- the books balance under any sequence of commands ---------------------------------------


class FundBooks(RuleBasedStateMachine):
    """Drives one fund with random commands beside a plain model of what it should hold."""

    def __init__(self) -> None:
        super().__init__()
        self.fund: Fund
        self.allocated = 0
        self.committed: dict[UUID, int] = {}
        self.paid: dict[UUID, int] = {}
        self.recovered: dict[UUID, int] = {}
        self.serial = 0

    def _next_payout(self) -> UUID:
        self.serial += 1
        return uuid.UUID(int=self.serial)

    @initialize(amount=st.integers(min_value=0, max_value=10**9))
    def allocate(self, amount: int) -> None:
        self.fund = f.domain_fund(amount)
        self.allocated = amount

    @rule(amount=st.integers(min_value=1, max_value=10**8))
    def top_up(self, amount: int) -> None:
        self.fund.top_up(amount_fen=amount, meta=f.meta())
        self.allocated += amount

    @rule(amount=st.integers(min_value=1, max_value=10**9))
    def commit(self, amount: int) -> None:
        payout_id = self._next_payout()
        if amount > self.available:
            with pytest.raises(RuleViolationError) as caught:
                self.fund.commit(payout_id=payout_id, amount_fen=amount, meta=f.meta())
            assert caught.value.rule_id == "FUND-INSUFFICIENT"
            return
        self.fund.commit(payout_id=payout_id, amount_fen=amount, meta=f.meta())
        self.committed[payout_id] = amount

    @precondition(lambda self: bool(self.committed))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        payout_id = data.draw(st.sampled_from(sorted(self.committed)))
        self.fund.release(payout_id=payout_id, amount_fen=self.committed[payout_id], meta=f.meta())
        del self.committed[payout_id]

    @precondition(lambda self: bool(self.committed))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        payout_id = data.draw(st.sampled_from(sorted(self.committed)))
        amount = self.committed[payout_id]
        self.fund.record_payment(payout_id=payout_id, amount_fen=amount, meta=f.meta())
        self.paid[payout_id] = self.committed.pop(payout_id)

    @precondition(lambda self: bool(self.paid))
    @rule(data=st.data())
    def recover(self, data: st.DataObject) -> None:
        payout_id = data.draw(st.sampled_from(sorted(self.paid)))
        # The payout bounds its own recovery; the fund, what it paid out and has not got back.
        outstanding = sum(self.paid.values()) - sum(self.recovered.values())
        amount = data.draw(st.integers(min_value=1, max_value=outstanding + 10))
        if amount > outstanding:
            with pytest.raises(RuleViolationError) as caught:
                self.fund.record_recovery(payout_id=payout_id, amount_fen=amount, meta=f.meta())
            assert caught.value.rule_id == "FUND-RECOVERY"
            return
        self.fund.record_recovery(payout_id=payout_id, amount_fen=amount, meta=f.meta())
        self.recovered[payout_id] = self.recovered.get(payout_id, 0) + amount

    @property
    def available(self) -> int:
        return (
            self.allocated
            - sum(self.committed.values())
            - sum(self.paid.values())
            + sum(self.recovered.values())
        )

    @invariant()
    def books_balance_and_match_the_model(self) -> None:
        fund = self.fund
        assert fund.allocated_fen == self.allocated
        assert fund.committed_fen == sum(self.committed.values())
        assert fund.paid_fen == sum(self.paid.values())
        assert fund.recovered_fen == sum(self.recovered.values())
        assert fund.available_fen == self.available
        assert fund.allocated_fen == (
            fund.available_fen + fund.committed_fen + fund.paid_fen - fund.recovered_fen
        )

    @invariant()
    def available_never_goes_negative(self) -> None:
        assert self.fund.available_fen >= 0

    def teardown(self) -> None:
        if not hasattr(self, "fund"):
            return
        rebuilt = f.replay(Fund, self.fund.collect_events())
        assert rebuilt.available_fen == self.fund.available_fen
        assert_balanced(rebuilt)


def test_for_any_sequence_of_fund_commands_the_books_balance_and_available_stays_non_negative() -> (
    None
):
    run_state_machine_as_test(
        FundBooks, settings=settings(max_examples=60, stateful_step_count=30, deadline=None)
    )


def test_top_ups_cannot_grow_a_fund_past_the_largest_amount() -> None:
    from disburse.domain.money import MAX_FEN  # noqa: PLC0415 - one test's limit

    fund = f.domain_fund(MAX_FEN - 10)
    fund.top_up(amount_fen=10, meta=f.meta("finance-1", Role.FINANCE))
    with pytest.raises(InvalidInputError, match="MONEY-FEN"):
        fund.top_up(amount_fen=1, meta=f.meta("finance-1", Role.FINANCE))
    assert fund.allocated_fen == MAX_FEN
