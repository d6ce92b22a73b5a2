"""The application's unit of work: all or nothing, and clear errors for what is missing."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from disburse.domain.errors import ConflictError, NotFoundError
from disburse.domain.fund import Fund, FundSource
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.persistence.batching import Changes


def _allocate_blindly(changes: Changes) -> None:
    """A command that writes a fund without looking: conflicts every time after the first."""
    changes.add(
        Fund.allocate(
            source=FundSource.EAST_WEST,
            region_code=f.COUNTY,
            year=2024,
            amount_fen=1,
            meta=f.meta(),
        )
    )


def test_a_conflict_that_persists_after_the_retry_is_reported_as_concurrent_change(
    memory_ledger: Ledger,
) -> None:
    memory_ledger.store.transact(_allocate_blindly)
    with pytest.raises(ConflictError) as caught:
        memory_ledger.store.transact(_allocate_blindly)
    assert caught.value.rule_id == "CONCURRENT-CHANGE"


def test_nothing_of_a_refused_command_is_written(memory_ledger: Ledger) -> None:
    place = f.county(memory_ledger)
    before = memory_ledger.store.recorder.max_notification_id()

    def half_done(changes: Changes) -> None:
        fund = memory_ledger.funds.get(place.fund_id)
        fund.top_up(amount_fen=500, meta=f.meta())
        changes.add(fund)
        memory_ledger.posts.get(uuid.uuid4())  # refused before anything is saved

    with pytest.raises(NotFoundError):
        memory_ledger.store.transact(half_done)
    assert memory_ledger.store.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    ("lookup", "rule_id"),
    [
        ("people", "PERSON-NOT-FOUND"),
        ("funds", "FUND-NOT-FOUND"),
        ("posts", "POST-NOT-FOUND"),
    ],
)
def test_an_unknown_id_is_a_not_found_error_naming_what_was_sought(
    memory_ledger: Ledger, lookup: str, rule_id: str
) -> None:
    service = getattr(memory_ledger, lookup)
    with pytest.raises(NotFoundError) as caught:
        service.get(uuid.uuid4())
    assert caught.value.rule_id == rule_id
    assert caught.value.field is not None


def test_an_id_of_another_kind_of_record_is_not_found(memory_ledger: Ledger) -> None:
    place = f.county(memory_ledger)
    with pytest.raises(NotFoundError) as caught:
        memory_ledger.posts.get(place.fund_id)
    assert caught.value.rule_id == "POST-NOT-FOUND"
