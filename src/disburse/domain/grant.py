"""One-time transport grants (一次性交通补助) for people who work in another province."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import InvalidInputError, PolicyGapError, RuleViolationError
from disburse.domain.meta import Meta
from disburse.domain.person import Person
from disburse.domain.regions import PROVINCE_CODES
from disburse.domain.rules import GrantRules, PolicyDocument

GRANT_PROGRAMME = "GRANT-TRANSPORT"
ONCE_RULE = "FRAUD-DUP-GRANT"
ELIG_RULE = "GRANT-ELIG"
#: Where a grant came from: a claim (an application), or the ledger's own facts (免申即享).
CLAIM, PROACTIVE = "claim", "proactive"
GRANT_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e00b")


def proactive_grant_id(person_id: UUID, period: str) -> UUID:
    """The grant a proactive run opens for a person and period: a second run names it again."""
    return uuid.uuid5(GRANT_NAMESPACE, f"proactive:{person_id}:{period}")


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 if ``end`` is before ``start``)."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return max(months, 0)


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
        # Before the ``*``: eventsourcing 9.5 treats keyword-only arguments with defaults
        # as required; these two came later, and events stored before them lack them.
        source: str = CLAIM,
        facts: list[dict[str, Any]] | None = None,
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
        self.source = source  # events stored before proactive grants: a claim
        self.facts = list(facts or [])  # the recorded facts a proactive grant rests on

    @classmethod
    def named(cls, grant_id: UUID, **facts: object) -> TransportGrant:
        """A grant under a derived id (a claim's is random), recorded as ``Claimed`` is."""
        created = cls.Claimed  # type: ignore[attr-defined]  # made by @event at runtime
        return cls._create(created, id=grant_id, **facts)

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
        check_person(person, rules, policy.version)
        if work_province == person.home_province:
            raise RuleViolationError(
                ELIG_RULE,
                "the grant is for work in another province; the workplace is in the home "
                f"province {work_province}",
                "work_province",
            )
        if months_worked < rules.min_months_away:
            raise RuleViolationError(
                ELIG_RULE,
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
            source=CLAIM,
            facts=[],
        )


def check_person(person: Person, rules: GrantRules, version: str) -> None:
    """GRANT-ELIG as to the person: alive, and of a group the catalogue names."""
    if person.died_on is not None:
        raise RuleViolationError(
            ELIG_RULE, f"the person died on {person.died_on.isoformat()}", "person_id"
        )
    if person.poverty_status not in rules.eligible_statuses:
        raise RuleViolationError(
            ELIG_RULE,
            f"a {person.poverty_status.value} person is not eligible under {version}",
            "person_id",
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
