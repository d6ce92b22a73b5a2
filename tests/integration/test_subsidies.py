"""Subsidy applications on SQLite and PostgreSQL: the catalogue decides who, how much, how often."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from disburse.application.payouts import BankResult
from disburse.domain.batch import Outcome
from disburse.domain.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    PolicyGapError,
    RuleViolationError,
)
from disburse.domain.fund import FundSource
from disburse.domain.organisation import OrganisationKind
from disburse.domain.payout import PayoutStatus
from disburse.domain.person import PovertyStatus
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger

JILIN_AMOUNTS = {
    "SVC-BROKER": {"amount": {"kind": "fixed", "amount_fen": 20_000}},
    "TRAIN-OJT": {"amount": {"kind": "monthly", "amount_fen": 50_000, "max_months": 6}},
    "STARTUP-ONCE": {"amount": {"kind": "fixed", "amount_fen": 500_000}},
}


def _jilin(ledger: Ledger) -> f.County:
    f.publish(ledger, f.regional_policy(programmes=JILIN_AMOUNTS))
    return f.county(ledger)


def test_a_broker_is_paid_per_worker_organised_into_work(ledger: Ledger) -> None:
    """SVC-BROKER: a broker is paid the catalogue's amount per worker, then approved and paid."""
    place = _jilin(ledger)
    broker = f.organisation(ledger, OrganisationKind.BROKER)
    workers = [f.register(ledger), f.register(ledger, status=PovertyStatus.MONITORED)]
    claim = ledger.subsidies.submit(
        f.clerk(),
        programme="SVC-BROKER",
        applicant_id=broker,
        beneficiary_ids=workers,
        period_start=date(2024, 1, 1),
        evidence=["contracts 2024-01"],
    )
    payout = ledger.payouts.get(claim.payout_id)
    assert (payout.amount_fen, payout.beneficiary_id) == (40_000, broker)
    assert payout.explanation["policy_version"] == f.REGIONAL_VERSION
    assert payout.explanation["inputs"]["beneficiaries"] == 2
    ledger.payouts.approve(f.finance(), claim.payout_id)
    batch = ledger.payouts.release_batch(
        f.finance(), fund_id=place.fund_id, payout_ids=[claim.payout_id]
    )
    assert ledger.payouts.get(claim.payout_id).account == "6228480012345678"
    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[BankResult(claim.payout_id, Outcome.PAID, bank_reference="ABC-1")],
        control_count=1,
        control_total_fen=40_000,
    )
    assert ledger.payouts.get(claim.payout_id).status is PayoutStatus.PAID


def test_a_worker_counts_for_one_broker(ledger: Ledger) -> None:
    _jilin(ledger)
    worker = f.register(ledger)
    first, second = (f.organisation(ledger, OrganisationKind.BROKER) for _ in range(2))
    facts: dict[str, Any] = {
        "programme": "SVC-BROKER",
        "beneficiary_ids": [worker],
        "period_start": date(2024, 2, 1),
    }
    ledger.subsidies.submit(f.clerk(), applicant_id=first, evidence=["c"], **facts)
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-BROKER"):
        ledger.subsidies.submit(f.clerk(), applicant_id=second, evidence=["c"], **facts)


def test_on_the_job_training_is_refused_for_periods_after_2021(ledger: Ledger) -> None:
    """TRAIN-OJT: only until 2021-12-31."""
    _jilin(ledger)
    employer = f.organisation(ledger, OrganisationKind.EMPLOYER, "某制衣厂")
    worker = f.register(ledger)
    with pytest.raises(RuleViolationError, match="TRAIN-OJT") as caught:
        ledger.subsidies.submit(
            f.clerk(),
            programme="TRAIN-OJT",
            applicant_id=employer,
            beneficiary_ids=[worker],
            period_start=date(2021, 9, 1),
            months=6,
            evidence=["plan", "attendance"],
        )
    assert "2021-12-31" in caught.value.message


def test_on_the_job_training_is_at_most_six_months_and_once_per_worker(ledger: Ledger) -> None:
    """TRAIN-OJT: at most six months, once per worker."""
    _jilin(ledger)
    ledger.funds.allocate(
        f.finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=f.COUNTY,
        year=2021,
        amount_fen=10**8,
    )
    employer = f.organisation(ledger, OrganisationKind.EMPLOYER, "某制衣厂")
    worker = f.register(ledger)

    def train(months: int) -> int:
        claim = ledger.subsidies.submit(
            f.clerk(),
            programme="TRAIN-OJT",
            applicant_id=employer,
            beneficiary_ids=[worker],
            period_start=date(2021, 3, 1),
            months=months,
            evidence=["plan", "attendance"],
        )
        return ledger.payouts.get(claim.payout_id).amount_fen

    with pytest.raises(RuleViolationError, match="TRAIN-OJT"):
        train(7)
    assert train(6) == 300_000
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-GRANT"):
        train(2)


def test_the_liuzhou_wage_subsidy_is_a_chosen_monthly_amount_within_its_range(
    ledger: Ledger,
) -> None:
    """HIRE-WAGE: 300-500 yuan a month per hired person, at most 12 months."""
    f.county(ledger)
    employer = f.organisation(ledger, OrganisationKind.EMPLOYER, "某机械厂")
    worker = f.register(ledger)
    submit: dict[str, Any] = {
        "programme": "HIRE-WAGE",
        "applicant_id": employer,
        "beneficiary_ids": [worker],
        "period_start": date(2024, 1, 1),
        "evidence": ["contract"],
    }
    with pytest.raises(RuleViolationError, match="HIRE-WAGE"):
        ledger.subsidies.submit(f.clerk(), months=12, chosen_fen=60_000, **submit)
    with pytest.raises(RuleViolationError, match="HIRE-WAGE"):
        ledger.subsidies.submit(f.clerk(), months=13, chosen_fen=40_000, **submit)
    claim = ledger.subsidies.submit(f.clerk(), months=12, chosen_fen=40_000, **submit)
    assert ledger.payouts.get(claim.payout_id).amount_fen == 480_000


def test_a_startup_subsidy_is_once_in_a_lifetime_for_the_person_who_applies(ledger: Ledger) -> None:
    """STARTUP-ONCE: one startup subsidy per person, ever."""
    _jilin(ledger)
    founder = f.register(ledger)
    submit: dict[str, Any] = {
        "programme": "STARTUP-ONCE",
        "applicant_id": founder,
        "evidence": ["licence"],
    }
    claim = ledger.subsidies.submit(f.clerk(), period_start=date(2024, 1, 10), **submit)
    assert ledger.payouts.get(claim.payout_id).amount_fen == 500_000
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-GRANT"):
        ledger.subsidies.submit(f.clerk(), period_start=date(2024, 2, 10), **submit)


def test_programme_predicates_refuse_the_wrong_applicant_and_ineligible_beneficiaries(
    ledger: Ledger,
) -> None:
    _jilin(ledger)
    person = f.register(ledger)
    broker = f.organisation(ledger, OrganisationKind.BROKER)
    with pytest.raises(RuleViolationError, match="APP-APPLICANT"):
        ledger.subsidies.submit(
            f.clerk(),
            programme="SVC-BROKER",
            applicant_id=person,
            beneficiary_ids=[person],
            period_start=date(2024, 1, 1),
            evidence=["c"],
        )
    outsider = f.register(ledger, status=PovertyStatus.NONE)
    with pytest.raises(RuleViolationError, match="APP-ELIG"):
        ledger.subsidies.submit(
            f.clerk(),
            programme="SVC-BROKER",
            applicant_id=broker,
            beneficiary_ids=[outsider],
            period_start=date(2024, 1, 1),
            evidence=["c"],
        )
    with pytest.raises(InvalidInputError, match="APP-EVIDENCE"):
        ledger.subsidies.submit(
            f.clerk(),
            programme="SVC-BROKER",
            applicant_id=broker,
            beneficiary_ids=[person],
            period_start=date(2024, 1, 1),
        )


def test_an_amount_the_source_leaves_open_is_a_policy_gap(ledger: Ledger) -> None:
    f.county(ledger)
    base: UUID = f.organisation(ledger, OrganisationKind.BASE, "帮扶车间")
    with pytest.raises(PolicyGapError, match="BASE-REWARD"):
        ledger.subsidies.submit(
            f.clerk(),
            programme="BASE-REWARD",
            applicant_id=base,
            period_start=date(2024, 1, 1),
            evidence=["employment figures"],
        )


def test_a_resubmitted_external_application_returns_the_original(ledger: Ledger) -> None:
    _jilin(ledger)
    founder = f.register(ledger)
    submit: dict[str, Any] = {
        "programme": "STARTUP-ONCE",
        "applicant_id": founder,
        "evidence": ["licence"],
        "period_start": date(2024, 1, 10),
        "external_claim_id": "SYS-42",
    }
    first = ledger.subsidies.submit(f.clerk(), **submit)
    written = ledger.store.recorder.max_notification_id()
    again = ledger.subsidies.submit(f.clerk(), **submit)
    assert (again.application_id, again.payout_id, again.created) == (
        first.application_id,
        first.payout_id,
        False,
    )
    assert ledger.store.recorder.max_notification_id() == written


def test_unknown_programmes_applicants_future_periods_and_missing_budgets_are_refused(
    ledger: Ledger,
) -> None:
    _jilin(ledger)
    founder = f.register(ledger)
    base: dict[str, Any] = {
        "applicant_id": founder,
        "evidence": ["licence"],
        "period_start": date(2024, 1, 10),
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"programme": "NO-SUCH"}, "APP-PROGRAMME"),
        ({"programme": "STARTUP-ONCE", "applicant_id": uuid.uuid4()}, "APPLICANT-NOT-FOUND"),
        ({"programme": "STARTUP-ONCE", "period_start": date(2024, 3, 2)}, "APP-PERIOD"),
        ({"programme": "STARTUP-ONCE", "beneficiary_ids": [f.register(ledger)]}, "APP-ELIG"),
        ({"programme": "STARTUP-ONCE", "period_start": date(2023, 6, 1)}, "APP-FUND"),
    ]
    for change, rule in cases:
        with pytest.raises(DomainError) as caught:
            ledger.subsidies.submit(f.clerk(), **(base | change))
        assert caught.value.rule_id == rule


def test_a_graduate_hire_subsidy_is_a_chosen_one_time_amount(ledger: Ledger) -> None:
    """HIRE-GRAD: a one-time 3000-5000 yuan subsidy for hiring a graduate."""
    f.county(ledger)
    employer = f.organisation(ledger, OrganisationKind.EMPLOYER, "某软件公司")
    graduate = f.register(ledger)
    submit: dict[str, Any] = {
        "programme": "HIRE-GRAD",
        "applicant_id": employer,
        "beneficiary_ids": [graduate],
        "period_start": date(2024, 2, 1),
        "evidence": ["contract", "diploma"],
    }
    with pytest.raises(RuleViolationError, match="HIRE-GRAD"):
        ledger.subsidies.submit(f.clerk(), chosen_fen=200_000, **submit)
    claim = ledger.subsidies.submit(f.clerk(), chosen_fen=400_000, **submit)
    payout = ledger.payouts.get(claim.payout_id)
    assert payout.amount_fen == 400_000
    assert payout.explanation["inputs"]["unit_fen"] == 400_000


def test_a_rejected_application_frees_its_workers_for_a_corrected_one(ledger: Ledger) -> None:
    _jilin(ledger)
    broker = f.organisation(ledger, OrganisationKind.BROKER)
    worker = f.register(ledger)
    submit: dict[str, Any] = {
        "programme": "SVC-BROKER",
        "applicant_id": broker,
        "beneficiary_ids": [worker],
    }
    first = ledger.subsidies.submit(
        f.clerk(), period_start=date(2024, 1, 1), evidence=["x"], **submit
    )
    ledger.payouts.reject(f.finance(), first.payout_id, reason="contracts missing")
    again = ledger.subsidies.submit(
        f.clerk(), period_start=date(2024, 1, 2), evidence=["contracts"], **submit
    )
    assert again.application_id != first.application_id


def test_an_external_application_id_reused_for_other_facts_is_a_conflict(ledger: Ledger) -> None:
    _jilin(ledger)
    founder = f.register(ledger)
    submit: dict[str, Any] = {
        "programme": "STARTUP-ONCE",
        "evidence": ["licence"],
        "external_claim_id": "SYS-43",
    }
    ledger.subsidies.submit(
        f.clerk(), applicant_id=founder, period_start=date(2024, 1, 10), **submit
    )
    with pytest.raises(ConflictError, match="CLAIM-EXTERNAL-ID"):
        ledger.subsidies.submit(
            f.clerk(), applicant_id=founder, period_start=date(2024, 1, 11), **submit
        )


def test_a_failed_payment_to_an_organisation_is_reissued_after_it_changes_account(
    ledger: Ledger,
) -> None:
    place = _jilin(ledger)
    broker = f.organisation(ledger, OrganisationKind.BROKER)
    claim = ledger.subsidies.submit(
        f.clerk(),
        programme="SVC-BROKER",
        applicant_id=broker,
        beneficiary_ids=[f.register(ledger)],
        period_start=date(2024, 1, 1),
        evidence=["c"],
    )
    ledger.payouts.approve(f.finance(), claim.payout_id)
    batch = ledger.payouts.release_batch(
        f.finance(), fund_id=place.fund_id, payout_ids=[claim.payout_id]
    )
    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[BankResult(claim.payout_id, Outcome.FAILED, reason="account closed")],
        control_count=1,
        control_total_fen=20_000,
    )
    ledger.organisations.change_bank_account(
        f.clerk(), broker, bank_account="6228489999999999", reason="new bank"
    )
    ledger.payouts.reissue(
        f.finance(), claim.payout_id, account="6228489999999999", reason="corrected"
    )
    assert ledger.payouts.get(claim.payout_id).status is PayoutStatus.APPROVED


def test_an_organisation_needs_a_valid_credit_code_and_a_name(ledger: Ledger) -> None:
    register: dict[str, Any] = {
        "kind": OrganisationKind.EMPLOYER,
        "region_code": f.COUNTY,
        "bank_account": "6228480012345678",
    }
    with pytest.raises(InvalidInputError, match="ORG-CODE"):
        ledger.organisations.register(
            f.clerk(), credit_code="91220221000000001X", name="厂", **register
        )
    with pytest.raises(InvalidInputError, match="ORG-NAME"):
        ledger.organisations.register(f.clerk(), credit_code=f.credit_code(), name=" ", **register)
    code = f.credit_code()
    first = ledger.organisations.register(f.clerk(), credit_code=code, name="某厂", **register)
    again = ledger.organisations.register(
        f.clerk(), credit_code=code.lower(), name="某厂", **register
    )
    assert (again.organisation_id, again.created) == (first.organisation_id, False)
