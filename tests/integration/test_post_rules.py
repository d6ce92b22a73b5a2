"""The public-post rules, on SQLite and PostgreSQL, through the application layer."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from disburse.domain.errors import ConflictError, DomainError, PolicyGapError, RuleViolationError
from disburse.domain.fund import FundSource
from disburse.domain.months import Month
from disburse.domain.person import PovertyStatus
from disburse.domain.post import ExitReason, InsuranceKind
from disburse.domain.site import SiteKind
from disburse.policy.default import national
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger

YEAR_2024 = {"term_start": date(2024, 1, 1), "term_end": date(2024, 12, 31)}


def _appoint(ledger: Ledger, post_id: UUID, person_id: UUID, **term: date) -> None:
    ledger.posts.appoint(f.clerk(), post_id, person_id=person_id, **(term or YEAR_2024))


def _refused(
    rule_id: str, error: type[DomainError] = RuleViolationError
) -> pytest.RaisesExc[DomainError]:
    return pytest.raises(error, match=rule_id)


def test_a_person_who_is_not_lifted_or_monitored_cannot_be_appointed(ledger: Ledger) -> None:
    place = f.county(ledger)
    person = f.register(ledger, status=PovertyStatus.NONE)
    with _refused("POST-ELIG"):
        _appoint(ledger, f.post(ledger, place), person)


def test_a_person_on_government_payroll_cannot_be_appointed(ledger: Ledger) -> None:
    place = f.county(ledger)
    person = f.register(ledger, public_payroll=True)
    with _refused("POST-ELIG"):
        _appoint(ledger, f.post(ledger, place), person)


def test_a_deceased_person_cannot_be_appointed(ledger: Ledger) -> None:
    place = f.county(ledger)
    person = f.register(ledger)
    ledger.people.record_death(
        f.clerk(), person, died_on=date(2023, 12, 1), evidence="civil registry"
    )
    with _refused("POST-ELIG"):
        _appoint(ledger, f.post(ledger, place), person)


def test_a_term_longer_than_a_year_is_refused(ledger: Ledger) -> None:
    place = f.county(ledger)
    person = f.register(ledger)
    with _refused("POST-TERM"):
        _appoint(
            ledger,
            f.post(ledger, place),
            person,
            term_start=date(2024, 1, 1),
            term_end=date(2025, 1, 1),
        )


def test_a_person_holding_a_post_cannot_be_appointed_to_a_second(ledger: Ledger) -> None:
    """POST-ONE-PERSON-ONE-POST: one active public post per person."""
    place = f.county(ledger)
    person = f.register(ledger)
    _appoint(ledger, f.post(ledger, place), person)
    with _refused("POST-ONE-PERSON-ONE-POST"):
        _appoint(ledger, f.post(ledger, place), person)


def test_after_an_exit_the_person_may_take_another_post(ledger: Ledger) -> None:
    place = f.county(ledger)
    person = f.register(ledger)
    first = f.post(ledger, place)
    _appoint(ledger, first, person)
    ledger.posts.exit(f.clerk(), first, reason=ExitReason.VOLUNTARY, effective_on=date(2024, 3, 31))
    second = f.post(ledger, place)
    _appoint(ledger, second, person, term_start=date(2024, 4, 1), term_end=date(2025, 3, 31))
    assert ledger.posts.get(second).holder_id == person


def test_a_stipend_below_the_regional_floor_is_refused(ledger: Ledger) -> None:
    place = f.county(ledger)
    post_id = f.post(ledger, place, stipend_fen=150_000)
    f.publish(ledger, f.regional_policy(stipend_floor_fen=188_000))
    with _refused("POST-STIPEND-FLOOR"):
        _appoint(ledger, post_id, f.register(ledger))


def test_a_settlement_site_gets_no_more_posts_than_its_quota(ledger: Ledger) -> None:
    place = f.county(ledger)  # settlement site of 800 people: 3 posts

    def create() -> UUID:
        return ledger.posts.create_post(
            f.clerk(),
            site_id=place.settlement_id,
            title="保安",
            stipend_fen=150_000,
            fund_id=place.fund_id,
            part_time=False,
        )

    for _ in range(3):
        create()
    with _refused("POST-QUOTA-SITE"):
        create()
    assert len(ledger.posts.get_site(place.settlement_id).post_ids) == 3


def test_a_site_size_the_source_leaves_open_is_a_policy_gap_not_a_number(ledger: Ledger) -> None:
    place = f.county(ledger)
    site = ledger.posts.register_site(
        f.clerk(),
        region_code=f.COUNTY,
        kind=SiteKind.SETTLEMENT,
        name="新村安置点",
        population=4000,
    )
    with pytest.raises(PolicyGapError, match="POST-QUOTA-SITE"):
        f.post(ledger, place, site_id=site, fund_id=place.fund_id, title="保洁")


def test_stipends_are_paid_only_from_the_fund_source_the_catalogue_names(ledger: Ledger) -> None:
    place = f.county(ledger)
    linkage = ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=1,
    )
    with _refused("POST-FUND"):
        ledger.posts.create_post(
            f.clerk(),
            site_id=place.village_id,
            title="护林员",
            stipend_fen=150_000,
            fund_id=linkage,
            part_time=False,
        )


def test_no_stipend_without_insurance(ledger: Ledger) -> None:
    place = f.county(ledger)
    post_id = f.post(ledger, place)
    _appoint(ledger, post_id, f.register(ledger))
    with _refused("POST-INSURANCE"):
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
        )


def test_at_most_one_stipend_per_post_and_month(ledger: Ledger) -> None:
    post_id, _ = f.staffed_post(ledger, f.county(ledger))
    ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    with _refused("POST-ATTENDANCE-ONCE", ConflictError):
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
        )


def test_no_stipend_for_a_month_after_the_exit(ledger: Ledger) -> None:
    post_id, _ = f.staffed_post(ledger, f.county(ledger))
    ledger.posts.exit(
        f.clerk(), post_id, reason=ExitReason.DISMISSAL, effective_on=date(2024, 2, 10)
    )
    ledger.posts.record_attendance(
        f.clerk(), post_id, month=Month(2024, 2), days_worked=7, days_required=21
    )
    with _refused("FRAUD-PAID-AFTER-EXIT"):
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=Month(2024, 3), days_worked=20, days_required=21
        )


def test_no_stipend_for_a_month_after_death(ledger: Ledger) -> None:
    post_id, person = f.staffed_post(ledger, f.county(ledger))
    ledger.people.record_death(
        f.clerk(), person, died_on=date(2024, 3, 15), evidence="civil registry"
    )
    ledger.posts.record_attendance(
        f.clerk(), post_id, month=Month(2024, 3), days_worked=10, days_required=21
    )
    with _refused("FRAUD-PAID-AFTER-EXIT"):
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=Month(2024, 4), days_worked=20, days_required=21
        )


def test_income_above_the_regional_threshold_stops_a_part_time_holders_stipend(
    ledger: Ledger,
) -> None:
    post_id, person = f.staffed_post(ledger, f.county(ledger), part_time=True)
    ledger.people.report_income(
        f.clerk(), person, month=f.JAN, amount_fen=90_000, source="flexible work"
    )
    with pytest.raises(PolicyGapError, match="POST-EXIT-INCOME"):
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
        )
    f.publish(ledger, f.regional_policy(income_exit_threshold_fen=60_000))
    with _refused("POST-EXIT-INCOME"):
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
        )


def test_the_income_rule_concerns_part_time_holders_only(ledger: Ledger) -> None:
    post_id, person = f.staffed_post(ledger, f.county(ledger), part_time=False)
    ledger.people.report_income(f.clerk(), person, month=f.JAN, amount_fen=90_000, source="harvest")
    assert ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )


def test_a_county_fund_cannot_pay_posts_of_a_neighbouring_county(ledger: Ledger) -> None:
    place = f.county(ledger)
    neighbour = ledger.posts.register_site(
        f.clerk(), region_code=f.OTHER_COUNTY, kind=SiteKind.VILLAGE, name="西山村", population=900
    )
    with _refused("POST-FUND"):
        f.post(ledger, place, site_id=neighbour, fund_id=place.fund_id, title="护林员")


def test_a_city_fund_pays_posts_in_its_counties(ledger: Ledger) -> None:
    place = f.county(ledger)
    city_fund = ledger.funds.allocate(
        f.finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code="220200",
        year=2024,
        amount_fen=1,
    )
    assert ledger.posts.create_post(
        f.clerk(),
        site_id=place.village_id,
        title="护林员",
        stipend_fen=150_000,
        fund_id=city_fund,
        part_time=False,
    )


def test_a_stipend_is_paid_from_the_budget_of_its_own_year(ledger: Ledger) -> None:
    place = f.county(ledger)
    post_id, person = f.staffed_post(ledger, place)
    ledger.posts.renew(f.clerk(), post_id, term_start=date(2025, 1, 1), term_end=date(2025, 12, 31))
    ledger.posts.record_insurance(
        f.clerk(),
        post_id,
        kind=InsuranceKind.ACCIDENT,
        policy_number="P-25",
        insurer="PICC",
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
    )
    january_2025 = Month(2025, 1)
    with _refused("POST-FUND"):
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=january_2025, days_worked=21, days_required=21
        )
    fund_2025 = ledger.funds.allocate(
        f.finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=f.COUNTY,
        year=2025,
        amount_fen=10**8,
    )
    payout = ledger.posts.record_attendance(
        f.clerk(), post_id, month=january_2025, days_worked=21, days_required=21
    )
    assert payout is not None
    assert ledger.payouts.get(payout).fund_id == fund_2025
    assert ledger.payouts.get(payout).beneficiary_id == person


def test_only_an_administrator_publishes_catalogue_versions(ledger: Ledger) -> None:
    with _refused("POLICY-PUBLISHER"):
        ledger.policy.publish(
            f.clerk(), national().model_copy(update={"version": "X-1"}), reason="try"
        )
    assert "X-1" not in [d.version for d in ledger.policy.versions()]


def test_a_settlement_sites_quota_follows_its_recorded_population(ledger: Ledger) -> None:
    place = f.county(ledger)  # settlement site of 800 people: 3 posts
    for _ in range(3):
        f.post(ledger, place, site_id=place.settlement_id)
    ledger.posts.update_site_population(f.clerk(), place.settlement_id, population=1500)
    assert ledger.posts.get_site(place.settlement_id).population == 1500
    for _ in range(2):
        f.post(ledger, place, site_id=place.settlement_id)
    with _refused("POST-QUOTA-SITE"):
        f.post(ledger, place, site_id=place.settlement_id)
