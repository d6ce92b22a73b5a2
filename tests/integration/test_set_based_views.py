"""Views apply a batch set-based: the same rows as event by event, and all or nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from disburse.domain.payout import PayoutStatus
from disburse.readside.audit import AuditView
from disburse.readside.base import event_type
from disburse.readside.runner import Projector
from tests import factories as f
from tests.integration.test_projector import busy_county

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.readside.base import Position
    from disburse.readside.db import Tx
    from disburse.readside.views import Views


def _rebuilt_in_batches_of(views: Views, size: int) -> None:
    projector = views.projector
    Projector(
        projector.store, projector.db, list(projector.views.values()), batch_size=size
    ).rebuild()


@pytest.mark.parametrize("size", [1, 7, 100_000])
def test_views_built_in_batches_of_any_size_equal_the_live_ones_row_for_row(
    ledger: Ledger, views: Views, size: int
) -> None:
    """One event per batch, a few, or the whole log in one batch: the same rows."""
    busy_county(ledger, views)
    live = f.dump_views(views)

    _rebuilt_in_batches_of(views, size)

    assert f.dump_views(views) == live


def test_a_later_event_of_a_batch_reads_what_an_earlier_one_of_the_same_batch_changed(
    ledger: Ledger, views: Views
) -> None:
    """A payout requested, approved, batched, paid, partly recovered, all in one batch."""
    story = f.money_story(ledger)
    head = views.projector.head()

    assert views.catch_up() == head  # one batch of the default size holds the whole log
    assert head < views.projector.batch_size

    paid = views.queue.payout(story.paid)
    assert paid is not None
    assert paid.status == PayoutStatus.RECOVERED
    assert (paid.recovery_ordered_fen, paid.recovered_fen) == (50_000, 50_000)
    reissued = views.queue.payout(story.reissued)
    assert reissued is not None
    assert reissued.status == PayoutStatus.PAID
    [first, second] = views.queue.batches(story.place.fund_id)
    assert (first.results, first.paid_count, first.failed_count) == (2, 1, 1)
    assert (second.results, second.paid_count, second.paid_fen) == (1, 1, 150_000)
    balance = views.balances.fund(str(story.place.fund_id))
    assert balance is not None
    assert balance.totals.paid_fen == 300_000
    assert balance.totals.recovered_fen == 50_000
    assert views.check(ledger.store) == []


def _position_of(ledger: Ledger, name: str) -> int:
    """The log position of the one event of type ``name``."""
    store = ledger.store
    [position] = [
        n.id
        for n in store.recorder.select_notifications(start=1, limit=10_000)
        if event_type(store.mapper.to_domain_event(n)) == name
    ]
    return position


def _fails_at(views: Views, position: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue's handler raises on the event at ``position``, once earlier ones are in memory."""
    queue = views.projector.view("queue")
    process = queue.process

    def failing(tx: Tx, event: Any, where: Position) -> None:
        if where.position == position:
            raise RuntimeError("queue handler bug")
        process(tx, event, where)

    monkeypatch.setattr(queue, "process", failing)


def test_a_batch_failing_midway_leaves_nothing_of_it_and_the_stall_names_the_event(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    place = f.county(ledger)
    [payout] = f.requested_stipends(ledger, place, 1)
    ledger.payouts.approve(f.finance("finance-1"), payout)
    poisoned = _position_of(ledger, "Payout.Approved")
    [later] = f.requested_stipends(ledger, place, 1)
    _fails_at(views, poisoned, monkeypatch)

    views.catch_up()

    assert views.projector.positions()["queue"] == poisoned - 1
    stall = views.projector.stalls()["queue"]
    assert (stall.position, stall.event_type) == (poisoned, "Payout.Approved")
    row = views.queue.payout(payout)
    assert row is not None
    assert (row.status, row.version) == (PayoutStatus.REQUESTED, 1)  # nothing after it
    assert views.queue.payout(later) is None
    monkeypatch.undo()
    views.catch_up()
    assert views.projector.stalls() == {}
    row = views.queue.payout(payout)
    assert row is not None
    assert row.version == 2
    assert views.queue.payout(later) is not None


def test_a_write_that_fails_only_when_the_batch_is_written_stalls_on_its_event(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush fails (a row written twice), not the handler: the stall still names it."""
    f.county(ledger)
    f.register(ledger)
    poisoned = ledger.store.last_written()
    f.register(ledger)
    audit = views.projector.view("audit")
    assert isinstance(audit, AuditView)
    record = audit._record  # noqa: SLF001 - the step whose row is written at the batch's end

    def twice(tx: Tx, event: Any, where: Position) -> None:
        record(tx, event, where)
        if where.position == poisoned:
            record(tx, event, where)  # the same audit_events row again

    monkeypatch.setattr(audit, "_record", twice)

    views.catch_up()

    assert views.projector.positions()["audit"] == poisoned - 1
    stall = views.projector.stalls()["audit"]
    assert (stall.position, stall.event_type) == (poisoned, "Person.Registered")
    assert "IntegrityError" in stall.error or "UniqueViolation" in stall.error
    with views.db.read() as tx:
        row = tx.one("SELECT MAX(position) AS p FROM audit_events")
    assert row is not None
    assert row["p"] == poisoned - 1
