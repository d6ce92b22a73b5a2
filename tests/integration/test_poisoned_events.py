"""The read side is never wedged by an event the write side stored (issue 14, section 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from structlog.testing import capture_logs

from disburse.domain.fund import Fund
from disburse.domain.person import Person
from disburse.readside.runner import ViewLagError
from disburse.readside.stalls import SkipRefusedError
from tests import factories as f
from tests.planting import (
    NUL_REASON,
    SURROGATE_NAME,
    poison,
    undecodable_registration,
    unreadable_registration,
)

REPLACEMENT = "\ufffd"  # what views store for a NUL or a lone surrogate

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.readside.base import Position
    from disburse.readside.db import Tx
    from disburse.readside.views import Views


def test_planted_lone_surrogate_name_and_nul_reason_are_in_the_log_as_sent(
    ledger: Ledger,
) -> None:
    person, fund = poison(ledger)
    ledger.store.repository.cache = None  # read back from the store, not the cache

    assert ledger.store.load(Person, person, "person").name == SURROGATE_NAME
    events = ledger.store.repository.event_store.get(fund)
    assert [getattr(e, "meta").reason for e in events][-1] == NUL_REASON  # noqa: B009
    assert isinstance(ledger.store.load(Fund, fund, "fund"), Fund)


def test_views_store_a_lone_surrogate_and_a_nul_as_replacement_characters(
    ledger: Ledger, views: Views
) -> None:
    person, fund = poison(ledger)

    views.catch_up()

    assert views.projector.stalls() == {}
    assert {s.lag for s in views.projector.status()} == {0}
    [registered] = views.audit.trail(person, event_types=["Person.Registered"])
    assert registered.payload["name"] == f"{REPLACEMENT}**"
    topped = views.audit.trail(fund, event_types=["Fund.ToppedUp"])
    assert [e.reason for e in topped] == [NUL_REASON.replace("\x00", REPLACEMENT)]
    balance = views.balances.fund(str(fund))
    assert balance is not None
    assert balance.totals.allocated_fen == 100_000_000 + 1_000


def test_check_and_rebuild_work_on_a_store_holding_such_events(
    ledger: Ledger, views: Views
) -> None:
    poison(ledger)
    f.register(ledger)
    views.catch_up()
    live = f.dump_views(views)

    views.projector.rebuild()

    assert views.check(ledger.store) == []
    assert f.dump_views(views) == live


def _audit_fails_on(views: Views, position: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit view's handler raises on the event at ``position`` (a bug in one handler)."""
    audit = views.projector.view("audit")
    process = audit.process

    def failing(tx: Tx, event: Any, where: Position) -> None:
        if where.position == position:
            raise RuntimeError("audit handler bug")
        process(tx, event, where)

    monkeypatch.setattr(audit, "process", failing)


def _a_failing_event(ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch) -> int:
    f.county(ledger)
    f.register(ledger)
    poisoned = ledger.store.last_written()
    f.register(ledger)
    _audit_fails_on(views, poisoned, monkeypatch)
    return poisoned


def test_a_view_that_cannot_apply_an_event_stalls_before_it_and_the_others_go_on(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned = _a_failing_event(ledger, views, monkeypatch)
    head = views.projector.head()

    with capture_logs() as logs:
        views.catch_up()
        views.catch_up()  # tried again: still stalled, logged once

    positions = views.projector.positions()
    assert positions["audit"] == poisoned - 1
    assert {n: p for n, p in positions.items() if n != "audit"} == dict.fromkeys(
        set(positions) - {"audit"}, head
    )
    stall = views.projector.stalls()["audit"]
    assert (stall.position, stall.event_type) == (poisoned, "Person.Registered")
    assert stall.error == "RuntimeError: audit handler bug"
    assert [(e["event"], e["view"], e["position"], e["event_type"]) for e in logs] == [
        ("view_stalled", "audit", poisoned, "Person.Registered")
    ]
    views.wait_for(head, timeout=0.05, names=["balances", "alerts", "queue", "roster"])
    with pytest.raises(ViewLagError, match=f"stalled on the event at position {poisoned}"):
        views.wait_for(head, timeout=5, names=["audit"])
    stalled = f"view audit is stalled on the event at position {poisoned} (Person.Registered)"
    assert views.check(ledger.store) == [f"{stalled}: RuntimeError: audit handler bug"]


def test_a_stalled_view_resumes_by_itself_once_its_handler_is_fixed(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    _a_failing_event(ledger, views, monkeypatch)
    views.catch_up()
    monkeypatch.undo()  # the fix is deployed

    with capture_logs() as logs:
        views.catch_up()

    assert views.projector.stalls() == {}
    assert {s.lag for s in views.projector.status()} == {0}
    assert [e["event"] for e in logs] == ["view_resumed"]


def test_an_operator_skips_the_event_a_view_is_stalled_on_with_a_reason_kept_for_good(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    poisoned = _a_failing_event(ledger, views, monkeypatch)
    views.catch_up()

    with pytest.raises(SkipRefusedError, match=f"stalled at position {poisoned}"):
        views.projector.skip("audit", poisoned + 1, reason="wrong event", by="cli:ops")
    with pytest.raises(SkipRefusedError, match="not stalled"):
        views.projector.skip("balances", poisoned, reason="not stalled", by="cli:ops")
    skip = views.projector.skip("audit", poisoned, reason="INC-7: handler bug", by="cli:ops")
    views.catch_up()

    assert views.projector.stalls() == {}
    assert {s.lag for s in views.projector.status()} == {0}
    assert views.projector.skips() == [skip]
    assert (skip.position, skip.event_type, skip.reason) == (
        poisoned,
        "Person.Registered",
        "INC-7: handler bug",
    )
    assert skip.error == "RuntimeError: audit handler bug"
    assert views.check(ledger.store) == []
    live = f.dump_views(views)
    views.projector.rebuild()  # the handler still fails: the skip holds on a rebuild
    assert views.projector.stalls() == {}
    assert f.dump_views(views) == live
    assert views.projector.skips() == [skip]


def test_an_event_missing_a_field_stalls_only_the_view_whose_handler_needs_it(
    ledger: Ledger, views: Views
) -> None:
    f.county(ledger)
    poisoned = unreadable_registration(ledger)
    f.register(ledger)

    views.catch_up()

    stalls = views.projector.stalls()
    assert set(stalls) == {"alerts"}
    assert (stalls["alerts"].position, stalls["alerts"].event_type) == (
        poisoned,
        "Person.Registered",
    )
    head = views.projector.head()
    assert all(p == head for n, p in views.projector.positions().items() if n != "alerts")


def test_an_event_that_no_longer_reads_back_stalls_only_the_views_that_read_its_type(
    ledger: Ledger, views: Views
) -> None:
    f.county(ledger)
    poisoned = undecodable_registration(ledger)
    f.register(ledger)
    readers = {n for n, v in views.projector.views.items() if "Person.Registered" in v.handled()}

    views.catch_up()

    stalls = views.projector.stalls()
    assert set(stalls) == readers
    assert {(s.position, s.event_type) for s in stalls.values()} == {
        (poisoned, "Person.Registered")
    }
    head = views.projector.head()
    others = {n: p for n, p in views.projector.positions().items() if n not in readers}
    assert others
    assert set(others.values()) == {head}
