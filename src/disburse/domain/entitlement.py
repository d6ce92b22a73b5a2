"""Entitlement without application (免申即享): a transport grant from the facts on record.

Where the ledger holds the facts that make a person eligible under GRANT-ELIG (work in
another province, reported by another system or a department's list), the grant is
opened without a claim. It is the same :class:`TransportGrant` a claim makes, with
``source`` ``proactive`` and the facts it rests on, under an id derived from the person
and the period, so that a second run names the same grant and writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from disburse.domain.errors import RuleViolationError
from disburse.domain.grant import (
    ELIG_RULE,
    PROACTIVE,
    TransportGrant,
    check_person,
    grant_rules,
    months_between,
    proactive_grant_id,
)

if TYPE_CHECKING:
    from disburse.domain.meta import Meta
    from disburse.domain.person import Person
    from disburse.domain.rules import PolicyDocument

#: The rules a proactive grant cites: eligibility, once a period, the amount.
GRANT_RULE_IDS = ("GRANT-ELIG", "GRANT-ONCE", "GRANT-AMOUNT")


def work_started_in(person: Person, year: int) -> list[dict[str, Any]]:
    """The employments on record that started in ``year`` (the period a grant counts in)."""
    return [e for e in person.employments if e["started_on"].year == year]


def qualifying_work(person: Person, year: int, today: date, min_months: int) -> dict[str, Any]:
    """The work away from home that makes the person eligible in ``year``; GRANT-ELIG if none.

    The longest stretch away wins (ties: the earliest start). Work ends at a later
    registration as unemployed, else it lasts until ``today``.
    """
    started = work_started_in(person, year)
    if not started:
        raise RuleViolationError(
            ELIG_RULE, f"no employment starting in {year} is on record", "person_id"
        )
    away = [e for e in started if e["province_code"] != person.home_province]
    if not away:
        raise RuleViolationError(
            ELIG_RULE,
            f"the work on record for {year} is in the home province {person.home_province}",
            "person_id",
        )

    def months(employment: dict[str, Any]) -> int:
        end = employment.get("ended_on") or today
        return months_between(employment["started_on"], min(end, today))

    best = max(away, key=lambda e: (months(e), -e["started_on"].toordinal()))
    if months(best) < min_months:
        ended = best.get("ended_on")
        until = f"until {ended.isoformat()} (registered unemployed)" if ended else "so far"
        raise RuleViolationError(
            ELIG_RULE,
            f"{months(best)} month(s) away on record {until}; at least {min_months} required",
            "person_id",
        )
    return {**best, "months_worked": months(best)}


def entitle(
    *, person: Person, year: int, today: date, policy: PolicyDocument, meta: Meta
) -> TransportGrant:
    """The grant the facts on record give ``person`` for ``year``, or the rule that refuses it."""
    rules = grant_rules(policy)
    check_person(person, rules, policy.version)
    work = qualifying_work(person, year, today, rules.min_months_away)
    started_on: date = work["started_on"]
    ended_on: date | None = work.get("ended_on")
    period = str(year)
    fact = {
        "fact": "employment",
        "province_code": work["province_code"],
        "employer": work["employer"],
        "started_on": started_on.isoformat(),
        "ended_on": None if ended_on is None else ended_on.isoformat(),
        "months_worked": work["months_worked"],
        "recorded_by_request": work.get("request_id"),
    }
    return TransportGrant.named(
        proactive_grant_id(person.id, period),
        person_id=person.id,
        region_code=person.home_region,
        work_province=work["province_code"],
        employer=work["employer"],
        started_on=started_on,
        months_worked=work["months_worked"],
        evidence_ref=f"{PROACTIVE}:{work.get('request_id') or 'employment on record'}",
        external_claim_id=None,
        period=period,
        amount_fen=rules.amount_for(work["province_code"], policy.version),
        meta=meta.because(*GRANT_RULE_IDS, policy_version=policy.version),
        source=PROACTIVE,
        facts=[fact],
    )
