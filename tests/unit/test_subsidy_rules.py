"""Programme amounts and organisation codes: properties of the pure rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disburse.domain.errors import InvalidInputError, RuleViolationError
from disburse.domain.fund import FundSource
from disburse.domain.organisation import credit_code_check, normalise_credit_code
from disburse.domain.rules import AmountRule, ProgrammeRules
from disburse.domain.subsidy import compute_amount

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FIRST17 = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


@given(FIRST17)
def test_any_code_with_its_check_character_validates(first17: str) -> None:
    code = first17 + credit_code_check(first17)
    assert normalise_credit_code(code.lower()) == code


@given(FIRST17, st.integers(0, 17), st.sampled_from(ALPHABET))
def test_changing_one_character_of_a_credit_code_is_rejected(
    first17: str, at: int, char: str
) -> None:
    code = first17 + credit_code_check(first17)
    changed = code[:at] + char + code[at + 1 :]
    if changed == code:
        return
    with pytest.raises(InvalidInputError) as caught:
        normalise_credit_code(changed)
    assert caught.value.rule_id == "ORG-CODE"


def _monthly(cap: int | None = None) -> ProgrammeRules:
    return ProgrammeRules(
        title="t",
        applicant_kind="employer",
        per_beneficiary=True,
        amount=AmountRule(
            kind="monthly", min_fen=30_000, max_fen=50_000, max_months=12, cap_fen=cap
        ),
        fund_sources=[FundSource.EMPLOYMENT_SUBSIDY],
    )


@given(st.integers(30_000, 50_000), st.integers(1, 12), st.integers(1, 50))
def test_a_monthly_amount_is_the_chosen_unit_times_months_times_beneficiaries(
    unit: int, months: int, people: int
) -> None:
    total, explanation = compute_amount(
        _monthly(),
        code="HIRE-WAGE",
        version="v",
        beneficiaries=people,
        months=months,
        chosen_fen=unit,
    )
    assert total == unit * months * people
    assert explanation["inputs"] == {"unit_fen": unit, "months": months, "beneficiaries": people}


@given(st.integers(30_000, 50_000), st.integers(1, 12), st.integers(1, 600_000))
def test_the_cap_bounds_what_each_beneficiary_receives(unit: int, months: int, cap: int) -> None:
    total, _ = compute_amount(
        _monthly(cap),
        code="HIRE-WAGE",
        version="v",
        beneficiaries=1,
        months=months,
        chosen_fen=unit,
    )
    assert total == min(unit * months, cap)


@given(st.integers(0, 29_999) | st.integers(50_001, 10**7))
def test_a_chosen_amount_outside_the_range_is_refused_naming_the_programme(unit: int) -> None:
    with pytest.raises(RuleViolationError) as caught:
        compute_amount(
            _monthly(), code="HIRE-WAGE", version="v", beneficiaries=1, months=1, chosen_fen=unit
        )
    assert (caught.value.rule_id, caught.value.field) == ("HIRE-WAGE", "chosen_fen")
