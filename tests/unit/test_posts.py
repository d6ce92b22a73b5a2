"""Rural public-welfare posts: one test per rule of DOMAIN.md, through the ledger in memory."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from disburse.domain.errors import (
    ConflictError,
    InvalidInputError,
    PolicyGapError,
    RuleViolationError,
)
from disburse.domain.fund import FundSource
from disburse.domain.meta import Role
from disburse.domain.months import Month
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.post import ExitReason, InsuranceKind, Post
from disburse.domain.reservation import Reservation, reservation_id_for
from disburse.policy.default import NATIONAL_VERSION, national
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.application.ledger import Ledger

JAN, FEB, MAR = Month(2024, 1), Month(2024, 2), Month(2024, 3)
START, END = date(2024, 1, 1), date(2024, 12, 31)
THRESHOLD_FEN = 100_000


def appoint(
    ledger: Ledger,
    post_id: UUID,
    person_id: UUID,
    *,
    start: date = START,
    end: date = END,
    ctx: Context | None = None,
) -> None:
    ledger.posts.appoint(
        ctx or f.clerk(), post_id, person_id=person_id, term_start=start, term_end=end
    )


def insure(ledger: Ledger, post_id: UUID, valid_from: date, valid_to: date) -> None:
    ledger.posts.record_insurance(
        f.clerk(),
        post_id,
        kind=InsuranceKind.WORK_INJURY,
        policy_number="WI-1",
        insurer="人保",
        valid_from=valid_from,
        valid_to=valid_to,
    )


def attend(
    ledger: Ledger, post_id: UUID, month: Month, *, worked: int = 22, required: int = 22
) -> UUID | None:
    return ledger.posts.record_attendance(
        f.clerk(), post_id, month=month, days_worked=worked, days_required=required
    )


def allocate(
    ledger: Ledger,
    *,
    year: int = 2024,
    region: str = f.COUNTY,
    source: FundSource = FundSource.EMPLOYMENT_SUBSIDY,
) -> UUID:
    return ledger.funds.allocate(
        f.finance(), source=source, region_code=region, year=year, amount_fen=10_000_000
    )


@pytest.fixture
def place(memory_ledger: Ledger) -> f.County:
    return f.county(memory_ledger)


# -- POST-ELIG ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [PovertyStatus.NONE, PovertyStatus.LOW_INCOME])
def test_an_appointment_of_a_person_outside_the_eligible_groups_is_refused_with_post_elig(
    memory_ledger: Ledger, place: f.County, status: PovertyStatus
) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger, status=status)

    with pytest.raises(RuleViolationError) as caught:
        appoint(memory_ledger, post_id, person_id)
    assert caught.value.rule_id == "POST-ELIG"
    assert not memory_ledger.posts.get(post_id).is_held


def test_an_appointment_of_a_deceased_person_is_refused_with_post_elig(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger)
    memory_ledger.people.record_death(
        f.clerk(), person_id, died_on=date(2023, 12, 1), evidence="civil registry"
    )

    with pytest.raises(RuleViolationError) as caught:
        appoint(memory_ledger, post_id, person_id)
    assert caught.value.rule_id == "POST-ELIG"


def test_an_appointment_of_a_person_on_government_payroll_is_refused_with_post_elig(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger, public_payroll=True)

    with pytest.raises(RuleViolationError) as caught:
        appoint(memory_ledger, post_id, person_id)
    assert caught.value.rule_id == "POST-ELIG"
    assert not memory_ledger.posts.get(post_id).is_held


@pytest.mark.parametrize("status", [PovertyStatus.LIFTED, PovertyStatus.MONITORED])
def test_a_person_lifted_out_of_poverty_or_monitored_can_be_appointed(
    memory_ledger: Ledger, place: f.County, status: PovertyStatus
) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger, status=status)

    appoint(memory_ledger, post_id, person_id)

    post = memory_ledger.posts.get(post_id)
    assert post.is_held
    assert post.holder_id == person_id
    assert post.terms == [(START, END)]


@pytest.mark.parametrize(
    ("labour", "priority"),
    [(LabourCapacity.WEAK, True), (LabourCapacity.HALF, True), (LabourCapacity.FULL, False)],
)
def test_an_appointment_records_whether_the_appointee_is_priority_labour(
    memory_ledger: Ledger, place: f.County, labour: LabourCapacity, *, priority: bool
) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger, labour=labour)

    appoint(memory_ledger, post_id, person_id)

    appointed = f.stored_events(memory_ledger, post_id)[-1]
    assert f.name_of(appointed) == "Appointed"
    assert vars(appointed)["priority_labour"] is priority


# -- POST-TERM ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 1, 1), date(2025, 1, 1)),
        (date(2024, 3, 15), date(2025, 3, 15)),
        (date(2024, 1, 1), date(2026, 12, 31)),
    ],
)
def test_a_term_longer_than_twelve_months_is_refused_with_post_term(
    memory_ledger: Ledger, place: f.County, start: date, end: date
) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger)

    with pytest.raises(RuleViolationError) as caught:
        appoint(memory_ledger, post_id, person_id, start=start, end=end)
    assert caught.value.rule_id == "POST-TERM"
    assert caught.value.field == "term_end"
    assert not memory_ledger.posts.get(post_id).is_held


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 1, 1), date(2024, 12, 31)),
        (date(2024, 3, 15), date(2025, 3, 14)),
        (date(2024, 1, 31), date(2025, 1, 30)),
        (date(2024, 6, 1), date(2024, 6, 1)),
    ],
)
def test_a_term_of_at_most_exactly_twelve_months_is_accepted(
    memory_ledger: Ledger, place: f.County, start: date, end: date
) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger)

    appoint(memory_ledger, post_id, person_id, start=start, end=end)

    assert memory_ledger.posts.get(post_id).terms == [(start, end)]


def test_a_term_ending_before_it_starts_is_refused(memory_ledger: Ledger, place: f.County) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger)

    with pytest.raises(InvalidInputError) as caught:
        appoint(memory_ledger, post_id, person_id, start=date(2024, 5, 1), end=date(2024, 4, 30))
    assert caught.value.rule_id == "POST-TERM"


@pytest.mark.parametrize("start", [date(2024, 12, 31), date(2024, 6, 1)])
def test_a_renewal_must_start_after_the_current_term_ends(
    memory_ledger: Ledger, place: f.County, start: date
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)

    with pytest.raises(RuleViolationError) as caught:
        memory_ledger.posts.renew(f.clerk(), post_id, term_start=start, term_end=date(2025, 5, 31))
    assert caught.value.rule_id == "POST-TERM"
    assert caught.value.field == "term_start"


def test_a_renewal_longer_than_twelve_months_is_refused_with_post_term(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)

    with pytest.raises(RuleViolationError) as caught:
        memory_ledger.posts.renew(
            f.clerk(), post_id, term_start=date(2025, 1, 1), term_end=date(2026, 1, 1)
        )
    assert caught.value.rule_id == "POST-TERM"
    assert memory_ledger.posts.get(post_id).terms == [(START, END)]


def test_a_renewal_is_a_new_term_that_covers_the_following_months(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)
    allocate(memory_ledger, year=2025)
    insure(memory_ledger, post_id, date(2025, 1, 1), date(2025, 12, 31))
    next_jan = Month(2025, 1)
    with pytest.raises(RuleViolationError) as before:
        attend(memory_ledger, post_id, next_jan)

    memory_ledger.posts.renew(
        f.clerk(), post_id, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31)
    )

    assert before.value.rule_id == "POST-TERM"
    assert memory_ledger.posts.get(post_id).terms == [
        (START, END),
        (date(2025, 1, 1), date(2025, 12, 31)),
    ]
    assert f.name_of(f.stored_events(memory_ledger, post_id)[-1]) == "TermRenewed"
    assert attend(memory_ledger, post_id, next_jan) is not None


def test_a_renewal_checks_eligibility_again(memory_ledger: Ledger, place: f.County) -> None:
    post_id, person_id = f.staffed_post(memory_ledger, place)
    memory_ledger.people.change_status(
        f.clerk(), person_id, effective_on=date(2024, 11, 1), public_payroll=True
    )

    with pytest.raises(RuleViolationError) as caught:
        memory_ledger.posts.renew(
            f.clerk(), post_id, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31)
        )
    assert caught.value.rule_id == "POST-ELIG"


def test_attendance_for_a_month_outside_the_term_is_refused_with_post_term(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place)
    appoint(memory_ledger, post_id, f.register(memory_ledger), start=date(2024, 2, 1))
    insure(memory_ledger, post_id, date(2024, 1, 1), date(2024, 12, 31))

    with pytest.raises(RuleViolationError) as caught:
        attend(memory_ledger, post_id, JAN)
    assert caught.value.rule_id == "POST-TERM"


# -- POST-INSURANCE -------------------------------------------------------------------------


def test_attendance_without_insurance_is_refused_with_post_insurance(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place)
    appoint(memory_ledger, post_id, f.register(memory_ledger))

    with pytest.raises(RuleViolationError) as caught:
        attend(memory_ledger, post_id, JAN)
    assert caught.value.rule_id == "POST-INSURANCE"
    assert memory_ledger.posts.get(post_id).attendance == {}


def test_attendance_in_a_month_the_insurance_does_not_cover_is_refused(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place)
    appoint(memory_ledger, post_id, f.register(memory_ledger))
    insure(memory_ledger, post_id, date(2024, 1, 1), date(2024, 1, 31))

    assert attend(memory_ledger, post_id, JAN) is not None
    with pytest.raises(RuleViolationError) as caught:
        attend(memory_ledger, post_id, FEB)
    assert caught.value.rule_id == "POST-INSURANCE"


def test_insurance_cannot_be_recorded_for_a_vacant_post(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place)

    with pytest.raises(ConflictError) as caught:
        insure(memory_ledger, post_id, START, END)
    assert caught.value.rule_id == "POST-VACANT"


def test_insurance_ending_before_it_starts_is_refused(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place)
    appoint(memory_ledger, post_id, f.register(memory_ledger))

    with pytest.raises(InvalidInputError) as caught:
        insure(memory_ledger, post_id, date(2024, 2, 1), date(2024, 1, 31))
    assert caught.value.rule_id == "POST-INSURANCE"


# -- POST-STIPEND-FLOOR ---------------------------------------------------------------------


def test_a_post_below_the_regional_stipend_floor_is_refused_with_post_stipend_floor(
    memory_ledger: Ledger, place: f.County
) -> None:
    f.publish(memory_ledger, f.regional_policy(stipend_floor_fen=180_000))

    with pytest.raises(RuleViolationError) as caught:
        f.post(memory_ledger, place, stipend_fen=179_999)
    assert caught.value.rule_id == "POST-STIPEND-FLOOR"
    assert caught.value.field == "stipend_fen"
    assert memory_ledger.posts.get_site(place.village_id).post_ids == []


def test_a_post_at_the_regional_stipend_floor_is_accepted(
    memory_ledger: Ledger, place: f.County
) -> None:
    f.publish(memory_ledger, f.regional_policy(stipend_floor_fen=180_000))

    post_id = f.post(memory_ledger, place, stipend_fen=180_000)

    created = f.stored_events(memory_ledger, post_id)[0]
    assert f.meta_of(created).policy_version == f.REGIONAL_VERSION
    assert "POST-STIPEND-FLOOR" in f.meta_of(created).rule_ids


def test_an_appointment_to_a_post_paying_below_a_newly_published_floor_is_refused(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place, stipend_fen=150_000)
    f.publish(memory_ledger, f.regional_policy(stipend_floor_fen=180_000))

    with pytest.raises(RuleViolationError) as caught:
        appoint(memory_ledger, post_id, f.register(memory_ledger))
    assert caught.value.rule_id == "POST-STIPEND-FLOOR"
    assert not memory_ledger.posts.get(post_id).is_held


def test_a_floor_published_for_another_region_does_not_apply(
    memory_ledger: Ledger, place: f.County
) -> None:
    f.publish(memory_ledger, f.regional_policy(region_prefix="2203", stipend_floor_fen=180_000))

    post_id = f.post(memory_ledger, place, stipend_fen=150_000)
    appoint(memory_ledger, post_id, f.register(memory_ledger))

    assert memory_ledger.posts.get(post_id).is_held


# -- POST-ONE-PERSON-ONE-POST ---------------------------------------------------------------


def test_a_second_post_is_refused_while_the_person_holds_one(
    memory_ledger: Ledger, place: f.County
) -> None:
    first, person_id = f.staffed_post(memory_ledger, place)
    second = f.post(memory_ledger, place)

    with pytest.raises(RuleViolationError) as caught:
        appoint(memory_ledger, second, person_id)
    assert caught.value.rule_id == "POST-ONE-PERSON-ONE-POST"
    assert caught.value.field == "person_id"
    assert not memory_ledger.posts.get(second).is_held
    assert memory_ledger.posts.get(first).holder_id == person_id


def test_a_person_may_take_another_post_after_exiting_the_first(
    memory_ledger: Ledger, place: f.County
) -> None:
    first, person_id = f.staffed_post(memory_ledger, place)
    second = f.post(memory_ledger, place)
    memory_ledger.posts.exit(
        f.clerk(), first, reason=ExitReason.VOLUNTARY, effective_on=date(2024, 3, 31)
    )

    appoint(memory_ledger, second, person_id, start=date(2024, 4, 1), end=date(2025, 3, 31))

    assert memory_ledger.posts.get(second).holder_id == person_id
    seat = memory_ledger.store.load(
        Reservation, reservation_id_for(f"public-post-holder:{person_id}"), "seat"
    )
    assert seat.holder_id == second


def test_appointing_a_person_again_to_the_post_they_left_is_allowed(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, person_id = f.staffed_post(memory_ledger, place)
    memory_ledger.posts.exit(
        f.clerk(), post_id, reason=ExitReason.CONTRACT_END, effective_on=date(2024, 6, 30)
    )

    appoint(memory_ledger, post_id, person_id, start=date(2024, 9, 1), end=date(2025, 8, 31))

    post = memory_ledger.posts.get(post_id)
    assert post.is_held
    assert post.terms == [(date(2024, 9, 1), date(2025, 8, 31))]


# -- POST-QUOTA-SITE ------------------------------------------------------------------------


def test_a_settlement_site_of_800_people_accepts_three_posts_and_refuses_the_fourth(
    memory_ledger: Ledger, place: f.County
) -> None:
    posts = [f.settlement_post(memory_ledger, place) for _ in range(3)]

    with pytest.raises(RuleViolationError) as caught:
        f.settlement_post(memory_ledger, place)
    assert caught.value.rule_id == "POST-QUOTA-SITE"
    assert memory_ledger.posts.get_site(place.settlement_id).post_ids == posts


def test_a_settlement_site_counts_each_post_under_post_quota_site(
    memory_ledger: Ledger, place: f.County
) -> None:
    f.settlement_post(memory_ledger, place)

    added = f.stored_events(memory_ledger, place.settlement_id)[-1]
    assert f.name_of(added) == "PostAdded"
    assert f.meta_of(added).rule_ids == ("POST-QUOTA-SITE",)
    assert f.meta_of(added).policy_version == NATIONAL_VERSION


def test_a_village_has_no_settlement_quota(memory_ledger: Ledger, place: f.County) -> None:
    posts = [f.post(memory_ledger, place) for _ in range(6)]

    assert memory_ledger.posts.get_site(place.village_id).post_ids == posts


# -- POST-EXIT-INCOME -----------------------------------------------------------------------


def _report_income(ledger: Ledger, person_id: UUID, month: Month, amount_fen: int) -> None:
    ledger.people.report_income(
        f.clerk(), person_id, month=month, amount_fen=amount_fen, source="flexible work"
    )


def test_income_above_the_threshold_refuses_later_attendance_with_post_exit_income(
    memory_ledger: Ledger, place: f.County
) -> None:
    f.publish(memory_ledger, f.regional_policy(income_exit_threshold_fen=THRESHOLD_FEN))
    post_id, person_id = f.staffed_post(memory_ledger, place, part_time=True)
    _report_income(memory_ledger, person_id, FEB, THRESHOLD_FEN + 1)

    assert attend(memory_ledger, post_id, JAN) is not None
    for month in (FEB, MAR):
        with pytest.raises(RuleViolationError) as caught:
            attend(memory_ledger, post_id, month)
        assert caught.value.rule_id == "POST-EXIT-INCOME"
    assert set(memory_ledger.posts.get(post_id).attendance) == {"2024-01"}


def test_income_at_the_threshold_does_not_refuse_attendance(
    memory_ledger: Ledger, place: f.County
) -> None:
    f.publish(memory_ledger, f.regional_policy(income_exit_threshold_fen=THRESHOLD_FEN))
    post_id, person_id = f.staffed_post(memory_ledger, place, part_time=True)
    _report_income(memory_ledger, person_id, JAN, THRESHOLD_FEN)

    assert attend(memory_ledger, post_id, JAN) is not None


def test_reported_income_without_a_threshold_in_the_catalogue_is_a_policy_gap(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, person_id = f.staffed_post(memory_ledger, place, part_time=True)
    _report_income(memory_ledger, person_id, JAN, 1)

    with pytest.raises(PolicyGapError) as caught:
        attend(memory_ledger, post_id, JAN)
    assert caught.value.rule_id == "POST-EXIT-INCOME"
    assert memory_ledger.posts.get(post_id).attendance == {}


def test_a_reported_income_of_zero_needs_no_threshold(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, person_id = f.staffed_post(memory_ledger, place, part_time=True)
    _report_income(memory_ledger, person_id, JAN, 0)

    assert attend(memory_ledger, post_id, JAN) is not None


def test_the_income_rule_applies_to_part_time_holders_only(
    memory_ledger: Ledger, place: f.County
) -> None:
    f.publish(memory_ledger, f.regional_policy(income_exit_threshold_fen=THRESHOLD_FEN))
    post_id, person_id = f.staffed_post(memory_ledger, place, part_time=False)
    _report_income(memory_ledger, person_id, JAN, THRESHOLD_FEN + 1)

    assert attend(memory_ledger, post_id, JAN) is not None


# -- POST-ATTENDANCE-ONCE -------------------------------------------------------------------


def test_a_second_attendance_for_the_same_month_is_refused_with_post_attendance_once(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)
    payout_id = attend(memory_ledger, post_id, JAN, worked=20)

    with pytest.raises(ConflictError) as caught:
        attend(memory_ledger, post_id, JAN, worked=22)
    assert caught.value.rule_id == "POST-ATTENDANCE-ONCE"
    assert caught.value.field == "month"
    assert payout_id == memory_ledger.posts.stipend_payout_id(post_id, JAN)
    assert memory_ledger.payouts.get(payout_id).amount_fen == 136_364


# -- FRAUD-PAID-AFTER-EXIT ------------------------------------------------------------------


def test_no_stipend_is_paid_for_a_month_after_the_exit_month(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)
    memory_ledger.posts.exit(
        f.clerk(), post_id, reason=ExitReason.VOLUNTARY, effective_on=date(2024, 2, 15)
    )

    assert attend(memory_ledger, post_id, FEB, worked=10) is not None
    with pytest.raises(RuleViolationError) as caught:
        attend(memory_ledger, post_id, MAR)
    assert caught.value.rule_id == "FRAUD-PAID-AFTER-EXIT"


def test_no_stipend_is_paid_for_a_month_after_the_holders_death(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, person_id = f.staffed_post(memory_ledger, place)
    memory_ledger.people.record_death(
        f.clerk(), person_id, died_on=date(2024, 2, 10), evidence="civil registry"
    )

    assert attend(memory_ledger, post_id, FEB, worked=7) is not None
    with pytest.raises(RuleViolationError) as caught:
        attend(memory_ledger, post_id, MAR)
    assert caught.value.rule_id == "FRAUD-PAID-AFTER-EXIT"


# -- POST-OCCUPIED --------------------------------------------------------------------------


def test_appointing_someone_to_a_held_post_is_refused_with_post_occupied(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, holder = f.staffed_post(memory_ledger, place)

    with pytest.raises(ConflictError) as caught:
        appoint(memory_ledger, post_id, f.register(memory_ledger))
    assert caught.value.rule_id == "POST-OCCUPIED"
    assert memory_ledger.posts.get(post_id).holder_id == holder


# -- POST-FUND ------------------------------------------------------------------------------


def test_a_post_paid_from_a_rural_revitalisation_fund_is_refused_with_post_fund(
    memory_ledger: Ledger, place: f.County
) -> None:
    fund_id = allocate(memory_ledger, source=FundSource.RURAL_REVITALISATION)

    with pytest.raises(RuleViolationError) as caught:
        f.post(memory_ledger, f.County(fund_id, place.settlement_id, place.village_id))
    assert caught.value.rule_id == "POST-FUND"
    assert caught.value.field == "fund_id"


def test_a_post_paid_from_another_citys_fund_is_refused_with_post_fund(
    memory_ledger: Ledger, place: f.County
) -> None:
    elsewhere = f.county(memory_ledger, region="230102")

    with pytest.raises(RuleViolationError) as caught:
        f.post(memory_ledger, f.County(elsewhere.fund_id, place.settlement_id, place.village_id))
    assert caught.value.rule_id == "POST-FUND"


def test_a_post_paid_from_a_neighbouring_countys_fund_is_refused_with_post_fund(
    memory_ledger: Ledger, place: f.County
) -> None:
    neighbour = f.county(memory_ledger, region=f.OTHER_COUNTY)

    with pytest.raises(RuleViolationError) as caught:
        f.post(memory_ledger, f.County(neighbour.fund_id, place.settlement_id, place.village_id))
    assert caught.value.rule_id == "POST-FUND"
    assert memory_ledger.posts.get_site(place.village_id).post_ids == []


def test_a_city_fund_pays_posts_in_the_citys_counties(
    memory_ledger: Ledger, place: f.County
) -> None:
    city_fund = allocate(memory_ledger, region="220200")

    post_id = f.post(memory_ledger, f.County(city_fund, place.settlement_id, place.village_id))

    assert memory_ledger.posts.get(post_id).fund_id == city_fund


def test_a_stipend_is_paid_from_the_budget_of_its_own_year(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)
    memory_ledger.posts.renew(
        f.clerk(), post_id, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31)
    )
    insure(memory_ledger, post_id, date(2025, 1, 1), date(2025, 12, 31))
    next_jan = Month(2025, 1)
    with pytest.raises(RuleViolationError) as caught:
        attend(memory_ledger, post_id, next_jan)
    fund_2025 = allocate(memory_ledger, year=2025)

    payout_id = attend(memory_ledger, post_id, next_jan)

    assert caught.value.rule_id == "POST-FUND"
    assert payout_id is not None
    assert memory_ledger.payouts.get(payout_id).fund_id == fund_2025


# -- stipend and its explanation ------------------------------------------------------------


def test_a_stipend_is_prorated_by_attendance_and_explains_how(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, person_id = f.staffed_post(memory_ledger, place)

    payout_id = attend(memory_ledger, post_id, JAN, worked=20, required=22)

    assert payout_id is not None
    payout = memory_ledger.payouts.get(payout_id)
    assert payout.amount_fen == 136_364
    assert payout.beneficiary_id == person_id
    assert payout.fund_id == place.fund_id
    assert payout.period == "2024-01"
    assert payout.explanation["policy_version"] == NATIONAL_VERSION
    assert payout.explanation["inputs"] == {
        "stipend_fen": 150_000,
        "days_worked": 20,
        "days_required": 22,
        "month": "2024-01",
    }
    assert set(payout.explanation["rule_ids"]) >= {"POST-TERM", "POST-INSURANCE"}


def test_a_month_with_no_day_worked_records_attendance_but_requests_no_payout(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)

    assert attend(memory_ledger, post_id, JAN, worked=0) is None

    assert memory_ledger.posts.get(post_id).attendance == {"2024-01": 0}
    assert f.stored_events(memory_ledger, memory_ledger.posts.stipend_payout_id(post_id, JAN)) == []


def test_without_proration_any_day_worked_earns_the_whole_stipend(
    memory_ledger: Ledger, place: f.County
) -> None:
    f.publish(memory_ledger, f.regional_policy(prorate_by_attendance=False))
    post_id, _ = f.staffed_post(memory_ledger, place)

    payout_id = attend(memory_ledger, post_id, JAN, worked=1)

    assert payout_id is not None
    assert memory_ledger.payouts.get(payout_id).amount_fen == 150_000


@pytest.mark.parametrize(("worked", "required"), [(23, 22), (-1, 22), (0, 0), (1, 32)])
def test_impossible_attendance_is_refused(
    memory_ledger: Ledger, place: f.County, worked: int, required: int
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)

    with pytest.raises(InvalidInputError) as caught:
        attend(memory_ledger, post_id, JAN, worked=worked, required=required)
    assert caught.value.rule_id == "POST-ATTENDANCE"


# -- exit -----------------------------------------------------------------------------------


def test_an_exit_before_the_appointment_is_refused(memory_ledger: Ledger, place: f.County) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)

    with pytest.raises(InvalidInputError) as caught:
        memory_ledger.posts.exit(
            f.clerk(), post_id, reason=ExitReason.VOLUNTARY, effective_on=date(2023, 12, 31)
        )
    assert caught.value.rule_id == "POST-EXIT"
    assert memory_ledger.posts.get(post_id).is_held


def test_a_vacant_post_cannot_be_exited(memory_ledger: Ledger, place: f.County) -> None:
    post_id = f.post(memory_ledger, place)

    with pytest.raises(ConflictError) as caught:
        memory_ledger.posts.exit(
            f.clerk(), post_id, reason=ExitReason.VOLUNTARY, effective_on=date(2024, 1, 31)
        )
    assert caught.value.rule_id == "POST-VACANT"


# -- event metadata -------------------------------------------------------------------------


def test_every_stored_post_event_carries_actor_role_client_and_request(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)
    attend(memory_ledger, post_id, JAN)
    memory_ledger.posts.exit(
        f.clerk(),
        post_id,
        reason=ExitReason.VOLUNTARY,
        effective_on=date(2024, 1, 31),
        note="moved away",
    )

    events = f.stored_events(memory_ledger, post_id)

    assert f.names_of(events) == [
        "Created",
        "Appointed",
        "InsuranceRecorded",
        "AttendanceRecorded",
        "Exited",
    ]
    for event in events:
        meta = f.meta_of(event)
        assert meta.actor_id == "clerk-1"
        assert meta.role is Role.CLERK
        assert meta.client_id == "test-client"
        assert meta.request_id
    assert f.meta_of(events[-1]).reason == "moved away"


@pytest.mark.parametrize(
    ("event_name", "rule_ids"),
    [
        ("Created", {"POST-STIPEND-FLOOR"}),
        ("Appointed", {"POST-ELIG", "POST-TERM", "POST-STIPEND-FLOOR", "POST-ONE-PERSON-ONE-POST"}),
        ("InsuranceRecorded", {"POST-INSURANCE"}),
        (
            "AttendanceRecorded",
            {"POST-TERM", "POST-INSURANCE", "POST-EXIT-INCOME", "FRAUD-PAID-AFTER-EXIT"},
        ),
    ],
)
def test_post_events_cite_the_rules_they_were_checked_against(
    memory_ledger: Ledger, place: f.County, event_name: str, rule_ids: set[str]
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)
    attend(memory_ledger, post_id, JAN)

    event = next(e for e in f.stored_events(memory_ledger, post_id) if f.name_of(e) == event_name)

    assert set(f.meta_of(event).rule_ids) == rule_ids


def test_the_stipend_payout_event_cites_its_programme_and_catalogue_version(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id, _ = f.staffed_post(memory_ledger, place)
    payout_id = attend(memory_ledger, post_id, JAN)
    assert payout_id is not None

    (requested,) = f.stored_events(memory_ledger, payout_id)

    meta = f.meta_of(requested)
    assert f.name_of(requested) == "Requested"
    assert meta.rule_ids == ("POST-STIPEND",)
    assert meta.policy_version == NATIONAL_VERSION
    assert meta.actor_id == "clerk-1"


def test_the_events_of_one_appointment_share_its_request_id(
    memory_ledger: Ledger, place: f.County
) -> None:
    post_id = f.post(memory_ledger, place)
    person_id = f.register(memory_ledger)
    ctx = f.clerk("clerk-9")

    appoint(memory_ledger, post_id, person_id, ctx=ctx)

    appointed = f.stored_events(memory_ledger, post_id)[-1]
    seat_events = f.stored_events(
        memory_ledger, reservation_id_for(f"public-post-holder:{person_id}")
    )
    assert [f.meta_of(e).request_id for e in (appointed, *seat_events)] == [ctx.request_id] * 2
    assert f.meta_of(seat_events[0]).rule_ids == ("POST-ONE-PERSON-ONE-POST",)
    assert f.meta_of(appointed).actor_id == "clerk-9"


def test_domain_post_commands_emit_events_carrying_the_given_meta() -> None:
    meta = f.meta("clerk-3")
    post = f.domain_post(meta=meta)
    holder = f.domain_person()
    post.appoint(person=holder, term_start=START, term_end=END, policy=national(), meta=meta)
    post.record_insurance(
        kind=InsuranceKind.ACCIDENT,
        policy_number="A-1",
        insurer="PICC",
        valid_from=START,
        valid_to=END,
        meta=meta,
    )
    stipend = post.record_attendance(
        month=JAN, days_worked=11, days_required=22, person=holder, policy=national(), meta=meta
    )

    events = post.collect_events()

    assert stipend.amount_fen == 75_000
    assert stipend.policy_version == NATIONAL_VERSION
    assert f.names_of(events) == ["Created", "Appointed", "InsuranceRecorded", "AttendanceRecorded"]
    for event in events:
        carried = f.meta_of(event)
        assert (carried.actor_id, carried.role, carried.client_id, carried.request_id) == (
            "clerk-3",
            Role.CLERK,
            "test-client",
            "req-1",
        )
        assert carried.rule_ids
    rebuilt = f.replay(Post, events)
    assert rebuilt.attendance == {"2024-01": 75_000}
    assert rebuilt.holder_id == holder.id


def test_attendance_is_only_for_the_posts_holder() -> None:
    post = f.domain_post()
    holder, stranger = f.domain_person(), f.domain_person()
    post.appoint(person=holder, term_start=START, term_end=END, policy=national(), meta=f.meta())

    with pytest.raises(ConflictError) as caught:
        post.record_attendance(
            month=JAN,
            days_worked=22,
            days_required=22,
            person=stranger,
            policy=national(),
            meta=f.meta(),
        )
    assert caught.value.rule_id == "POST-VACANT"
    assert post.attendance == {}
