"""The store's last check: no command, whatever path it came by, writes text no view can store.

On SQLite and PostgreSQL: the application's own commands, called directly (as the CLI,
imports and the demo do), are refused with TEXT-INVALID and write nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from disburse.domain.errors import InvalidInputError
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.site import SiteKind
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger


def _head(ledger: Ledger) -> int:
    return ledger.store.recorder.max_notification_id() or 0


@pytest.mark.parametrize("name", ["\ud800abc", "王\x00五", "\ue000"])
def test_a_person_whose_name_cannot_be_stored_is_not_registered(ledger: Ledger, name: str) -> None:
    rid = f.resident_id()
    before = _head(ledger)

    with pytest.raises(InvalidInputError) as refused:
        ledger.people.register(
            f.clerk(),
            resident_id=rid,
            name=name,
            home_region=f.COUNTY,
            poverty_status=PovertyStatus.LIFTED,
            labour_capacity=LabourCapacity.WEAK,
            household_id="H-1",
            bank_account="6222020212345670",
        )

    assert (refused.value.rule_id, refused.value.field) == ("TEXT-INVALID", "name")
    assert _head(ledger) == before


def test_a_nul_in_a_top_up_reason_or_a_site_name_writes_nothing(ledger: Ledger) -> None:
    place = f.county(ledger)
    before = _head(ledger)

    with pytest.raises(InvalidInputError, match="TEXT-INVALID"):
        ledger.funds.top_up(f.finance(), place.fund_id, amount_fen=100, reason="追加\x00")
    with pytest.raises(InvalidInputError, match="TEXT-INVALID"):
        ledger.posts.register_site(
            f.clerk(), region_code=f.COUNTY, kind=SiteKind.VILLAGE, name="东\x00风", population=1
        )

    assert _head(ledger) == before
    ledger.funds.top_up(f.finance(), place.fund_id, amount_fen=100, reason="追加\n第二行")
    assert _head(ledger) == before + 1
