"""The life of a stipend payout from request to bank result and recovery, on both stores."""

from __future__ import annotations

import threading
from datetime import date
from typing import TYPE_CHECKING

import pytest

from disburse.application.payouts import BankResult
from disburse.bootstrap import initialise
from disburse.domain.batch import Outcome
from disburse.domain.errors import ConflictError, DomainError, RuleViolationError
from disburse.domain.fund import FundSource
from disburse.domain.payout import PayoutStatus
from tests import factories as f
from tests.integration.test_store import _force_race

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from tests.conftest import LedgerFactory


def _stipend(ledger: Ledger, *, budget_fen: int = 100_000_000) -> tuple[f.County, UUID, UUID]:
    """A county, and a requested stipend of 1500.00 yuan for January; returns the payout too."""
    place = f.county(ledger, budget_fen=budget_fen)
    post_id, person = f.staffed_post(ledger, place)
    payout = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert payout is not None
    return place, payout, person


def _paid(ledger: Ledger, batch_id: UUID, payout_id: UUID, reference: str = "BOC-1") -> None:
    ledger.payouts.record_results(
        f.finance(),
        batch_id,
        results=[BankResult(payout_id, Outcome.PAID, bank_reference=reference)],
        control_count=1,
        control_total_fen=150_000,
    )


def test_a_stipend_is_approved_batched_paid_and_partly_recovered(ledger: Ledger) -> None:
    place, payout, _ = _stipend(ledger)
    assert ledger.payouts.approve(f.finance(), payout) is PayoutStatus.APPROVED
    assert ledger.funds.get(place.fund_id).committed_fen == 150_000
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    _paid(ledger, batch, payout)
    assert ledger.payouts.get(payout).status is PayoutStatus.PAID
    assert ledger.payouts.get_batch(batch).is_reconciled
    ledger.payouts.order_recovery(
        f.finance(),
        payout,
        amount_fen=50_000,
        case_reference="ALERT-7",
        reason="worked 15 days, not 22",
    )
    ledger.payouts.record_recovery(
        f.finance(), payout, amount_fen=50_000, received_on=date(2024, 4, 2)
    )
    fund = ledger.funds.get(place.fund_id)
    assert (fund.paid_fen, fund.recovered_fen, fund.committed_fen) == (150_000, 50_000, 0)
    assert (
        fund.allocated_fen
        == fund.available_fen + fund.committed_fen + fund.paid_fen - fund.recovered_fen
    )
    assert ledger.payouts.get(payout).status is PayoutStatus.RECOVERED


def test_a_failed_payment_is_reissued_to_the_corrected_own_account(ledger: Ledger) -> None:
    place, payout, person = _stipend(ledger)
    ledger.payouts.approve(f.finance(), payout)
    first = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    ledger.payouts.record_results(
        f.finance(),
        first,
        results=[BankResult(payout, Outcome.FAILED, reason="account closed")],
        control_count=1,
        control_total_fen=150_000,
    )
    with pytest.raises(RuleViolationError, match="PAY-ONE-CARD"):
        ledger.payouts.reissue(f.finance(), payout, account="6217000011112222", reason="new card")
    ledger.people.change_bank_account(
        f.clerk(), person, bank_account="6217000011112222", reason="card replaced"
    )
    ledger.payouts.reissue(f.finance(), payout, account="6217000011112222", reason="new card")
    second = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    _paid(ledger, second, payout, reference="BOC-2")
    assert ledger.payouts.get(payout).account == "6217000011112222"
    assert ledger.funds.get(place.fund_id).paid_fen == 150_000


def test_the_approver_must_differ_from_the_requester(ledger: Ledger) -> None:
    _, payout, _ = _stipend(ledger)
    same_person_as_finance = f.finance("clerk-1")  # requested the stipend, now in finance
    with pytest.raises(RuleViolationError, match="PAYOUT-SOD"):
        ledger.payouts.approve(same_person_as_finance, payout)


def test_only_finance_approves(ledger: Ledger) -> None:
    _, payout, _ = _stipend(ledger)
    with pytest.raises(RuleViolationError, match="PAYOUT-ROLE"):
        ledger.payouts.approve(f.clerk("clerk-2"), payout)


def test_approval_beyond_the_fund_is_refused_and_rejection_releases(ledger: Ledger) -> None:
    place, payout, _ = _stipend(ledger, budget_fen=100_000)
    with pytest.raises(RuleViolationError, match="FUND-INSUFFICIENT"):
        ledger.payouts.approve(f.finance(), payout)
    assert ledger.payouts.get(payout).status is PayoutStatus.REQUESTED
    ledger.funds.top_up(
        f.finance(), place.fund_id, amount_fen=100_000, reason="supplementary budget"
    )
    ledger.payouts.approve(f.finance(), payout)
    ledger.payouts.reject(f.finance("finance-2"), payout, reason="attendance sheet unsigned")
    fund = ledger.funds.get(place.fund_id)
    assert (fund.committed_fen, fund.available_fen) == (0, 200_000)


def test_a_payout_on_notice_waits_and_an_objection_holds_it(ledger: Ledger) -> None:
    f.publish(ledger, f.regional_policy(payouts={"notice_days": 7}))
    _, payout, _ = _stipend(ledger)  # requested on 2024-03-01: notice until 2024-03-07
    assert ledger.payouts.get(payout).status is PayoutStatus.ON_NOTICE
    with pytest.raises(RuleViolationError, match="PAYOUT-NOTICE"):
        ledger.payouts.approve(f.finance(), payout)
    objection = ledger.payouts.lodge_objection(
        f.clerk("villager"), payout, grounds="did not work in January"
    )
    assert ledger.payouts.get(payout).status is PayoutStatus.HELD
    ledger.payouts.resolve_objection(
        f.inspector(), payout, objection_id=objection, upheld=True, reason="confirmed absent"
    )
    assert ledger.payouts.get(payout).status is PayoutStatus.REJECTED


def test_a_large_payout_needs_two_different_approvers(ledger: Ledger) -> None:
    f.publish(ledger, f.regional_policy(payouts={"second_approval_above_fen": 100_000}))
    place, payout, _ = _stipend(ledger)
    assert ledger.payouts.approve(f.finance("finance-1"), payout) is PayoutStatus.FIRST_APPROVED
    assert ledger.funds.get(place.fund_id).committed_fen == 0
    with pytest.raises(RuleViolationError, match="PAYOUT-SOD"):
        ledger.payouts.approve(f.finance("finance-1"), payout)
    assert ledger.payouts.approve(f.finance("finance-2"), payout) is PayoutStatus.APPROVED
    assert ledger.funds.get(place.fund_id).committed_fen == 150_000


def test_bank_results_must_match_the_batch(ledger: Ledger) -> None:
    place, payout, _ = _stipend(ledger)
    ledger.payouts.approve(f.finance(), payout)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    stranger = f.staffed_post(ledger, place)[0]
    cases: list[tuple[list[BankResult], int, int, str]] = [
        ([BankResult(payout, Outcome.PAID, bank_reference="R")], 1, 149_999, "BATCH-TOTALS"),
        (
            [BankResult(stranger, Outcome.PAID, bank_reference="R")],
            1,
            150_000,
            "BATCH-UNKNOWN-PAYOUT",
        ),
    ]
    for results, count, total, rule in cases:
        with pytest.raises(DomainError, match=rule):
            ledger.payouts.record_results(
                f.finance(), batch, results=results, control_count=count, control_total_fen=total
            )
    _paid(ledger, batch, payout)
    with pytest.raises(ConflictError, match="BATCH-DUP-RESULT"):
        ledger.payouts.record_results(
            f.finance(),
            batch,
            results=[BankResult(payout, Outcome.FAILED, reason="closed")],
            control_count=1,
            control_total_fen=150_000,
        )
    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[
            BankResult(payout, Outcome.REVERSED, bank_reference="RV-1", reason="returned by bank")
        ],
        control_count=1,
        control_total_fen=150_000,
    )
    assert ledger.payouts.get(payout).status is PayoutStatus.FAILED
    assert ledger.funds.get(place.fund_id).committed_fen == 150_000


def test_two_concurrent_approvals_of_one_payout_one_wins(open_ledger: LedgerFactory) -> None:
    setup = open_ledger()
    initialise(setup)
    place, payout, _ = _stipend(setup)
    racers = [open_ledger(), open_ledger()]
    _force_race(racers)
    outcomes: list[str] = []

    def approve(racer: Ledger, actor: str) -> None:
        try:
            racer.payouts.approve(f.finance(actor), payout)
            outcomes.append("approved")
        except ConflictError as error:
            outcomes.append(error.rule_id)

    threads = [
        threading.Thread(target=approve, args=(r, a))
        for r, a in zip(racers, ["fa", "fb"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["PAYOUT-STATE", "approved"]
    assert open_ledger().funds.get(place.fund_id).committed_fen == 150_000


def test_a_rejected_payout_stays_rejected_when_another_objection_is_resolved(
    ledger: Ledger,
) -> None:
    f.publish(ledger, f.regional_policy(payouts={"notice_days": 7}))
    _, payout, _ = _stipend(ledger)
    first = ledger.payouts.lodge_objection(f.clerk("villager-1"), payout, grounds="absent")
    second = ledger.payouts.lodge_objection(f.clerk("villager-2"), payout, grounds="absent too")
    ledger.payouts.resolve_objection(
        f.inspector(), payout, objection_id=first, upheld=True, reason="absent"
    )
    with pytest.raises(ConflictError, match="PAYOUT-STATE"):
        ledger.payouts.resolve_objection(
            f.inspector(), payout, objection_id=second, upheld=False, reason="x"
        )
    assert ledger.payouts.get(payout).status is PayoutStatus.REJECTED


def test_only_finance_or_an_inspector_resolves_objections(ledger: Ledger) -> None:
    f.publish(ledger, f.regional_policy(payouts={"notice_days": 7}))
    _, payout, _ = _stipend(ledger)
    objection = ledger.payouts.lodge_objection(f.clerk("villager"), payout, grounds="absent")
    with pytest.raises(RuleViolationError, match="PAYOUT-ROLE"):
        ledger.payouts.resolve_objection(
            f.clerk(), payout, objection_id=objection, upheld=False, reason="x"
        )


def test_a_batch_is_refused_when_empty_repeating_a_payout_or_mixing_funds(ledger: Ledger) -> None:
    place, payout, _ = _stipend(ledger)
    ledger.payouts.approve(f.finance(), payout)
    with pytest.raises(DomainError, match="BATCH-EMPTY"):
        ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[])
    with pytest.raises(DomainError, match="BATCH-DUP"):
        ledger.payouts.release_batch(
            f.finance(), fund_id=place.fund_id, payout_ids=[payout, payout]
        )
    other_fund = ledger.funds.allocate(
        f.finance(), source=FundSource.EAST_WEST, region_code=f.COUNTY, year=2024, amount_fen=1
    )
    with pytest.raises(RuleViolationError, match="BATCH-FUND"):
        ledger.payouts.release_batch(f.finance(), fund_id=other_fund, payout_ids=[payout])
    assert ledger.payouts.get(payout).status is PayoutStatus.APPROVED


def test_rejections_and_cancellations_state_their_reason(ledger: Ledger) -> None:
    _, payout, _ = _stipend(ledger)
    with pytest.raises(DomainError, match="PAYOUT-REJECT"):
        ledger.payouts.reject(f.finance(), payout, reason="")
    ledger.payouts.approve(f.finance(), payout)
    with pytest.raises(DomainError, match="PAYOUT-CANCEL"):
        ledger.payouts.cancel(f.finance(), payout, reason="")
    ledger.payouts.cancel(f.finance(), payout, reason="holder moved away")
    assert ledger.payouts.get(payout).status is PayoutStatus.CANCELLED


def test_a_payment_and_its_reversal_in_one_bank_file_leave_the_money_committed_once(
    ledger: Ledger,
) -> None:
    """Each payout is loaded once per file: the reversal line sees the payment line."""
    place, payout, _ = _stipend(ledger)
    ledger.payouts.approve(f.finance(), payout)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])

    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[
            BankResult(payout, Outcome.PAID, bank_reference="BOC-1"),
            BankResult(payout, Outcome.REVERSED, bank_reference="BOC-1R", reason="returned"),
        ],
        control_count=1,
        control_total_fen=150_000,
    )

    assert ledger.payouts.get(payout).status is PayoutStatus.FAILED
    fund = ledger.funds.get(place.fund_id)
    assert (fund.committed_fen, fund.paid_fen) == (150_000, 0)


def test_two_concurrent_bank_files_pay_a_payout_once(open_ledger: LedgerFactory) -> None:
    """The fund keeps no record per payout: the payout's own state refuses the second payment."""
    setup = open_ledger()
    initialise(setup)
    place, payout, _ = _stipend(setup)
    setup.payouts.approve(f.finance(), payout)
    batch = setup.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    racers = [open_ledger(), open_ledger()]
    _force_race(racers)
    outcomes: list[str] = []

    def pay(racer: Ledger, reference: str) -> None:
        try:
            _paid(racer, batch, payout, reference)
            outcomes.append("paid")
        except ConflictError as error:
            outcomes.append(error.rule_id)

    threads = [
        threading.Thread(target=pay, args=(r, ref))
        for r, ref in zip(racers, ["BOC-1", "BOC-2"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("paid") == 1
    assert len(outcomes) == 2
    fund = open_ledger().funds.get(place.fund_id)
    assert (fund.committed_fen, fund.paid_fen) == (0, 150_000)
