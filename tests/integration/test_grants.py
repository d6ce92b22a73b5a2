"""Transport grants on SQLite and PostgreSQL: eligibility, once a year, idempotent claims."""

from __future__ import annotations

import threading
from datetime import date
from typing import TYPE_CHECKING

import pytest

from disburse.application.payouts import BankResult
from disburse.bootstrap import initialise
from disburse.domain.batch import Outcome
from disburse.domain.errors import ConflictError, DomainError, PolicyGapError, RuleViolationError
from disburse.domain.fund import FundSource
from disburse.domain.payout import PayoutStatus
from disburse.domain.person import PovertyStatus
from tests import factories as f
from tests.integration.test_store import _force_race

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.grants import GrantClaim
    from disburse.application.ledger import Ledger
    from tests.conftest import LedgerFactory

GUANGDONG, LIAONING = "44", "21"
JILIN_GRANTS = {
    "amount_fen": 50_000,
    "tiers": [{"provinces": [LIAONING, "15", "23"], "amount_fen": 30_000}],
    "min_months_away": 3,
}


def _jilin(ledger: Ledger) -> UUID:
    """Jilin city publishes its grant amounts; the county has a linkage-fund budget."""
    f.publish(ledger, f.regional_policy(grant=JILIN_GRANTS))
    return ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=10**7,
    )


def _claim(
    ledger: Ledger, person: UUID, *, province: str = GUANGDONG, **extra: object
) -> GrantClaim:
    facts: dict[str, object] = {
        "work_province": province,
        "employer": "深圳某电子厂",
        "started_on": date(2024, 1, 15),
        "months_worked": 4,
        "evidence_ref": "contract-2024-001",
    } | extra
    return ledger.grants.claim(f.clerk(), person_id=person, **facts)  # type: ignore[arg-type]


def test_a_grant_is_claimed_approved_and_paid_from_the_linkage_fund(ledger: Ledger) -> None:
    fund = _jilin(ledger)
    person = f.register(ledger)
    claim = _claim(ledger, person)
    payout = ledger.payouts.get(claim.payout_id)
    assert (payout.amount_fen, payout.fund_id, payout.period) == (50_000, fund, "2024")
    assert payout.explanation["policy_version"] == f.REGIONAL_VERSION
    ledger.payouts.approve(f.finance(), claim.payout_id)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=fund, payout_ids=[claim.payout_id])
    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[BankResult(claim.payout_id, Outcome.PAID, bank_reference="ICBC-9")],
        control_count=1,
        control_total_fen=50_000,
    )
    assert ledger.payouts.get(claim.payout_id).status is PayoutStatus.PAID
    assert ledger.funds.get(fund).paid_fen == 50_000


def test_a_neighbouring_province_gets_its_tier_amount(ledger: Ledger) -> None:
    _jilin(ledger)
    claim = _claim(ledger, f.register(ledger), province=LIAONING)
    assert ledger.payouts.get(claim.payout_id).amount_fen == 30_000


@pytest.mark.parametrize(
    ("status", "province", "months", "field"),
    [
        (PovertyStatus.LIFTED, "22", 4, "work_province"),  # home province: FRAUD-SAME-PROVINCE
        (PovertyStatus.NONE, GUANGDONG, 4, "person_id"),
        (PovertyStatus.LIFTED, GUANGDONG, 2, "months_worked"),
    ],
)
def test_an_ineligible_claim_is_refused_with_grant_elig(
    ledger: Ledger, status: PovertyStatus, province: str, months: int, field: str
) -> None:
    _jilin(ledger)
    person = f.register(ledger, status=status)
    with pytest.raises(RuleViolationError, match="GRANT-ELIG") as caught:
        _claim(ledger, person, province=province, months_worked=months)
    assert caught.value.field == field


def test_without_a_regional_amount_the_grant_is_a_policy_gap(ledger: Ledger) -> None:
    person = f.register(ledger)
    with pytest.raises(PolicyGapError, match="GRANT-AMOUNT"):
        _claim(ledger, person)


def test_without_a_linkage_budget_the_claim_is_refused(ledger: Ledger) -> None:
    f.publish(ledger, f.regional_policy(grant=JILIN_GRANTS))
    with pytest.raises(RuleViolationError, match="GRANT-FUND"):
        _claim(ledger, f.register(ledger))


def test_a_second_grant_in_the_same_year_is_refused_even_from_another_county(
    ledger: Ledger,
) -> None:
    """GRANT-ONCE: one grant per person per calendar year, from any county (FRAUD-DUP-GRANT)."""
    _jilin(ledger)
    person = f.register(ledger)
    _claim(ledger, person)
    other_county = f.clerk("clerk-of-220222")
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-GRANT"):
        ledger.grants.claim(
            other_county,
            person_id=person,
            work_province="32",
            employer="苏州某厂",
            started_on=date(2024, 2, 1),
            months_worked=5,
            evidence_ref="c-2",
        )
    ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=2023,
        amount_fen=10**7,
    )
    other_year = _claim(ledger, person, started_on=date(2023, 5, 1))
    assert ledger.grants.get(other_year.grant_id).period == "2023"


def test_resubmitting_an_external_claim_returns_the_original_and_writes_nothing(
    ledger: Ledger,
) -> None:
    _jilin(ledger)
    person = f.register(ledger)
    first = _claim(ledger, person, external_claim_id="HR-SYS-0001")
    written = ledger.store.recorder.max_notification_id()
    again = _claim(ledger, person, external_claim_id="HR-SYS-0001")
    assert (again.grant_id, again.payout_id, again.created) == (
        first.grant_id,
        first.payout_id,
        False,
    )
    assert ledger.store.recorder.max_notification_id() == written


def test_two_simultaneous_claims_for_one_person_and_year_one_is_accepted(
    open_ledger: LedgerFactory,
) -> None:
    setup = open_ledger()
    initialise(setup)
    _jilin(setup)
    person = f.register(setup)
    racers = [open_ledger(), open_ledger()]
    _force_race(racers)
    outcomes: list[str] = []

    def claim(racer: Ledger, province: str) -> None:
        try:
            _claim(racer, person, province=province)
            outcomes.append("accepted")
        except RuleViolationError as error:
            outcomes.append(error.rule_id)

    threads = [
        threading.Thread(target=claim, args=(r, p))
        for r, p in zip(racers, ["44", "32"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["FRAUD-DUP-GRANT", "accepted"]


def test_an_external_claim_id_reused_for_other_facts_is_a_conflict(ledger: Ledger) -> None:
    _jilin(ledger)
    person = f.register(ledger)
    _claim(ledger, person, external_claim_id="HR-SYS-0002")
    with pytest.raises(ConflictError, match="CLAIM-EXTERNAL-ID"):
        _claim(ledger, f.register(ledger), external_claim_id="HR-SYS-0002")


def test_a_rejected_grant_frees_the_year_for_a_corrected_claim(ledger: Ledger) -> None:
    _jilin(ledger)
    person = f.register(ledger)
    first = _claim(ledger, person, evidence_ref="unsigned contract")
    ledger.payouts.reject(f.finance(), first.payout_id, reason="contract not signed")
    corrected = _claim(ledger, person, evidence_ref="signed contract")
    assert corrected.grant_id != first.grant_id
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-GRANT"):
        _claim(ledger, person, evidence_ref="a third try")


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"employer": " "}, "employer"),
        ({"evidence_ref": ""}, "evidence_ref"),
        ({"started_on": date(2024, 3, 2)}, "started_on"),  # after today (2024-03-01)
        ({"work_province": "99"}, "work_province"),
    ],
)
def test_a_claim_with_missing_or_impossible_facts_is_refused_naming_the_field(
    ledger: Ledger, facts: dict[str, object], field: str
) -> None:
    _jilin(ledger)
    with pytest.raises(DomainError) as caught:
        _claim(ledger, f.register(ledger), **facts)  # type: ignore[arg-type]
    assert caught.value.field == field
