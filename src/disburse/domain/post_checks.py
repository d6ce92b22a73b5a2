"""Checks on a person and a post that the catalogue decides (POST-ELIG, POST-STIPEND-FLOOR)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.domain.errors import RuleViolationError
from disburse.domain.money import yuan
from disburse.domain.regions import scope_of, within
from disburse.domain.rules import PolicyDocument, require

if TYPE_CHECKING:
    from disburse.domain.fund import Fund
    from disburse.domain.person import Person


def check_eligible(person: Person, policy: PolicyDocument) -> None:
    """POST-ELIG: an eligible group, alive, and not on government payroll."""
    if person.is_deceased:
        raise RuleViolationError("POST-ELIG", "the person is recorded deceased", "person_id")
    if person.public_payroll:
        raise RuleViolationError(
            "POST-ELIG", "a person on government payroll cannot hold a public post", "person_id"
        )
    allowed = policy.post.eligible_statuses
    if person.poverty_status not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise RuleViolationError(
            "POST-ELIG",
            f"status {person.poverty_status.value!r} is not eligible under catalogue "
            f"{policy.version} (eligible: {names})",
            field="person_id",
        )


def check_post_fund(fund: Fund, region_code: str, policy: PolicyDocument) -> None:
    """POST-FUND: stipends come from the source the catalogue names, of a covering region."""
    if fund.source not in policy.post.fund_sources:
        allowed = ", ".join(s.value for s in policy.post.fund_sources)
        raise RuleViolationError(
            "POST-FUND",
            f"post stipends are paid from {allowed} under catalogue {policy.version}, "
            f"not {fund.source.value}",
            field="fund_id",
        )
    if not within(region_code, scope_of(fund.region_code)):
        raise RuleViolationError(
            "POST-FUND",
            f"the fund of region {fund.region_code} does not cover region {region_code}",
            field="fund_id",
        )


def check_stipend_floor(stipend_fen: int, policy: PolicyDocument) -> None:
    """POST-STIPEND-FLOOR: not below the local minimum where the catalogue sets one."""
    floor = policy.post.stipend_floor_fen
    if floor is None:
        return
    value = require(
        floor,
        rule_id="POST-STIPEND-FLOOR",
        what="the stipend floor (local minimum wage)",
        version=policy.version,
    )
    if stipend_fen < value:
        raise RuleViolationError(
            "POST-STIPEND-FLOOR",
            f"stipend {yuan(stipend_fen)} yuan is below the floor of {yuan(value)} yuan "
            f"set by catalogue {policy.version}",
            field="stipend_fen",
        )
