"""Each FRAUD-* rule fires on the case it is for and stays silent on a near miss.

Several rules are also enforced when a claim is made; the alerts are the second line,
for facts that reached the log another way (a later fact, a legacy import, a rule not in
force at the time). Those cases are written straight to the store with ``force``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

from disburse.application.payouts import BankResult
from disburse.domain.alert import AlertOutcome
from disburse.domain.batch import Outcome
from disburse.domain.errors import ConflictError, NotFoundError, RuleViolationError
from disburse.domain.fund import FundSource
from disburse.domain.grant import TransportGrant
from disburse.domain.months import Month
from disburse.domain.payout import Payout, PayoutKind
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.post import ExitReason, InsuranceKind
from disburse.domain.subsidy import SubsidyApplication
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.readside.alerts.queries import Alert
    from disburse.readside.queue_queries import QueuedPayout
    from disburse.readside.views import Views

FEB = Month(2024, 2)


def force(ledger: Ledger, *aggregates: object) -> None:
    """Write aggregates without the application's checks (facts that got in another way)."""
    ledger.store.save(*aggregates)  # type: ignore[arg-type]


def raised(views: Views, rule: str) -> list[Alert]:
    views.catch_up()
    return views.alerts.find(rule=rule)


def grant(
    person: UUID, *, period: str = "2024", region: str = f.COUNTY, province: str = "44"
) -> TransportGrant:
    return TransportGrant(
        person_id=person,
        region_code=region,
        work_province=province,
        employer="深圳某电子厂",
        started_on=date(int(period), 2, 1),
        months_worked=4,
        evidence_ref="contract",
        external_claim_id=None,
        period=period,
        amount_fen=50_000,
        meta=f.meta(),
    )


def application(
    programme: str,
    applicant: UUID,
    kind: str,
    beneficiaries: list[UUID],
    *,
    months: int = 1,
    start: date = date(2024, 1, 1),
) -> SubsidyApplication:
    return SubsidyApplication(
        programme=programme,
        applicant_id=applicant,
        applicant_kind=kind,
        region_code=f.COUNTY,
        beneficiary_ids=beneficiaries,
        period_start=start,
        months=months,
        chosen_fen=None,
        evidence=["contract"],
        external_claim_id=None,
        amount_fen=10_000 * len(beneficiaries),
        explanation={},
        meta=f.meta(),
    )


def stipends(ledger: Ledger, *, part_time: bool = False) -> tuple[UUID, UUID, list[UUID]]:
    """A staffed post with January and February stipends approved and paid."""
    place = f.county(ledger)
    post_id, person = f.staffed_post(ledger, place, part_time=part_time)
    payouts = []
    for month in (f.JAN, FEB):
        payout = ledger.posts.record_attendance(
            f.clerk(), post_id, month=month, days_worked=20, days_required=20
        )
        assert payout is not None
        payouts.append(payout)
        ledger.payouts.approve(f.finance(), payout)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=payouts)
    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[
            BankResult(p, Outcome.PAID, bank_reference=f"B-{i}") for i, p in enumerate(payouts)
        ],
        control_count=2,
        control_total_fen=300_000,
    )
    return post_id, person, payouts


# -- grants and brokers ---------------------------------------------------------------------


def test_two_transport_grants_in_one_year_via_two_counties_raise_dup_grant(
    ledger: Ledger, views: Views
) -> None:
    """FRAUD-DUP-GRANT: two transport grants of one person in one year, via two counties."""
    person = f.register(ledger)
    force(ledger, grant(person), grant(person, region=f.OTHER_COUNTY))
    force(ledger, grant(f.register(ledger)), grant(f.register(ledger)))  # two people: silent

    [alert] = raised(views, "FRAUD-DUP-GRANT")

    assert (alert.subject_id, alert.person_id, alert.state) == (str(person), str(person), "open")
    assert len(alert.evidence) == 2


def test_grants_of_one_person_in_different_years_are_not_duplicates(
    ledger: Ledger, views: Views
) -> None:
    person = f.register(ledger)
    force(ledger, grant(person, period="2023"), grant(person, period="2024"))

    assert raised(views, "FRAUD-DUP-GRANT") == []


def test_one_worker_claimed_by_two_brokers_in_a_year_raises_dup_broker(
    ledger: Ledger, views: Views
) -> None:
    """FRAUD-DUP-BROKER: one worker claimed by two brokers (SVC-BROKER) in one year."""
    worker, other = f.register(ledger), f.register(ledger)
    first, second = uuid4(), uuid4()
    force(ledger, application("SVC-BROKER", first, "broker", [worker, other]))
    force(ledger, application("SVC-BROKER", second, "broker", [worker]))
    force(ledger, application("SVC-BROKER", second, "broker", [other], start=date(2023, 5, 1)))

    [alert] = raised(views, "FRAUD-DUP-BROKER")

    assert alert.person_id == str(worker)
    assert len(alert.evidence) == 2


def test_a_grant_for_work_in_the_home_province_raises_same_province(
    ledger: Ledger, views: Views
) -> None:
    """FRAUD-SAME-PROVINCE: a transport grant for work in the person's home province."""
    person = f.register(ledger)  # home province 22 (Jilin)
    home, away = grant(person, province="22"), grant(f.register(ledger), province="44")
    force(ledger, home, away)

    [alert] = raised(views, "FRAUD-SAME-PROVINCE")

    assert (alert.subject_type, alert.subject_id) == ("grant", str(home.id))


# -- placements -----------------------------------------------------------------------------


def test_a_holder_found_on_a_government_payroll_later_is_flagged(
    ledger: Ledger, views: Views
) -> None:
    """FRAUD-INELIGIBLE-PLACEMENT: a holder found on a government payroll after appointment."""
    place = f.county(ledger)
    post_id, person = f.staffed_post(ledger, place)
    _, colleague = f.staffed_post(ledger, place)
    assert raised(views, "FRAUD-INELIGIBLE-PLACEMENT") == []

    ledger.people.change_status(
        f.clerk(), person, public_payroll=True, effective_on=date(2024, 2, 1), reason="HR data"
    )

    [alert] = raised(views, "FRAUD-INELIGIBLE-PLACEMENT")
    assert (alert.subject_id, alert.person_id) == (str(post_id), str(person))
    assert "payroll" in alert.summary
    assert colleague != person


def test_a_second_post_or_an_ineligible_appointee_is_flagged(ledger: Ledger, views: Views) -> None:
    place = f.county(ledger)
    _, holder = f.staffed_post(ledger, place)
    second = ledger.posts.get(f.post(ledger, place))
    second._appointed(  # noqa: SLF001 - the appointment the service would refuse
        person_id=holder,
        term_start=date(2024, 1, 1),
        term_end=date(2024, 12, 31),
        priority_labour=False,
        meta=f.meta(),
    )
    third = ledger.posts.get(f.post(ledger, place))
    third._appointed(  # noqa: SLF001
        person_id=f.register(ledger, status=PovertyStatus.NONE),
        term_start=date(2024, 1, 1),
        term_end=date(2024, 12, 31),
        priority_labour=False,
        meta=f.meta(),
    )
    force(ledger, second, third)

    alerts = raised(views, "FRAUD-INELIGIBLE-PLACEMENT")

    assert sorted(a.summary.split(" ")[0] for a in alerts) == ["a", "the"]
    assert {a.subject_id for a in alerts} == {str(second.id), str(third.id)}


def test_a_person_who_left_one_post_may_hold_another(ledger: Ledger, views: Views) -> None:
    place = f.county(ledger)
    first, person = f.staffed_post(ledger, place)
    ledger.posts.exit(
        f.clerk(),
        first,
        reason=ExitReason.CONTRACT_END,
        effective_on=date(2024, 1, 31),
        note="ended",
    )
    f.staffed_post(ledger, place, person)

    assert raised(views, "FRAUD-INELIGIBLE-PLACEMENT") == []


# -- paid after exit or death ---------------------------------------------------------------


def test_an_exit_recorded_late_flags_the_stipends_already_paid_for_later_months(
    ledger: Ledger, views: Views
) -> None:
    """FRAUD-PAID-AFTER-EXIT: an exit recorded late flags the stipends of later months."""
    post_id, _, (january, february) = stipends(ledger)
    assert raised(views, "FRAUD-PAID-AFTER-EXIT") == []

    ledger.posts.exit(
        f.clerk(),
        post_id,
        reason=ExitReason.VOLUNTARY,
        effective_on=date(2024, 1, 20),
        note="moved away",
    )

    [alert] = raised(views, "FRAUD-PAID-AFTER-EXIT")
    assert alert.subject_id == str(february)
    assert str(january) not in {a.subject_id for a in views.alerts.find()}


def test_a_death_recorded_late_flags_every_payout_for_later_periods(
    ledger: Ledger, views: Views
) -> None:
    post_id, person, (january, february) = stipends(ledger)
    views.catch_up()

    ledger.people.record_death(f.clerk(), person, died_on=date(2024, 1, 15), evidence="civil reg")

    [alert] = raised(views, "FRAUD-PAID-AFTER-EXIT")
    assert alert.subject_id == str(february)
    assert alert.raised_position > alert.evidence[0]  # raised after the payout it flags
    assert "died on 2024-01-15" in alert.summary
    assert raised(views, "FRAUD-DECEASED") == []  # one alert per payout: the stipend rule
    assert str(january) not in {a.subject_id for a in views.alerts.find()}

    ledger.posts.exit(
        f.clerk(), post_id, reason=ExitReason.DEATH, effective_on=date(2024, 1, 15), note="died"
    )
    [same] = raised(views, "FRAUD-PAID-AFTER-EXIT")  # the exit adds evidence, not an alert
    assert (same.alert_id, len(same.evidence)) == (alert.alert_id, 3)


def test_a_grant_for_work_begun_after_death_raises_deceased(ledger: Ledger, views: Views) -> None:
    """FRAUD-DECEASED: a payout to a person recorded deceased before its period."""
    person = f.register(ledger)
    ledger.people.record_death(f.clerk(), person, died_on=date(2024, 1, 10), evidence="civil")
    claim = grant(person)  # work from 1 February
    payout = Payout.request(
        kind=PayoutKind.GRANT,
        programme="GRANT-TRANSPORT",
        source_id=claim.id,
        period="2024",
        beneficiary_id=person,
        fund_id=uuid4(),
        region_code=f.COUNTY,
        amount_fen=50_000,
        explanation={},
        meta=f.meta(),
    )
    force(ledger, payout, claim)  # the request logged before its claim: still found

    [alert] = raised(views, "FRAUD-DECEASED")

    assert alert.subject_id == str(payout.id)
    assert raised(views, "FRAUD-PAID-AFTER-EXIT") == []


# -- accounts, income, caps and outliers ----------------------------------------------------


def test_one_account_for_two_households_raises_shared_account_but_one_family_does_not(
    ledger: Ledger, views: Views
) -> None:
    """FRAUD-SHARED-ACCOUNT: one account on record for people of two households."""
    shared, family = "6222020200000017", "6222020200000025"
    a, b = f.register(ledger, account=shared), f.register(ledger, account=shared)
    for _ in range(2):
        member(ledger, "H-FAMILY", family)

    [alert] = raised(views, "FRAUD-SHARED-ACCOUNT")

    assert alert.subject_type == "account"
    assert {str(a), str(b)} <= set(alert.summary.split(": ")[1].split(", "))
    assert shared not in repr(views.alerts.find())  # the account itself is never in the view


def test_income_over_the_threshold_flags_the_part_time_holder_still_paid(
    ledger: Ledger, views: Views
) -> None:
    """FRAUD-INCOME-OVER: a part-time holder paid while income is over the threshold."""
    f.publish(ledger, f.regional_policy(income_exit_threshold_fen=200_000))
    _, person, (january, february) = stipends(ledger, part_time=True)

    ledger.people.report_income(f.clerk(), person, month=FEB, amount_fen=200_000, source="farm")
    assert raised(views, "FRAUD-INCOME-OVER") == []  # at the threshold: not over it

    ledger.people.report_income(f.clerk(), person, month=f.JAN, amount_fen=200_001, source="farm")
    [alert] = raised(views, "FRAUD-INCOME-OVER")
    assert alert.person_id == str(person)
    assert len(alert.evidence) == 3  # the income and both stipends from January on
    assert "2 stipend(s)" in alert.summary
    assert {str(january), str(february)} <= {str(p.payout_id) for p in _paid(views)}


def test_two_stipends_for_one_month_or_months_beyond_a_limit_raise_over_cap(
    ledger: Ledger, views: Views
) -> None:
    """FRAUD-OVER-CAP: two stipends for one month, or HIRE-WAGE months beyond its limit."""
    _, person, (january, _) = stipends(ledger)
    first = ledger.payouts.get(january)
    second = Payout.request(
        kind=PayoutKind.STIPEND,
        programme=first.programme,
        source_id=uuid4(),  # another post
        period=str(f.JAN),
        beneficiary_id=person,
        fund_id=first.fund_id,
        region_code=f.COUNTY,
        amount_fen=150_000,
        explanation={},
        meta=f.meta(),
    )
    employer, trainee, fine = uuid4(), f.register(ledger), f.register(ledger)
    force(
        ledger,
        second,
        application("HIRE-WAGE", employer, "employer", [trainee, fine], months=8),
        application("HIRE-WAGE", employer, "employer", [trainee], months=5),
    )

    alerts = raised(views, "FRAUD-OVER-CAP")

    assert sorted(a.person_id or "" for a in alerts) == sorted([str(person), str(trainee)])
    assert any("13 months" in a.summary for a in alerts)


def test_a_stipend_far_from_similar_posts_is_an_outlier_once_there_are_peers(
    ledger: Ledger, views: Views
) -> None:
    """POST-UNIFORM is flagged, never blocked: FRAUD-PAY-OUTLIER once a post has peers."""
    place = f.county(ledger)
    high = f.post(ledger, place, stipend_fen=300_000)
    f.post(ledger, place, stipend_fen=180_000)  # 20% above: within the 30% allowed
    assert raised(views, "FRAUD-PAY-OUTLIER") == []  # too few peers to judge

    for _ in range(2):
        f.post(ledger, place, stipend_fen=150_000)

    [alert] = raised(views, "FRAUD-PAY-OUTLIER")
    assert alert.subject_id == str(high)


# -- decisions and re-processing --------------------------------------------------------------


def test_a_dismissed_alert_is_not_raised_again_for_the_same_evidence(
    ledger: Ledger, views: Views
) -> None:
    shared = "6222020200000033"
    member(ledger, "H-WANG", shared)
    member(ledger, "H-LI", shared)
    [alert] = raised(views, "FRAUD-SHARED-ACCOUNT")

    f.alert_desk(ledger, views).resolve(
        f.inspector(), alert.alert_id, outcome=AlertOutcome.DISMISSED, reason="a married couple"
    )
    views.projector.rebuild()
    [again] = raised(views, "FRAUD-SHARED-ACCOUNT")
    assert (again.alert_id, again.state, again.resolution) == (
        alert.alert_id,
        "dismissed",
        "a married couple",
    )

    member(ledger, "H-WANG", shared)  # one more of a household already seen: same evidence
    assert [a.alert_id for a in raised(views, "FRAUD-SHARED-ACCOUNT")] == [alert.alert_id]

    f.register(ledger, account=shared)  # a third household: new evidence
    newer = raised(views, "FRAUD-SHARED-ACCOUNT")
    assert [(a.generation, a.state) for a in newer] == [(1, "dismissed"), (2, "open")]
    assert len(newer[1].evidence) == 3  # one registration per household


def test_only_an_inspector_resolves_an_alert_once_with_a_reason(
    ledger: Ledger, views: Views
) -> None:
    shared = "6222020200000041"
    f.register(ledger, account=shared)
    f.register(ledger, account=shared)
    [alert] = raised(views, "FRAUD-SHARED-ACCOUNT")

    with pytest.raises(RuleViolationError) as denied:
        f.alert_desk(ledger, views).resolve(
            f.finance(), alert.alert_id, outcome=AlertOutcome.CONFIRMED, reason="x"
        )
    assert denied.value.rule_id == "ALERT-RESOLVER"
    with pytest.raises(NotFoundError):
        f.alert_desk(ledger, views).resolve(
            f.inspector(), uuid4(), outcome=AlertOutcome.CONFIRMED, reason="x"
        )
    f.alert_desk(ledger, views).resolve(
        f.inspector(), alert.alert_id, outcome=AlertOutcome.CONFIRMED, reason="case 12 opened"
    )
    with pytest.raises(ConflictError):
        f.alert_desk(ledger, views).resolve(
            f.inspector(), alert.alert_id, outcome=AlertOutcome.DISMISSED, reason="second look"
        )
    views.catch_up()
    resolved = views.alerts.get(alert.alert_id)
    assert resolved is not None
    assert (resolved.state, resolved.resolved_by) == ("confirmed", "inspector-1")


def test_a_death_on_the_first_day_of_a_month_leaves_that_months_stipend_alone(
    ledger: Ledger, views: Views
) -> None:
    _, person, _ = stipends(ledger)

    ledger.people.record_death(f.clerk(), person, died_on=date(2024, 2, 1), evidence="civil reg")

    assert raised(views, "FRAUD-DECEASED") == raised(views, "FRAUD-PAID-AFTER-EXIT") == []


def test_an_employer_claiming_once_ever_twice_for_one_worker_is_a_duplicate_not_for_two(
    ledger: Ledger, views: Views
) -> None:
    employer, worker, other = uuid4(), f.register(ledger), f.register(ledger)
    force(ledger, application("HIRE-WAGE", employer, "employer", [worker], months=2))
    force(ledger, application("HIRE-WAGE", employer, "employer", [other], months=2))
    assert raised(views, "FRAUD-DUP-GRANT") == []  # two workers: two legitimate claims

    force(ledger, application("HIRE-WAGE", uuid4(), "employer", [worker], start=date(2023, 1, 1)))

    [alert] = raised(views, "FRAUD-DUP-GRANT")
    assert (alert.subject_type, alert.person_id) == ("person", str(worker))


def test_one_broker_claiming_a_worker_twice_in_a_year_is_a_duplicate_grant(
    ledger: Ledger, views: Views
) -> None:
    broker, worker = uuid4(), f.register(ledger)
    force(ledger, application("SVC-BROKER", broker, "broker", [worker]))
    force(ledger, application("SVC-BROKER", broker, "broker", [worker], start=date(2024, 6, 1)))

    assert [a.person_id for a in raised(views, "FRAUD-DUP-GRANT")] == [str(worker)]
    assert raised(views, "FRAUD-DUP-BROKER") == []  # one broker


def _paid(views: Views) -> list[QueuedPayout]:
    views.catch_up()
    return views.queue.pending(status="paid")


def member(ledger: Ledger, household: str, account: str) -> UUID:
    """Register a person of ``household`` with ``account``."""
    return ledger.people.register(
        f.clerk(),
        resident_id=f.resident_id(),
        name="户成员",
        home_region=f.COUNTY,
        poverty_status=PovertyStatus.LIFTED,
        labour_capacity=LabourCapacity.WEAK,
        household_id=household,
        bank_account=account,
        public_payroll=False,
    ).person_id


def test_a_holder_moving_posts_mid_month_is_paid_by_both_without_an_alert(
    ledger: Ledger, views: Views
) -> None:
    place = f.county(ledger)
    first, person = f.staffed_post(ledger, place)
    ledger.posts.exit(
        f.clerk(), first, reason=ExitReason.VOLUNTARY, effective_on=date(2024, 1, 15), note="moved"
    )
    second = f.post(ledger, place)
    ledger.posts.appoint(
        f.clerk(),
        second,
        person_id=person,
        term_start=date(2024, 1, 16),
        term_end=date(2024, 12, 31),
    )
    ledger.posts.record_insurance(
        f.clerk(),
        second,
        kind=InsuranceKind.ACCIDENT,
        policy_number="PICC-2",
        insurer="PICC",
        valid_from=date(2024, 1, 16),
        valid_to=date(2024, 12, 31),
    )
    for post_id, days in ((first, 10), (second, 12)):
        ledger.posts.record_attendance(
            f.clerk(), post_id, month=f.JAN, days_worked=days, days_required=22
        )

    assert raised(views, "FRAUD-OVER-CAP") == []


def test_a_rejected_grant_and_its_corrected_claim_are_not_duplicates(
    ledger: Ledger, views: Views
) -> None:
    f.publish(ledger, f.regional_policy(grant={"amount_fen": 50_000, "min_months_away": 3}))
    ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=10**7,
    )
    person = f.register(ledger)
    claims = []
    for evidence in ("c-1", "c-2"):
        claims.append(
            ledger.grants.claim(
                f.clerk(),
                person_id=person,
                work_province="44",
                employer="深圳某电子厂",
                started_on=date(2024, 1, 15),
                months_worked=4,
                evidence_ref=evidence,
            )
        )
        if evidence == "c-1":
            ledger.payouts.reject(f.finance(), claims[0].payout_id, reason="wrong contract")

    assert raised(views, "FRAUD-DUP-GRANT") == []


def test_the_legitimate_life_of_money_raises_no_alert(ledger: Ledger, views: Views) -> None:
    f.money_story(ledger)

    assert raised(views, "FRAUD-OVER-CAP") == views.alerts.find() == []
