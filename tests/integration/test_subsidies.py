"""Subsidy applications on SQLite and PostgreSQL: the catalogue decides who, how much, how often."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from disburse.application.payouts import BankResult
from disburse.domain.batch import Outcome
from disburse.domain.errors import InvalidInputError, PolicyGapError, RuleViolationError
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
    facts = {
        "programme": "SVC-BROKER",
        "beneficiary_ids": [worker],
        "period_start": date(2024, 2, 1),
    }
    ledger.subsidies.submit(f.clerk(), applicant_id=first, evidence=["c"], **facts)  # type: ignore[arg-type]
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-BROKER"):
        ledger.subsidies.submit(f.clerk(), applicant_id=second, evidence=["c"], **facts)  # type: ignore[arg-type]


def test_on_the_job_training_is_refused_for_periods_after_2021(ledger: Ledger) -> None:
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
    f.county(ledger)
    employer = f.organisation(ledger, OrganisationKind.EMPLOYER, "某机械厂")
    worker = f.register(ledger)
    submit = {
        "programme": "HIRE-WAGE",
        "applicant_id": employer,
        "beneficiary_ids": [worker],
        "period_start": date(2024, 1, 1),
        "evidence": ["contract"],
    }
    with pytest.raises(RuleViolationError, match="HIRE-WAGE"):
        ledger.subsidies.submit(f.clerk(), months=12, chosen_fen=60_000, **submit)  # type: ignore[arg-type]
    with pytest.raises(RuleViolationError, match="HIRE-WAGE"):
        ledger.subsidies.submit(f.clerk(), months=13, chosen_fen=40_000, **submit)  # type: ignore[arg-type]
    claim = ledger.subsidies.submit(f.clerk(), months=12, chosen_fen=40_000, **submit)  # type: ignore[arg-type]
    assert ledger.payouts.get(claim.payout_id).amount_fen == 480_000


def test_a_startup_subsidy_is_once_in_a_lifetime_for_the_person_who_applies(ledger: Ledger) -> None:
    _jilin(ledger)
    founder = f.register(ledger)
    submit = {"programme": "STARTUP-ONCE", "applicant_id": founder, "evidence": ["licence"]}
    claim = ledger.subsidies.submit(f.clerk(), period_start=date(2024, 1, 10), **submit)  # type: ignore[arg-type]
    assert ledger.payouts.get(claim.payout_id).amount_fen == 500_000
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-GRANT"):
        ledger.subsidies.submit(f.clerk(), period_start=date(2024, 2, 10), **submit)  # type: ignore[arg-type]


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
    submit = {
        "programme": "STARTUP-ONCE",
        "applicant_id": founder,
        "evidence": ["licence"],
        "period_start": date(2024, 1, 10),
        "external_claim_id": "SYS-42",
    }
    first = ledger.subsidies.submit(f.clerk(), **submit)  # type: ignore[arg-type]
    written = ledger.store.recorder.max_notification_id()
    again = ledger.subsidies.submit(f.clerk(), **submit)  # type: ignore[arg-type]
    assert (again.application_id, again.payout_id, again.created) == (
        first.application_id,
        first.payout_id,
        False,
    )
    assert ledger.store.recorder.max_notification_id() == written
