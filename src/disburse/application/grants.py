"""Transport grant claims: eligibility, one per person and year, idempotent resubmission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from disburse.application.claims import (
    check_same_claim,
    external_key,
    holder_of,
    remember_external,
    reserve,
)
from disburse.application.payouts import open_payout
from disburse.domain.entitlement import GRANT_RULE_IDS, entitle
from disburse.domain.errors import RuleViolationError
from disburse.domain.grant import (
    GRANT_PROGRAMME,
    ONCE_RULE,
    PROACTIVE,
    TransportGrant,
    grant_rules,
    once_key,
    proactive_grant_id,
)
from disburse.domain.payout import Payout, PayoutKind, payout_id_for
from disburse.domain.person import Person
from disburse.persistence.batching import Changes

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.application.funds import Funds
    from disburse.application.policy import Policy
    from disburse.domain.meta import Meta
    from disburse.domain.rules import PolicyDocument
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
    amount_fen: int = 0


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
            payout = self._open_payout(
                grant,
                person,
                policy,
                meta,
                formula="the tier amount for the work province, else the default amount",
                inputs={
                    "work_province": work_province,
                    "home_province": person.home_province,
                    "months_worked": months_worked,
                    "period": grant.period,
                },
            )
            changes.add(payout)
            return GrantClaim(grant.id, payout.id, created=True, amount_fen=grant.amount_fen)

        return self._store.transact(decide)

    def entitle(
        self, ctx: Context, person_id: UUID, year: int, *, dry_run: bool = False
    ) -> GrantClaim:
        """Open the grant the facts on record give a person for ``year``, without a claim.

        免申即享: GRANT-ELIG is checked on the person and the employment on record; the
        grant (``source`` proactive) and its payout are opened under ids derived from the
        person and year, so a second call returns them (``created`` False) and writes
        nothing. A person with a grant for the year already, claimed or not, is refused
        with FRAUD-DUP-GRANT; so is a later claim. ``dry_run`` decides and writes nothing.
        """

        def decide(changes: Changes) -> GrantClaim:
            period = str(year)
            grant_id = proactive_grant_id(person_id, period)
            earlier = self._store.find(TransportGrant, grant_id)
            if earlier is not None:
                payout_id = payout_id_for(GRANT_PROGRAMME, grant_id, period)
                return GrantClaim(grant_id, payout_id, created=False, amount_fen=earlier.amount_fen)
            person = self._store.load(Person, person_id, "person")
            person.require_identity()
            today = self._today()
            policy = self._policy.in_force(person.home_region, min(date(year, 12, 31), today))
            meta = ctx.meta("免申即享: eligible on the facts on record").because(
                policy_version=policy.version
            )
            grant = entitle(person=person, year=year, today=today, policy=policy, meta=meta)
            once = reserve(
                self._store,
                key=once_key(person.id, period),
                rule_id=ONCE_RULE,
                holder_id=grant.id,
                refusal=f"person {person.id} already has a transport grant for {period}, "
                "claimed or granted, in whichever county",
                field="person_id",
                meta=meta,
            )
            payout = self._open_payout(
                grant,
                person,
                policy,
                meta,
                formula="the tier amount for the work province on record, else the default",
                inputs={
                    "source": PROACTIVE,
                    "work_province": grant.work_province,
                    "home_province": person.home_province,
                    "months_worked": grant.months_worked,
                    "period": period,
                    "facts": grant.facts,
                },
            )
            changes.add(grant, once, payout)
            return GrantClaim(grant.id, payout.id, created=True, amount_fen=grant.amount_fen)

        if dry_run:
            return decide(Changes())
        return self._store.transact(decide)

    def _open_payout(
        self,
        grant: TransportGrant,
        person: Person,
        policy: PolicyDocument,
        meta: Meta,
        *,
        formula: str,
        inputs: dict[str, object],
    ) -> Payout:
        """The grant's payout from a fund that covers it (GRANT-FUND), opened for notice."""
        rules = grant_rules(policy)
        fund = self._funds.covering(rules.fund_sources, person.home_region, grant.started_on.year)
        if fund is None:
            raise RuleViolationError(
                "GRANT-FUND",
                f"no {', '.join(s.value for s in rules.fund_sources)} budget covers "
                f"{person.home_region} in {grant.started_on.year}",
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
                "rule_ids": list(GRANT_RULE_IDS),
                "source": grant.source,
                "formula": formula,
                "inputs": inputs,
            },
            meta=meta.because(GRANT_PROGRAMME),
            holds=[once_key(grant.person_id, grant.period)],
        )
        open_payout(payout, policy, self._today(), meta)
        return payout

    def _earlier(self, client_id: str, external_claim_id: str) -> GrantClaim | None:
        holder = holder_of(self._store, external_key(client_id, external_claim_id))
        if holder is None:
            return None
        grant = self.get(holder)
        return GrantClaim(
            grant.id, payout_id_for(GRANT_PROGRAMME, grant.id, grant.period), created=False
        )
