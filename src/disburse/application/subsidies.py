"""Subsidy applications under the catalogue's programmes (SVC-BROKER, TRAIN-OJT...)."""

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
from disburse.domain.errors import NotFoundError, RuleViolationError
from disburse.domain.organisation import Organisation
from disburse.domain.payout import Payout, PayoutKind, payout_id_for
from disburse.domain.person import Person
from disburse.domain.subsidy import SubsidyApplication, programme_rules

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.application.funds import Funds
    from disburse.application.policy import Policy
    from disburse.domain.meta import Meta
    from disburse.domain.rules import ProgrammeRules
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore


@dataclass(frozen=True)
class ApplicationClaim:
    """The application and its payout; ``created`` is False for a resubmission."""

    application_id: UUID
    payout_id: UUID
    created: bool


def limit_keys(rules: ProgrammeRules, code: str, year: str, subject: UUID) -> list[tuple[str, str]]:
    """(reservation key, rule) pairs that enforce the programme's frequency limits."""
    keys: list[tuple[str, str]] = []
    if rules.frequency == "once_ever":
        keys.append((f"programme:{code}:once:{subject}", "FRAUD-DUP-GRANT"))
    if rules.frequency == "once_per_year" or rules.one_applicant_per_beneficiary:
        rule = "FRAUD-DUP-BROKER" if rules.one_applicant_per_beneficiary else "FRAUD-DUP-GRANT"
        keys.append((f"programme:{code}:{year}:{subject}", rule))
    return keys


class Subsidies:
    """Submit applications; the catalogue decides eligibility, amount and limits."""

    def __init__(
        self, store: LedgerStore, policy: Policy, funds: Funds, today: Callable[[], date]
    ) -> None:
        self._store = store
        self._policy = policy
        self._funds = funds
        self._today = today

    def get(self, application_id: UUID) -> SubsidyApplication:
        """The application, or ``NotFoundError``."""
        return self._store.load(SubsidyApplication, application_id, "application")

    def submit(
        self,
        ctx: Context,
        *,
        programme: str,
        applicant_id: UUID,
        beneficiary_ids: Sequence[UUID] = (),
        period_start: date,
        months: int = 1,
        chosen_fen: int | None = None,
        evidence: Sequence[str] = (),
        external_claim_id: str | None = None,
    ) -> ApplicationClaim:
        """Submit an application and request its payout to the applicant."""

        def decide(changes: Changes) -> ApplicationClaim:
            if external_claim_id:
                earlier = self._earlier(ctx, external_claim_id)
                if earlier is not None:
                    subjects = sorted(beneficiary_ids or [applicant_id])
                    check_same_claim(
                        external_claim_id,
                        earlier.id,
                        _facts(earlier),
                        (programme, applicant_id, subjects, period_start, months, chosen_fen),
                    )
                    return ApplicationClaim(
                        earlier.id,
                        payout_id_for(programme, earlier.id, earlier.period),
                        created=False,
                    )
            kind, region = self._applicant(applicant_id)
            policy = self._policy.in_force(region, period_start)
            rules = programme_rules(policy, programme)
            people = [self._store.load(Person, b, "person") for b in beneficiary_ids]
            if kind == "person" and rules.beneficiary_statuses and not people:
                people = [self._store.load(Person, applicant_id, "person")]
            for person in people:
                person.require_identity()
            meta = ctx.meta().because(policy_version=policy.version)
            application = SubsidyApplication.submit(
                programme=programme,
                applicant_id=applicant_id,
                applicant_kind=kind,
                region_code=region,
                beneficiaries=people,
                period_start=period_start,
                months=months,
                chosen_fen=chosen_fen,
                evidence=list(evidence),
                external_claim_id=external_claim_id,
                today=self._today(),
                policy=policy,
                meta=meta,
            )
            holds = self._take_limits(application, rules, changes, meta)
            if external_claim_id:
                changes.add(
                    remember_external(ctx.client_id, external_claim_id, application.id, meta)
                )
            fund = self._funds.covering(rules.fund_sources, region, period_start.year)
            if fund is None:
                raise RuleViolationError(
                    "APP-FUND", f"no budget for {programme} covers {region} in {period_start.year}"
                )
            payout = Payout.request(
                kind=PayoutKind.APPLICATION,
                programme=programme,
                source_id=application.id,
                period=application.period,
                beneficiary_id=applicant_id,
                fund_id=fund.id,
                region_code=region,
                amount_fen=application.amount_fen,
                explanation=application.explanation,
                meta=meta.because(programme),
                holds=holds,
            )
            open_payout(payout, policy, self._today(), meta)
            changes.add(application, payout)
            return ApplicationClaim(application.id, payout.id, created=True)

        return self._store.transact(decide)

    def _applicant(self, applicant_id: UUID) -> tuple[str, str]:
        """The applicant's kind (person, employer, broker, base) and region."""
        person = self._store.find(Person, applicant_id)
        if person is not None:
            return "person", person.home_region
        organisation = self._store.find(Organisation, applicant_id)
        if organisation is not None:
            return organisation.kind.value, organisation.region_code
        raise NotFoundError(
            "APPLICANT-NOT-FOUND", f"no person or organisation {applicant_id}", "applicant_id"
        )

    def _take_limits(
        self, application: SubsidyApplication, rules: ProgrammeRules, changes: Changes, meta: Meta
    ) -> list[str]:
        subjects = application.beneficiary_ids or [application.applicant_id]
        holds = []
        for subject in subjects:
            for key, rule in limit_keys(rules, application.programme, application.period, subject):
                changes.add(
                    reserve(
                        self._store,
                        key=key,
                        rule_id=rule,
                        holder_id=application.id,
                        refusal=f"{subject} already counts for {application.programme} "
                        f"({'once ever' if ':once:' in key else application.period})",
                        field="beneficiary_ids",
                        meta=meta,
                    )
                )
                holds.append(key)
        return holds

    def _earlier(self, ctx: Context, external_claim_id: str) -> SubsidyApplication | None:
        holder = holder_of(self._store, external_key(ctx.client_id, external_claim_id))
        return None if holder is None else self.get(holder)


def _facts(application: SubsidyApplication) -> tuple[object, ...]:
    return (
        application.programme,
        application.applicant_id,
        sorted(application.beneficiary_ids or [application.applicant_id]),
        application.period_start,
        application.months,
        application.chosen_fen,
    )
