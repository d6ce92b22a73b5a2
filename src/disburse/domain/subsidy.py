"""Subsidy applications: one aggregate for every programme the catalogue defines."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import InvalidInputError, PolicyGapError, RuleViolationError
from disburse.domain.meta import Meta
from disburse.domain.money import yuan
from disburse.domain.months import add_months
from disburse.domain.person import Person
from disburse.domain.rules import PolicyDocument, ProgrammeRules, require


def programme_rules(policy: PolicyDocument, code: str) -> ProgrammeRules:
    """The programme's rules in this catalogue version."""
    try:
        return policy.programmes[code]
    except KeyError:
        raise RuleViolationError(
            "APP-PROGRAMME", f"catalogue {policy.version} has no programme {code}", "programme"
        ) from None


def compute_amount(
    rules: ProgrammeRules,
    *,
    code: str,
    version: str,
    beneficiaries: int,
    months: int,
    chosen_fen: int | None,
) -> tuple[int, dict[str, Any]]:
    """The amount and its explanation (formula and inputs)."""
    amount = rules.amount
    if amount.kind != "fixed" and amount.min_fen is not None and amount.max_fen is not None:
        if chosen_fen is None or not amount.min_fen <= chosen_fen <= amount.max_fen:
            raise RuleViolationError(
                code,
                f"choose an amount from {yuan(amount.min_fen)} to {yuan(amount.max_fen)} yuan",
                "chosen_fen",
            )
        unit = chosen_fen
    else:
        value = require(
            amount.amount_fen, rule_id=code, what=f"the amount of {code}", version=version
        )
        if value is None:
            raise PolicyGapError(code, f"catalogue {version} gives {code} no amount")
        unit = value
    unit_fen, formula = unit, "unit"
    if amount.kind == "monthly":
        if amount.max_months is not None and months > amount.max_months:
            raise RuleViolationError(code, f"at most {amount.max_months} months", "months")
        unit *= months
        formula = "unit x months"
    if amount.cap_fen is not None and unit > amount.cap_fen:
        unit, formula = amount.cap_fen, f"min({formula}, cap)"
    count = beneficiaries if rules.per_beneficiary else 1
    explanation = {
        "formula": f"{formula} x beneficiaries" if rules.per_beneficiary else formula,
        "inputs": {"unit_fen": unit_fen, "months": months, "beneficiaries": beneficiaries},
    }
    return unit * count, explanation


class SubsidyApplication(Aggregate):
    """An application under a programme, with its computed amount and explanation."""

    @event("Submitted")
    def __init__(
        self,
        *,
        programme: str,
        applicant_id: UUID,
        applicant_kind: str,
        region_code: str,
        beneficiary_ids: list[UUID],
        period_start: date,
        months: int,
        chosen_fen: int | None,
        evidence: list[str],
        external_claim_id: str | None,
        amount_fen: int,
        explanation: dict[str, Any],
        meta: Meta,
    ) -> None:
        self.programme = programme
        self.applicant_id = applicant_id
        self.applicant_kind = applicant_kind
        self.region_code = region_code
        self.beneficiary_ids = list(beneficiary_ids)
        self.period_start = period_start
        self.months = months
        self.chosen_fen = chosen_fen
        self.evidence = list(evidence)
        self.external_claim_id = external_claim_id
        self.amount_fen = amount_fen
        self.explanation = explanation
        self.submitted_via = meta.client_id

    @property
    def period(self) -> str:
        """The year the application counts against (once-per-year programmes)."""
        return str(self.period_start.year)

    @classmethod
    def submit(
        cls,
        *,
        programme: str,
        applicant_id: UUID,
        applicant_kind: str,
        region_code: str,
        beneficiaries: list[Person],
        period_start: date,
        months: int,
        chosen_fen: int | None,
        evidence: list[str],
        external_claim_id: str | None,
        today: date,
        policy: PolicyDocument,
        meta: Meta,
    ) -> SubsidyApplication:
        """Check the programme's predicates and compute the amount."""
        rules = programme_rules(policy, programme)
        if applicant_kind != rules.applicant_kind:
            raise RuleViolationError(
                "APP-APPLICANT",
                f"{programme} is applied for by a {rules.applicant_kind}, not a {applicant_kind}",
                "applicant_id",
            )
        if not 1 <= months <= 120:  # noqa: PLR2004 - ten years bounds any programme
            raise InvalidInputError("APP-PERIOD", "months is 1 to 120", "months")
        if period_start > today:
            raise InvalidInputError("APP-PERIOD", "the period has not started yet", "period_start")
        check_period(rules, programme, period_start, months)
        if applicant_kind == "person" and any(b.id != applicant_id for b in beneficiaries):
            raise RuleViolationError(
                "APP-ELIG", "a person applies for themselves only", "beneficiary_ids"
            )
        check_beneficiaries(rules, programme, beneficiaries)
        if rules.evidence and not [e for e in evidence if e.strip()]:
            raise InvalidInputError(
                "APP-EVIDENCE", f"{programme} needs: {'; '.join(rules.evidence)}", "evidence"
            )
        amount, explanation = compute_amount(
            rules,
            code=programme,
            version=policy.version,
            beneficiaries=len(beneficiaries),
            months=months,
            chosen_fen=chosen_fen,
        )
        return cls(
            programme=programme,
            applicant_id=applicant_id,
            applicant_kind=applicant_kind,
            region_code=region_code,
            beneficiary_ids=[b.id for b in beneficiaries],
            period_start=period_start,
            months=months,
            chosen_fen=chosen_fen,
            evidence=[e.strip() for e in evidence if e.strip()],
            external_claim_id=external_claim_id,
            amount_fen=amount,
            explanation=explanation
            | {"policy_version": policy.version, "rule_ids": [programme, "APP-ELIG"]},
            meta=meta.because(programme, "APP-ELIG", policy_version=policy.version),
        )


def check_period(rules: ProgrammeRules, code: str, period_start: date, months: int) -> None:
    """The whole period lies within the programme's effective dates."""
    period_end = add_months(period_start, months) - timedelta(days=1)
    if rules.effective_from is not None and period_start < rules.effective_from:
        raise RuleViolationError(
            code, f"{code} applies from {rules.effective_from.isoformat()}", "period_start"
        )
    if rules.effective_to is not None and period_end > rules.effective_to:
        raise RuleViolationError(
            code,
            f"{code} applies only until {rules.effective_to.isoformat()}; "
            f"this period runs to {period_end.isoformat()}",
            "period_start",
        )


def check_beneficiaries(rules: ProgrammeRules, code: str, beneficiaries: list[Person]) -> None:
    """APP-ELIG: each beneficiary is alive and of an eligible group; none twice."""
    if rules.beneficiary_statuses and not beneficiaries:
        raise InvalidInputError("APP-ELIG", f"{code} names its beneficiaries", "beneficiary_ids")
    if len({b.id for b in beneficiaries}) != len(beneficiaries):
        raise InvalidInputError("APP-ELIG", "a beneficiary appears twice", "beneficiary_ids")
    for person in beneficiaries:
        if person.is_deceased or person.poverty_status not in rules.beneficiary_statuses:
            raise RuleViolationError(
                "APP-ELIG",
                f"person {person.id} ({person.poverty_status.value}) is not eligible for {code}",
                "beneficiary_ids",
            )
