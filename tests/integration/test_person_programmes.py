"""Programmes the seeds leave to local amounts, on SQLite and PostgreSQL.

TRAIN-LIVING, PENSION-PROXY and BASE-REWARD: the national catalogue names them but
leaves their amount to the region (a policy gap until a region fills it); with a local
version, each pays its applicant from its own fund source, as often as it allows.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from disburse.domain.errors import PolicyGapError, RuleViolationError
from disburse.domain.fund import FundSource
from disburse.domain.organisation import OrganisationKind
from disburse.domain.person import PovertyStatus
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger

LOCAL_AMOUNTS = {
    "TRAIN-LIVING": {"amount": {"kind": "monthly", "amount_fen": 30_000}},
    "PENSION-PROXY": {"amount": {"kind": "fixed", "amount_fen": 10_000}},
    "BASE-REWARD": {"amount": {"kind": "fixed", "amount_fen": 10_000_000}},
}


def _revitalisation_fund(ledger: Ledger, year: int = 2024) -> UUID:
    return ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=year,
        amount_fen=10**8,
    )


def _submit(ledger: Ledger, programme: str, applicant: UUID, **facts: Any) -> UUID:
    """Submit an application under ``programme``; returns its payout id."""
    evidence = ["training enrolment", "social-insurance enrolment", "employment figures"]
    claim = ledger.subsidies.submit(
        f.clerk(), programme=programme, applicant_id=applicant, evidence=evidence, **facts
    )
    return claim.payout_id


def test_a_training_living_allowance_is_the_local_monthly_amount_times_the_months(
    ledger: Ledger,
) -> None:
    """TRAIN-LIVING: monthly x months to a lifted or low-income trainee, no month limit."""
    place = f.county(ledger)
    trainee = f.register(ledger, status=PovertyStatus.LOW_INCOME)
    with pytest.raises(PolicyGapError, match="TRAIN-LIVING"):  # the national amount is open
        _submit(ledger, "TRAIN-LIVING", trainee, period_start=date(2024, 1, 1), months=2)
    f.publish(ledger, f.regional_policy(programmes=LOCAL_AMOUNTS))

    payout = ledger.payouts.get(
        _submit(ledger, "TRAIN-LIVING", trainee, period_start=date(2024, 1, 1), months=9)
    )

    assert (payout.amount_fen, payout.beneficiary_id) == (270_000, trainee)
    assert payout.fund_id == place.fund_id  # the employment-subsidy fund
    again = _submit(ledger, "TRAIN-LIVING", trainee, period_start=date(2024, 2, 1), months=1)
    assert ledger.payouts.get(again).amount_fen == 30_000  # no frequency limit
    with pytest.raises(RuleViolationError, match="APP-ELIG"):
        _submit(
            ledger,
            "TRAIN-LIVING",
            f.register(ledger, status=PovertyStatus.NONE),
            period_start=date(2024, 1, 1),
            months=1,
        )


def test_a_pension_premium_is_paid_for_a_low_income_person_once_a_year(ledger: Ledger) -> None:
    """PENSION-PROXY: the local premium, from the rural-revitalisation fund, once a year."""
    f.county(ledger)
    fund_2024, fund_2023 = _revitalisation_fund(ledger), _revitalisation_fund(ledger, 2023)
    person = f.register(ledger, status=PovertyStatus.LOW_INCOME)
    with pytest.raises(PolicyGapError, match="the minimum premium grade is local"):
        _submit(ledger, "PENSION-PROXY", person, period_start=date(2024, 1, 1))
    f.publish(ledger, f.regional_policy(programmes=LOCAL_AMOUNTS))

    payout = ledger.payouts.get(
        _submit(ledger, "PENSION-PROXY", person, period_start=date(2024, 1, 1))
    )

    assert (payout.amount_fen, payout.fund_id) == (10_000, fund_2024)
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-GRANT"):
        _submit(ledger, "PENSION-PROXY", person, period_start=date(2024, 2, 1))
    last_year = _submit(ledger, "PENSION-PROXY", person, period_start=date(2023, 1, 1))
    assert ledger.payouts.get(last_year).fund_id == fund_2023


def test_an_assistance_base_is_rewarded_once(ledger: Ledger) -> None:
    """BASE-REWARD: a one-time reward to a base, from the rural-revitalisation fund."""
    f.county(ledger)
    fund = _revitalisation_fund(ledger)
    f.publish(ledger, f.regional_policy(programmes=LOCAL_AMOUNTS))
    base = f.organisation(ledger, OrganisationKind.BASE, "帮扶车间")

    payout = ledger.payouts.get(_submit(ledger, "BASE-REWARD", base, period_start=date(2024, 1, 1)))

    assert (payout.amount_fen, payout.fund_id, payout.beneficiary_id) == (10_000_000, fund, base)
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-GRANT"):
        _submit(ledger, "BASE-REWARD", base, period_start=date(2024, 2, 1))
