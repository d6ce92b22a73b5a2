"""The projector applies each event exactly once, and rebuilt views equal live ones."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from structlog.testing import capture_logs

from disburse.domain.alert import AlertOutcome
from disburse.readside.balances import BalancesView
from disburse.readside.base import Position, View, handles
from disburse.readside.db import Tx, ViewDB
from disburse.readside.runner import Projector, ViewLagError
from disburse.readside.views import open_views
from disburse.readside.worker import BackgroundProjector
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views
    from disburse.settings import Settings


def busy_county(ledger: Ledger, views: Views) -> None:
    """Money every way it goes, alerts raised and resolved, the views caught up often."""
    story = f.money_story(ledger)
    views.catch_up()
    shared = "6222020200000058"
    f.register(ledger, account=shared)
    f.register(ledger, account=shared)
    views.catch_up()
    [alert] = views.alerts.find(rule="FRAUD-SHARED-ACCOUNT")
    f.alert_desk(ledger, views).resolve(
        f.inspector(), alert.alert_id, outcome=AlertOutcome.CONFIRMED, reason="case 3"
    )
    ledger.people.record_death(f.clerk(), story.person, died_on=date(2023, 12, 1), evidence="x")
    ledger.funds.top_up(f.finance(), story.place.fund_id, amount_fen=1_000, reason="supplement")
    views.catch_up()


def test_a_rebuilt_view_equals_the_live_one_row_for_row(ledger: Ledger, views: Views) -> None:
    busy_county(ledger, views)
    live = f.dump_views(views)
    assert live["alerts"], "the scenario raises alerts"
    assert live["balance_entries"], "and posts money"

    views.projector.rebuild()

    assert f.dump_views(views) == live
    assert views.check(ledger.store) == []


def test_queries_answer_from_the_old_view_throughout_a_rebuild_and_then_from_the_new(
    ledger: Ledger, views: Views
) -> None:
    """The rebuild fills fresh tables beside the live ones and swaps them in at once."""
    busy_county(ledger, views)
    live = f.dump_views(views)
    with views.db.transaction() as tx:  # a wrong row the rebuild will put right
        tx.execute("UPDATE queue_payouts SET amount_fen = amount_fen + 1")
    wrong = f.dump_views(views)
    assert wrong != live
    seen_during: list[dict[str, list[tuple[object, ...]]]] = []
    recorded_during: list[object] = []

    def meanwhile(_done: int, _total: int) -> None:
        seen_during.append(f.dump_views(views))  # the old views answer, whole
        if not recorded_during:  # and the live projector keeps up with new events
            recorded_during.append(f.register(ledger))
            views.catch_up()

    views.projector.batch_size = 10
    views.projector.rebuild(progress=meanwhile)

    assert len(seen_during) > 3, "the rebuild ran in several batches"
    assert all(seen["queue_payouts"] == wrong["queue_payouts"] for seen in seen_during), (
        "queries saw the old queue until the swap"
    )
    after = f.dump_views(views)
    assert after["queue_payouts"] == live["queue_payouts"]
    views.catch_up()
    assert views.projector.positions()["queue"] == ledger.store.recorder.max_notification_id()
    assert f.dump_views(views) == after  # the event recorded during the rebuild is in it
    assert views.check(ledger.store) == []


def test_a_view_whose_definition_changed_is_rebuilt_when_the_views_open(
    ledger: Ledger, views: Views, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A raised View.version drops the view's old rows and fills it again from the log."""
    busy_county(ledger, views)
    live = f.dump_views(views)
    with views.db.transaction() as tx:  # a row the old definition wrote, the new one would not
        tx.execute("DELETE FROM balance_entries")
    stale = f.dump_views(views)
    assert stale != live
    monkeypatch.setattr(BalancesView, "version", BalancesView.version + 1)

    with capture_logs() as logs:
        reopened = open_views(ledger.store, ledger.keys, settings)
    try:
        upgraded = [e for e in logs if e["event"] == "view_upgraded"]
        reopened.catch_up()

        assert [(e["view"], e["was"], e["version"]) for e in upgraded] == [
            ("balances", BalancesView.version - 1, BalancesView.version)
        ]
        assert reopened.projector.versions()["balances"] == BalancesView.version
        assert f.dump_views(reopened) == live
    finally:
        reopened.close()


def test_replaying_positions_already_applied_changes_nothing(ledger: Ledger, views: Views) -> None:
    busy_county(ledger, views)
    before = f.dump_views(views)
    notifications = ledger.store.recorder.select_notifications(start=1, limit=10_000)
    events = [(n, ledger.store.mapper.to_domain_event(n)) for n in notifications]

    applied = [views.projector.apply(view, 0, events) for view in views.projector.views.values()]

    assert applied == [False] * len(views.projector.views)
    assert f.dump_views(views) == before


def test_two_workers_racing_over_one_log_apply_each_event_once(
    ledger: Ledger, views: Views, settings: Settings
) -> None:
    f.money_story(ledger)
    other = open_views(ledger.store, ledger.keys, settings)
    for projector in (views.projector, other.projector):
        projector.batch_size = 3
    barrier = threading.Barrier(2)

    def work(target: Views) -> None:
        barrier.wait()
        target.catch_up()

    threads = [threading.Thread(target=work, args=(v,)) for v in (views, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    raced = f.dump_views(views)
    other.close()

    assert views.check(ledger.store) == []
    views.projector.rebuild()
    assert f.dump_views(views) == raced


def test_a_command_can_wait_until_the_views_show_its_own_write(
    ledger: Ledger, views: Views
) -> None:
    worker = BackgroundProjector(views.projector, interval=0.01)
    worker.start()
    try:
        fund = f.county(ledger).fund_id
        views.wait_for(ledger.store.last_written(), timeout=10)
        balance = views.balances.fund(str(fund))
        assert balance is not None
        assert balance.totals.allocated_fen == 100_000_000
    finally:
        worker.stop()


def test_waiting_for_a_view_that_does_not_move_times_out_naming_it(
    ledger: Ledger, views: Views
) -> None:
    f.county(ledger)

    with pytest.raises(ViewLagError) as lag:
        views.wait_for(ledger.store.last_written(), timeout=0.05)

    assert lag.value.view in views.projector.views
    assert lag.value.reached == 0


class _FlakyView(View):
    """Fails on its first batch, as a locked database or a dropped connection would."""

    name = "flaky"
    tables = ("flaky_funds",)
    schema = ("CREATE TABLE IF NOT EXISTS flaky_funds (fund_id TEXT PRIMARY KEY)",)

    def __init__(self) -> None:
        self.failures = 1

    @handles("Fund.Allocated")
    def _allocated(self, tx: Tx, event: Any, where: Position) -> None:  # noqa: ARG002
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database is locked")
        tx.execute("INSERT INTO flaky_funds (fund_id) VALUES (:f)", {"f": str(event.originator_id)})


def test_a_background_worker_survives_a_failed_batch_and_catches_up(
    ledger: Ledger, settings: Settings
) -> None:
    f.county(ledger)
    db = ViewDB(settings.store, settings)
    projector = Projector(ledger.store, db, [_FlakyView()])
    projector.setup()
    worker = BackgroundProjector(projector, interval=0.01)
    with capture_logs() as logs:
        worker.start()
        try:
            projector.wait(ledger.store.last_written(), timeout=10)
        finally:
            worker.stop()
            db.close()

    assert [entry["event"] for entry in logs] == ["projection_batch_failed"]
    assert "database is locked" in logs[0]["error"]
    assert projector.last_error is None
