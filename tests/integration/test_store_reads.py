"""Reads take the cached aggregate as it is; commands still get a copy of their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.fund import Fund
from disburse.domain.meta import Role
from tests import factories as f

if TYPE_CHECKING:
    from tests.conftest import LedgerFactory


def test_a_read_is_not_copied_but_a_command_gets_a_copy_of_its_own(
    open_ledger: LedgerFactory,
) -> None:
    ledger = open_ledger()
    place = f.county(ledger, budget_fen=1_000)
    store = ledger.store

    read = store.read(Fund, place.fund_id)
    assert read is not None
    assert store.read(Fund, place.fund_id) is read
    assert store.load(Fund, place.fund_id, "fund", copy=False) is read
    mine = store.load(Fund, place.fund_id, "fund")
    assert mine is not read
    mine.top_up(amount_fen=500, meta=f.meta("finance-1", Role.FINANCE))
    assert read.allocated_fen == 1_000  # an unsaved change stays in the command's copy


def test_a_read_sees_what_another_process_saved_at_once(open_ledger: LedgerFactory) -> None:
    reader, writer = open_ledger(), open_ledger()
    place = f.county(writer, budget_fen=1_000)
    assert reader.store.read(Fund, place.fund_id) is not None

    writer.funds.top_up(f.finance(), place.fund_id, amount_fen=500, reason="supplement")

    read = reader.store.read(Fund, place.fund_id)
    assert read is not None
    assert read.allocated_fen == 1_500
