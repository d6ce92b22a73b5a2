"""The monthly run requests each logged sheet's stipend once, skipping refusals by rule.

On SQLite and PostgreSQL: attendance sheets logged by the clerk (``log_attendance``),
then ``run_month`` for a county and month, twice.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from disburse.application.monthly import run_month
from disburse.domain.errors import ConflictError, RuleViolationError
from disburse.domain.months import Month
from disburse.domain.payout import Payout
from disburse.domain.post import ExitReason
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.application.monthly import MonthlyRun
    from disburse.readside.views import Views

JAN = f.JAN
FEB = Month(2024, 2)


def head(ledger: Ledger) -> int:
    return ledger.store.recorder.max_notification_id() or 0


def log(ledger: Ledger, post_id: UUID, month: Month = JAN, worked: int = 22) -> bool:
    return ledger.posts.log_attendance(
        f.clerk(), post_id, month=month, days_worked=worked, days_required=22
    )


def run(ledger: Ledger, views: Views, month: Month = JAN, region: str = f.COUNTY) -> MonthlyRun:
    return run_month(ledger, views, f.clerk("clerk-run"), month=month, region=region)


def test_a_month_is_requested_once_and_refusals_are_reported_by_rule(
    ledger: Ledger, views: Views
) -> None:
    place = f.county(ledger)
    paid = [f.staffed_post(ledger, place)[0] for _ in range(3)]
    uninsured = f.post(ledger, place)
    ledger.posts.appoint(
        f.clerk(),
        uninsured,
        person_id=f.register(ledger),
        term_start=date(2024, 1, 1),
        term_end=date(2024, 12, 31),
    )
    idle, _ = f.staffed_post(ledger, place)
    unlogged, _ = f.staffed_post(ledger, place)
    for post_id in [*paid, uninsured]:
        assert log(ledger, post_id)
    log(ledger, idle, worked=0)
    assert unlogged not in paid

    first = run(ledger, views)

    assert (first.sheets, first.held_posts, first.requested, first.no_stipend) == (5, 6, 3, 1)
    assert first.requested_fen == 3 * 150_000
    [total] = first.totals.values()
    assert (total.fund_id, total.source, total.programme) == (
        str(place.fund_id),
        "employment_subsidy",
        "POST-STIPEND",
    )
    assert first.refusals_by_rule() == {"POST-INSURANCE": 1}
    [refusal] = first.refusals
    assert (refusal.post_id, refusal.field) == (str(uninsured), "month")
    for post_id in paid:
        payout = ledger.payouts.get(ledger.posts.stipend_payout_id(post_id, JAN))
        assert payout.amount_fen == 150_000
    before = head(ledger)

    second = run(ledger, views)

    assert head(ledger) == before  # nothing written
    assert (second.requested, second.earlier, second.no_stipend) == (0, 3, 1)
    assert second.refusals_by_rule() == {"POST-INSURANCE": 1}
    assert [(t.earlier, t.earlier_fen) for t in second.totals.values()] == [(3, 450_000)]


def test_the_run_keeps_to_its_region_and_month(ledger: Ledger, views: Views) -> None:
    here = f.county(ledger)
    there = f.county(ledger, region=f.OTHER_COUNTY)
    local, _ = f.staffed_post(ledger, here)
    other, _ = f.staffed_post(ledger, there)
    for post_id in (local, other):
        log(ledger, post_id)
    log(ledger, local, FEB)

    january = run(ledger, views)

    assert january.requested == 1
    assert ledger.store.find(Payout, ledger.posts.stipend_payout_id(local, JAN)) is not None
    assert ledger.store.find(Payout, ledger.posts.stipend_payout_id(other, JAN)) is None
    assert run(ledger, views, region="2202").requested == 1  # the city: the other county now
    assert run(ledger, views, FEB).requested == 1
    assert run(ledger, views, FEB, region="2202").requested == 0


def test_a_holder_who_left_or_died_is_refused_with_the_rule_that_stops_the_stipend(
    ledger: Ledger, views: Views
) -> None:
    place = f.county(ledger)
    left, _ = f.staffed_post(ledger, place)
    dead_post, dead = f.staffed_post(ledger, place)
    for post_id in (left, dead_post):
        log(ledger, post_id, FEB)
    ledger.posts.exit(
        f.clerk(), left, reason=ExitReason.VOLUNTARY, effective_on=date(2024, 1, 20), note="moved"
    )
    ledger.people.record_death(f.clerk(), dead, died_on=date(2024, 1, 5), evidence="civil reg")

    result = run(ledger, views, FEB)

    assert result.requested == 0
    assert result.refusals_by_rule() == {"FRAUD-PAID-AFTER-EXIT": 2}
    assert result.held_posts == 1  # the exit is on the roster; the death is not an exit yet


def test_a_sheet_is_logged_once_and_a_different_one_is_refused(
    ledger: Ledger, views: Views
) -> None:
    place = f.county(ledger)
    post_id, _ = f.staffed_post(ledger, place)
    assert log(ledger, post_id, worked=20)
    before = head(ledger)

    assert not log(ledger, post_id, worked=20)
    assert head(ledger) == before
    with pytest.raises(ConflictError) as caught:
        log(ledger, post_id, worked=21)
    assert caught.value.rule_id == "POST-ATTENDANCE-ONCE"
    with pytest.raises(ConflictError) as caught:  # the one-step command must agree with it
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=JAN, days_worked=22, days_required=22
        )
    assert (caught.value.rule_id, caught.value.field) == ("POST-ATTENDANCE-ONCE", "days_worked")

    assert run(ledger, views).requested_fen == 136_364  # 150000 * 20 / 22, half up


def test_a_month_recorded_and_requested_at_once_counts_as_requested_before(
    ledger: Ledger, views: Views
) -> None:
    place = f.county(ledger)
    post_id, _ = f.staffed_post(ledger, place)
    ledger.posts.record_attendance(f.clerk(), post_id, month=JAN, days_worked=22, days_required=22)
    assert not log(ledger, post_id)  # the same sheet: already there

    result = run(ledger, views)

    assert (result.sheets, result.requested, result.earlier) == (1, 0, 1)


def test_a_sheet_for_a_month_outside_the_holders_term_is_refused(
    ledger: Ledger, views: Views
) -> None:
    place = f.county(ledger)
    post_id, _ = f.staffed_post(ledger, place)  # term: 2024

    with pytest.raises(RuleViolationError) as caught:
        log(ledger, post_id, Month(2023, 12))

    assert (caught.value.rule_id, caught.value.field) == ("POST-TERM", "month")
    assert run(ledger, views, Month(2023, 12)).sheets == 0


def test_a_sheet_of_a_holder_replaced_before_the_run_is_never_paid_to_the_successor(
    ledger: Ledger, views: Views
) -> None:
    place = f.county(ledger)
    post_id, first = f.staffed_post(ledger, place)
    log(ledger, post_id, FEB)
    ledger.posts.exit(
        f.clerk(), post_id, reason=ExitReason.VOLUNTARY, effective_on=date(2024, 2, 15), note="left"
    )
    successor = f.register(ledger)
    ledger.posts.appoint(
        f.clerk(),
        post_id,
        person_id=successor,
        term_start=date(2024, 2, 16),
        term_end=date(2024, 12, 31),
    )

    result = run(ledger, views, FEB)

    assert result.requested == 0
    [refusal] = result.refusals
    assert (refusal.rule_id, refusal.person_id) == ("POST-HOLDER-CHANGED", str(first))
    assert ledger.store.find(Payout, ledger.posts.stipend_payout_id(post_id, FEB)) is None
