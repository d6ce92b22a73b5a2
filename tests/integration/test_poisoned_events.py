"""The read side is never wedged by an event the write side stored (issue 14, section 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.fund import Fund
from disburse.domain.person import Person
from tests import factories as f
from tests.planting import NUL_REASON, SURROGATE_NAME, poison

REPLACEMENT = "\ufffd"  # what views store for a NUL or a lone surrogate

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.views import Views


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
