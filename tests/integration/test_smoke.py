from __future__ import annotations

from typing import TYPE_CHECKING

from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger


def test_a_stipend_is_requested_for_a_month_of_attendance(ledger: Ledger) -> None:
    place = f.county(ledger)
    post_id, person_id = f.staffed_post(ledger, place)
    payout_id = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert payout_id is not None
    payout = ledger.posts.get_payout(payout_id)
    assert payout.amount_fen == 150_000
    assert payout.beneficiary_id == person_id
