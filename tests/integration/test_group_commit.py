"""Group commit: commands of concurrent callers saved in one transaction, each on its own."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest
from eventsourcing.persistence import OperationalError

from disburse.domain.errors import DomainError
from disburse.domain.payout import PayoutStatus
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from disburse.application.ledger import Ledger


def _stipend(ledger: Ledger) -> tuple[UUID, UUID]:
    place = f.county(ledger)
    post_id, _person = f.staffed_post(ledger, place)
    payout = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert payout is not None
    return place.fund_id, payout


def _as_one_group(ledger: Ledger, commands: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run the commands in threads, queued while the group is held: one group commits all."""
    outcomes: dict[str, Any] = {}
    groups = ledger.store.groups

    def run(name: str, command: Callable[[], Any]) -> None:
        try:
            outcomes[name] = command()
        except Exception as error:  # noqa: BLE001 - each caller's own outcome is the point
            outcomes[name] = error

    before = (groups.groups, groups.requests)
    with groups.held():
        threads = [threading.Thread(target=run, args=item) for item in commands.items()]
        for thread in threads:
            thread.start()
        for _ in range(2000):
            if groups.waiting == len(commands):
                break
            threading.Event().wait(0.005)
        assert groups.waiting == len(commands)
    for thread in threads:
        thread.join(timeout=30)
    assert (groups.groups, groups.requests) == (before[0] + 1, before[1] + len(commands))
    return outcomes


@pytest.fixture
def grouped(ledger: Ledger) -> Ledger:
    assert ledger.store.group_commit
    return ledger


def test_a_conflicting_command_fails_alone_and_the_group_commits(grouped: Ledger) -> None:
    ledger = grouped
    fund_id, payout = _stipend(ledger)
    head = ledger.store.recorder.max_notification_id() or 0
    outcomes = _as_one_group(
        ledger,
        {
            "first": lambda: ledger.payouts.approve(f.finance("finance-1"), payout),
            "second": lambda: ledger.payouts.approve(f.finance("finance-2"), payout),
            "person": lambda: f.register(ledger),
        },
    )
    approvals = [outcomes["first"], outcomes["second"]]
    assert approvals.count(PayoutStatus.APPROVED) == 1, approvals
    [refusal] = [o for o in approvals if isinstance(o, DomainError)]
    assert refusal.rule_id == "PAYOUT-STATE"
    assert ledger.people.get(outcomes["person"]).name
    assert len(ledger.payouts.get(payout).approvers) == 1
    assert ledger.funds.get(fund_id).committed_fen == 150_000
    written = ledger.store.recorder.select_notifications(head + 1, 100)
    assert len({n.id for n in written}) == len(written) == 3  # approved, committed, registered


def test_a_store_failure_mid_group_reaches_every_caller_and_writes_nothing(
    grouped: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = grouped
    _fund_id, payout = _stipend(ledger)
    head = ledger.store.recorder.max_notification_id()

    def down(*_: object, **__: object) -> None:
        raise OperationalError("the database went away")

    monkeypatch.setattr(ledger.store, "save", down)
    outcomes = _as_one_group(
        ledger,
        {
            "approval": lambda: ledger.payouts.approve(f.finance(), payout),
            "person": lambda: f.register(ledger),
        },
    )
    assert all(isinstance(o, OperationalError) for o in outcomes.values()), outcomes
    monkeypatch.undo()
    assert ledger.store.recorder.max_notification_id() == head
    assert ledger.payouts.get(payout).status is PayoutStatus.REQUESTED


def test_a_lone_command_commits_at_once(grouped: Ledger) -> None:
    """At low load nobody waits: a request with no one queued leads its own group."""
    ledger = grouped
    groups = ledger.store.groups
    before = groups.groups
    f.register(ledger)
    assert (groups.groups, groups.waiting) == (before + 1, 0)


def test_a_bug_in_one_command_fails_only_its_caller(grouped: Ledger) -> None:
    ledger = grouped

    def broken() -> None:
        def decide(_: object) -> None:
            raise ZeroDivisionError

        ledger.store.transact(decide)

    outcomes = _as_one_group(ledger, {"broken": broken, "person": lambda: f.register(ledger)})
    assert isinstance(outcomes["broken"], ZeroDivisionError)
    assert ledger.people.get(outcomes["person"]).name
