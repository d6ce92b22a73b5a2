"""Bulk approval: each payout decided as alone, a chunk per transaction, on both stores."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from disburse.application.payouts import Approval, Approved
from disburse.bootstrap import initialise
from disburse.domain.payout import PayoutStatus
from tests import factories as f
from tests.integration.test_store import _force_race

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from tests.conftest import LedgerFactory


def _rules(outcomes: list[Approved]) -> list[str | None]:
    return [None if o.refusal is None else o.refusal.rule_id for o in outcomes]


def test_mixed_refusals_are_reported_per_payout_and_write_nothing(ledger: Ledger) -> None:
    place = f.county(ledger)
    good, sod, stale, other = f.requested_stipends(ledger, place, 4)
    ledger.payouts.reject(f.finance(), other, reason="attendance sheet unsigned")
    seen = ledger.payouts.get(stale).version - 1  # as it was before its last change
    ledger.store.chunk_size = 2  # the refusals fall in both chunks
    before = {p: ledger.payouts.get(p).version for p in (sod, stale, other)}

    outcomes = ledger.payouts.approve_many(
        f.finance(),
        [
            Approval(good),
            Approval(stale, seen),  # changed since the approver saw it
            Approval(other),  # rejected already
            Approval(good),  # named twice
        ],
    )
    assert _rules(outcomes) == [None, "IF-MATCH", "PAYOUT-STATE", "APPROVAL-DUP"]
    assert outcomes[0].status is PayoutStatus.APPROVED
    # the requester, now in finance, may not approve what they requested
    [mine] = ledger.payouts.approve_many(f.finance("clerk-1"), [Approval(sod)])
    assert mine.refusal is not None
    assert mine.refusal.rule_id == "PAYOUT-SOD"
    assert {p: ledger.payouts.get(p).version for p in (sod, stale, other)} == before
    assert ledger.funds.get(place.fund_id).committed_fen == 150_000


def test_a_fund_that_runs_out_mid_chunk_refuses_the_payouts_after_it(ledger: Ledger) -> None:
    place = f.county(ledger, budget_fen=450_000)  # three stipends of 1500.00
    payouts = f.requested_stipends(ledger, place, 5)
    outcomes = ledger.payouts.approve_many(f.finance(), [Approval(p) for p in payouts])
    assert _rules(outcomes) == [None, None, None, "FUND-INSUFFICIENT", "FUND-INSUFFICIENT"]
    fund = ledger.funds.get(place.fund_id)
    assert (fund.committed_fen, fund.available_fen) == (450_000, 0)
    statuses = [ledger.payouts.get(p).status for p in payouts]
    assert statuses == [PayoutStatus.APPROVED] * 3 + [PayoutStatus.REQUESTED] * 2


def test_bulk_approval_writes_what_one_by_one_would(ledger: Ledger) -> None:
    """Same events, same order of kinds, as approving each payout by itself."""
    ledger.store.chunk_size = 3
    results: list[object] = []
    for region, approve in (
        ("220221", lambda ps: ledger.payouts.approve_many(f.finance(), [Approval(p) for p in ps])),
        ("220281", lambda ps: [ledger.payouts.approve(f.finance(), p) for p in ps]),
    ):
        place = f.county(ledger, region=region, budget_fen=900_000)
        payouts = f.requested_stipends(ledger, place, 6)
        head = ledger.store.recorder.max_notification_id() or 0
        approve(payouts)
        written = ledger.store.recorder.select_notifications(head + 1, 100)
        results.append([n.topic.rpartition(".")[2] for n in written])
        fund = ledger.funds.get(place.fund_id)
        results.append((fund.committed_fen, fund.available_fen))
    assert results[0] == results[2]
    assert results[1] == results[3] == (900_000, 0)


def test_two_concurrent_bulk_approvals_approve_each_payout_once(
    open_ledger: LedgerFactory,
) -> None:
    setup = open_ledger()
    initialise(setup)
    place = f.county(setup, budget_fen=100_000_000)
    payouts = f.requested_stipends(setup, place, 8)
    racers = [open_ledger(), open_ledger()]
    _force_race(racers)
    outcomes: dict[str, list[Approved]] = {}

    def approve(racer: Ledger, actor: str) -> None:
        outcomes[actor] = list(
            racer.payouts.approve_many(f.finance(actor), [Approval(p) for p in payouts])
        )

    threads = [
        threading.Thread(target=approve, args=(racer, f"finance-{n}"))
        for n, racer in enumerate(racers, start=1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(outcomes) == {"finance-1", "finance-2"}
    accepted = [sum(o.refusal is None for o in results) for results in outcomes.values()]
    assert sorted(accepted) == [0, 8]  # one bulk wins whole, the other is refused per payout
    check = open_ledger()
    for payout_id in payouts:
        payout = check.payouts.get(payout_id)
        assert payout.status is PayoutStatus.APPROVED
        assert len(payout.approvers) == 1
    assert check.funds.get(place.fund_id).committed_fen == 8 * 150_000
