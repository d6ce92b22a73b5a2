"""Transport grant claims: eligibility, one per person and year, idempotent resubmission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.application.claims import (
    check_same_claim,
    external_key,
    holder_of,
    remember_external,
    reserve,
)
from disburse.application.payouts import open_payout
from disburse.domain.errors import RuleViolationError
from disburse.domain.grant import (
    GRANT_PROGRAMME,
    ONCE_RULE,
    TransportGrant,
    grant_rules,
    once_key,
)
from disburse.domain.payout import Payout, PayoutKind, payout_id_for
from disburse.domain.person import Person

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.application.funds import Funds
    from disburse.application.policy import Policy
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore


def _facts(grant: TransportGrant) -> tuple[object, ...]:
    """What makes two submissions the same claim."""
    return (
        grant.person_id,
        grant.work_province,
        grant.employer,
        grant.started_on,
        grant.months_worked,
    )


@dataclass(frozen=True)
class GrantClaim:
    """The grant and its payout; ``created`` is False for a resubmitted external claim."""

    grant_id: UUID
    payout_id: UUID
    created: bool


class Grants:
    """Claim transport grants."""

    def __init__(
        self, store: LedgerStore, policy: Policy, funds: Funds, today: Callable[[], date]
    ) -> None:
        self._store = store
        self._policy = policy
        self._funds = funds
        self._today = today

    def get(self, grant_id: UUID) -> TransportGrant:
        """The grant, or ``NotFoundError``."""
        return self._store.load(TransportGrant, grant_id, "grant")

    def claim(
        self,
        ctx: Context,
        *,
        person_id: UUID,
        work_province: str,
        employer: str,
        started_on: date,
        months_worked: int,
        evidence_ref: str,
        external_claim_id: str | None = None,
    ) -> GrantClaim:
        """Claim a grant; FRAUD-DUP-GRANT if the person has one for the period already."""

        def decide(changes: Changes) -> GrantClaim:
            if external_claim_id:
                earlier = self._earlier(ctx.client_id, external_claim_id)
                if earlier is not None:
                    check_same_claim(
                        external_claim_id,
                        earlier.grant_id,
                        _facts(self.get(earlier.grant_id)),
                        (person_id, work_province, employer.strip(), started_on, months_worked),
                    )
                    return earlier
            person = self._store.load(Person, person_id, "person")
            person.require_identity()
            policy = self._policy.in_force(person.home_region, started_on)
            meta = ctx.meta().because(policy_version=policy.version)
            grant = TransportGrant.claim(
                person=person,
                work_province=work_province,
                employer=employer,
                started_on=started_on,
                months_worked=months_worked,
                evidence_ref=evidence_ref,
                external_claim_id=external_claim_id,
                today=self._today(),
                policy=policy,
                meta=meta,
            )
            once = reserve(
                self._store,
                key=once_key(grant.person_id, grant.period),
                rule_id=ONCE_RULE,
                holder_id=grant.id,
                refusal=f"person {grant.person_id} already has a transport grant for "
                f"{grant.period}, whichever county or system claimed it",
                field="person_id",
                meta=meta,
            )
            changes.add(grant, once)
            if external_claim_id:
                changes.add(remember_external(ctx.client_id, external_claim_id, grant.id, meta))
            rules = grant_rules(policy)
            fund = self._funds.covering(rules.fund_sources, person.home_region, started_on.year)
            if fund is None:
                raise RuleViolationError(
                    "GRANT-FUND",
                    f"no {', '.join(s.value for s in rules.fund_sources)} budget covers "
                    f"{person.home_region} in {started_on.year}",
                    "person_id",
                )
            payout = Payout.request(
                kind=PayoutKind.GRANT,
                programme=GRANT_PROGRAMME,
                source_id=grant.id,
                period=grant.period,
                beneficiary_id=person.id,
                fund_id=fund.id,
                region_code=person.home_region,
                amount_fen=grant.amount_fen,
                explanation={
                    "policy_version": policy.version,
                    "rule_ids": ["GRANT-ELIG", "GRANT-ONCE", "GRANT-AMOUNT"],
                    "formula": "the tier amount for the work province, else the default amount",
                    "inputs": {
                        "work_province": work_province,
                        "home_province": person.home_province,
                        "months_worked": months_worked,
                        "period": grant.period,
                    },
                },
                meta=meta.because(GRANT_PROGRAMME),
                holds=[once_key(grant.person_id, grant.period)],
            )
            open_payout(payout, policy, self._today(), meta)
            changes.add(payout)
            return GrantClaim(grant.id, payout.id, created=True)

        return self._store.transact(decide)

    def _earlier(self, client_id: str, external_claim_id: str) -> GrantClaim | None:
        holder = holder_of(self._store, external_key(client_id, external_claim_id))
        if holder is None:
            return None
        grant = self.get(holder)
        return GrantClaim(
            grant.id, payout_id_for(GRANT_PROGRAMME, grant.id, grant.period), created=False
        )
