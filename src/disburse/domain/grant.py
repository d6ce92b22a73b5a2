"""One-time transport grants (一次性交通补助) for people who work in another province."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import InvalidInputError, PolicyGapError, RuleViolationError
from disburse.domain.meta import Meta
from disburse.domain.person import Person
from disburse.domain.regions import PROVINCE_CODES
from disburse.domain.rules import GrantRules, PolicyDocument

GRANT_PROGRAMME = "GRANT-TRANSPORT"
ONCE_RULE = "FRAUD-DUP-GRANT"


def grant_rules(policy: PolicyDocument) -> GrantRules:
    """The catalogue's grant rules, or a gap error if this version has none."""
    if policy.grant is None:
        raise PolicyGapError(
            "GRANT-ELIG", f"catalogue {policy.version} has no transport grant rules"
        )
    return policy.grant


def grant_period(started_on: date) -> str:
    """GRANT-ONCE: the period a grant counts against (a calendar year)."""
    return str(started_on.year)


def once_key(person_id: UUID, period: str) -> str:
    """The reservation that allows one transport grant per person and period."""
    return f"transport-grant:{person_id}:{period}"


class TransportGrant(Aggregate):
    """A claim for a one-time transport grant, with the amount the catalogue gives."""

    @event("Claimed")
    def __init__(
        self,
        *,
        person_id: UUID,
        region_code: str,
        work_province: str,
        employer: str,
        started_on: date,
        months_worked: int,
        evidence_ref: str,
        external_claim_id: str | None,
        period: str,
        amount_fen: int,
        meta: Meta,
    ) -> None:
        self.person_id = person_id
        self.region_code = region_code
        self.work_province = work_province
        self.employer = employer
        self.started_on = started_on
        self.months_worked = months_worked
        self.evidence_ref = evidence_ref
        self.external_claim_id = external_claim_id
        self.period = period
        self.amount_fen = amount_fen
        self.policy_version = meta.policy_version
        self.submitted_via = meta.client_id

    @classmethod
    def claim(
        cls,
        *,
        person: Person,
        work_province: str,
        employer: str,
        started_on: date,
        months_worked: int,
        evidence_ref: str,
        external_claim_id: str | None,
        today: date,
        policy: PolicyDocument,
        meta: Meta,
    ) -> TransportGrant:
        """Check GRANT-ELIG and the evidence; compute the amount from the catalogue."""
        rules = grant_rules(policy)
        check_claim(
            person=person,
            work_province=work_province,
            employer=employer,
            started_on=started_on,
            evidence_ref=evidence_ref,
            today=today,
        )
        if person.is_deceased or person.poverty_status not in rules.eligible_statuses:
            raise RuleViolationError(
                "GRANT-ELIG",
                f"a {person.poverty_status.value} person is not eligible under {policy.version}",
                "person_id",
            )
        if work_province == person.home_province:
            raise RuleViolationError(
                "GRANT-ELIG",
                "the grant is for work in another province; the workplace is in the home "
                f"province {work_province}",
                "work_province",
            )
        if months_worked < rules.min_months_away:
            raise RuleViolationError(
                "GRANT-ELIG",
                f"at least {rules.min_months_away} months away are required, not {months_worked}",
                "months_worked",
            )
        return cls(
            person_id=person.id,
            region_code=person.home_region,
            work_province=work_province,
            employer=employer.strip(),
            started_on=started_on,
            months_worked=months_worked,
            evidence_ref=evidence_ref.strip(),
            external_claim_id=external_claim_id,
            period=grant_period(started_on),
            amount_fen=rules.amount_for(work_province, policy.version),
            meta=meta.because(
                "GRANT-ELIG", "GRANT-ONCE", "GRANT-AMOUNT", policy_version=policy.version
            ),
        )


def check_claim(
    *,
    person: Person,
    work_province: str,
    employer: str,
    started_on: date,
    evidence_ref: str,
    today: date,
) -> None:
    """The facts of a claim are complete and plausible."""
    if work_province not in PROVINCE_CODES:
        raise InvalidInputError(
            "REGION-CODE", f"{work_province!r} is not a province code", "work_province"
        )
    if not employer.strip():
        raise InvalidInputError("GRANT-EVIDENCE", "the employer is required", "employer")
    if not evidence_ref.strip():
        raise InvalidInputError(
            "GRANT-EVIDENCE", "an evidence reference is required", "evidence_ref"
        )
    if started_on > today:
        raise InvalidInputError("GRANT-EVIDENCE", "work cannot start in the future", "started_on")
    if started_on < person.birth_date:
        raise InvalidInputError("GRANT-EVIDENCE", "work starts before birth", "started_on")
