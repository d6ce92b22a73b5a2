"""Claims: transport grants and subsidy applications, submitted by clerks or claimant systems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    ReaderOrClaimant,
    Submitter,
    creation,
    entity_response,
    state,
)
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Count, Fen, Input
from disburse.api.security import Principal
from disburse.application.grants import GrantClaim
from disburse.application.ledger import Ledger
from disburse.application.subsidies import ApplicationClaim
from disburse.domain.grant import GRANT_PROGRAMME
from disburse.domain.organisation import Organisation
from disburse.domain.payout import payout_id_for
from disburse.domain.person import Person
from disburse.domain.text import Code, Label, Name

router = APIRouter(tags=["claims"])


class GrantIn(Input):
    """A one-time transport grant for work in another province."""

    person_id: UUID = Field(
        description="The worker's person id (from POST /v1/people); one grant per period "
        "(GRANT-ONCE)."
    )
    work_province: Code = Field(description="2-digit province of the workplace.")
    employer: Name = Field(
        description="Name of the employer in the other province (required, GRANT-EVIDENCE)."
    )
    started_on: date = Field(description="First day of work.")
    months_worked: Count = Field(description="Months worked so far (GRANT-ELIG minimum).")
    evidence_ref: Label = Field(description="Labour contract or social insurance reference.")
    external_claim_id: Code | None = Field(
        default=None,
        description="Your system's own id for the claim: resubmitting it returns the same "
        "claim (200) and writes nothing.",
    )


class ClaimAccepted(BaseModel):
    """The claim and the payout it requested; ``created`` is false for a resubmission."""

    id: UUID = Field(description="The grant or application id.")
    payout_id: UUID = Field(description="The payout requested for it.")
    created: bool = Field(description="False when an earlier submission is returned.")


class GrantOut(BaseModel):
    """A transport grant."""

    grant_id: UUID = Field(description="Grant id, as returned by POST /v1/transport-grants.")
    person_id: UUID = Field(description="The worker's person id (from POST /v1/people).")
    region_code: str = Field(description="The worker's home region.")
    work_province: str = Field(description="Province of the workplace.")
    employer: str = Field(description="Name of the employer the worker reported.")
    started_on: date = Field(description="First day of work.")
    months_worked: int = Field(
        description="Months worked away as claimed (GRANT-ELIG: at least the catalogue's minimum)."
    )
    period: str = Field(description="The grant period (GRANT-ONCE: one per period).")
    amount_fen: int = Field(description="Amount in fen.")
    policy_version: str | None = Field(description="Catalogue version applied.")
    external_claim_id: str | None = Field(description="The submitter's own id.")
    payout_id: UUID = Field(
        description="The payout the grant requested (GET /v1/payouts/{payout_id})."
    )
    version: int = Field(description="Version (also the ETag).")


class ApplicationIn(Input):
    """An application under a catalogue programme (SVC-BROKER, TRAIN-OJT, HIRE-...)."""

    programme: Code = Field(description="Programme code from GET /v1/policy.")
    applicant_id: UUID = Field(description="Person or organisation applying (and paid).")
    beneficiary_ids: list[UUID] = Field(
        default_factory=list, description="People the application is for (workers, trainees)."
    )
    period_start: date = Field(description="First day of the period claimed.")
    months: Count = Field(default=1, description="Months claimed (monthly programmes).")
    chosen_fen: Fen | None = Field(
        default=None, description="Amount asked, where the programme lets the region choose."
    )
    evidence: list[Label] = Field(
        default_factory=list,
        description="References to the supporting documents; needed where the programme lists "
        "evidence (APP-EVIDENCE).",
    )
    external_claim_id: Code | None = Field(
        default=None, description="Your system's own id (idempotent resubmission)."
    )


class ApplicationOut(BaseModel):
    """A subsidy application."""

    application_id: UUID = Field(
        description="Application id, as returned by POST /v1/applications."
    )
    programme: str = Field(
        description="Catalogue programme code (SVC-BROKER, TRAIN-OJT, HIRE-WAGE...; GET "
        "/v1/policy)."
    )
    applicant_id: UUID = Field(
        description="Person or organisation that applied and is paid (id from POST /v1/people or "
        "/v1/organisations)."
    )
    applicant_kind: str = Field(description="person, employer, broker or base.")
    region_code: str = Field(description="Applicant's region.")
    beneficiary_ids: list[UUID] = Field(description="People it is for.")
    period_start: date = Field(description="First day of the period claimed (YYYY-MM-DD).")
    period: str = Field(description="Period key of the programme's frequency limit.")
    months: int = Field(
        description="Months claimed; a monthly programme pays its monthly amount times these."
    )
    amount_fen: int = Field(description="Amount in fen.")
    explanation: dict[str, Any] = Field(description="How the amount was computed.")
    evidence: list[str] = Field(description="References to the supporting documents, as submitted.")
    external_claim_id: str | None = Field(description="The submitter's own id.")
    payout_id: UUID = Field(
        description="The payout the application requested (GET /v1/payouts/{payout_id})."
    )
    version: int = Field(description="Version (also the ETag).")


def _accepted(claim: GrantClaim | ApplicationClaim) -> ClaimAccepted:
    claim_id = claim.grant_id if isinstance(claim, GrantClaim) else claim.application_id
    return ClaimAccepted(id=claim_id, payout_id=claim.payout_id, created=claim.created)


@creation(
    router,
    "/v1/transport-grants",
    ClaimAccepted,
    again="A resubmission.",
)
def claim_grant(body: GrantIn, request: Request, who: Submitter) -> JSONResponse:
    """Claim a transport grant (GRANT-ELIG, GRANT-ONCE, GRANT-AMOUNT); requests its payout."""
    return run_command(
        request,
        who,
        grant_claim(state(request).ledger, who, body),
        _accepted,
        payload=body,
        status_code=lambda c: 201 if c.created else 200,
        location=lambda c: f"/v1/transport-grants/{c.grant_id}",
    )


@router.get("/v1/transport-grants/{grant_id}", response_model=GrantOut, responses=ENTITY)
def get_grant(grant_id: UUID, request: Request, who: ReaderOrClaimant) -> JSONResponse:
    """A transport grant (claimant keys: their own submissions only)."""
    grant = state(request).ledger.grants.get(grant_id)
    who.require_region(grant.region_code, "the grant")
    who.require_own(grant.submitted_via, "this grant")
    body = GrantOut(
        grant_id=grant.id,
        person_id=grant.person_id,
        region_code=grant.region_code,
        work_province=grant.work_province,
        employer=grant.employer,
        started_on=grant.started_on,
        months_worked=grant.months_worked,
        period=grant.period,
        amount_fen=grant.amount_fen,
        policy_version=grant.policy_version,
        external_claim_id=grant.external_claim_id,
        payout_id=payout_id_for(GRANT_PROGRAMME, grant.id, grant.period),
        version=grant.version,
    )
    return entity_response(body, grant.version)


def grant_claim(ledger: Ledger, who: Principal, body: GrantIn) -> Callable[[], GrantClaim]:
    """The claim to run, once the caller is found to act in the worker's region."""
    who.require_region(ledger.people.get(body.person_id).home_region, "the worker")
    return lambda: ledger.grants.claim(
        who.context(),
        person_id=body.person_id,
        work_province=body.work_province,
        employer=body.employer,
        started_on=body.started_on,
        months_worked=body.months_worked,
        evidence_ref=body.evidence_ref,
        external_claim_id=body.external_claim_id,
    )


def application_submission(
    ledger: Ledger, who: Principal, body: ApplicationIn
) -> Callable[[], ApplicationClaim]:
    """The submission to run, once the caller is found to act in the applicant's region.

    An unknown applicant is left to the command, which names it (APPLICANT-NOT-FOUND).
    """
    person = ledger.store.find(Person, body.applicant_id)
    organisation = (
        None if person is not None else ledger.store.find(Organisation, body.applicant_id)
    )
    region = (
        person.home_region if person is not None else getattr(organisation, "region_code", None)
    )
    if region is not None:
        who.require_region(region, "the applicant")
    for beneficiary_id in body.beneficiary_ids:
        beneficiary = ledger.store.find(Person, beneficiary_id)
        if beneficiary is not None:  # an unknown one is left to the command
            who.require_region(beneficiary.home_region, "a beneficiary")
    return lambda: ledger.subsidies.submit(
        who.context(),
        programme=body.programme,
        applicant_id=body.applicant_id,
        beneficiary_ids=body.beneficiary_ids,
        period_start=body.period_start,
        months=body.months,
        chosen_fen=body.chosen_fen,
        evidence=body.evidence,
        external_claim_id=body.external_claim_id,
    )


@creation(
    router,
    "/v1/applications",
    ClaimAccepted,
    again="A resubmission.",
)
def submit_application(body: ApplicationIn, request: Request, who: Submitter) -> JSONResponse:
    """Submit an application; the catalogue decides eligibility, amount and limits."""
    return run_command(
        request,
        who,
        application_submission(state(request).ledger, who, body),
        _accepted,
        payload=body,
        status_code=lambda c: 201 if c.created else 200,
        location=lambda c: f"/v1/applications/{c.application_id}",
    )


@router.get("/v1/applications/{application_id}", response_model=ApplicationOut, responses=ENTITY)
def get_application(application_id: UUID, request: Request, who: ReaderOrClaimant) -> JSONResponse:
    """An application (claimant keys: their own submissions only)."""
    application = state(request).ledger.subsidies.get(application_id)
    who.require_region(application.region_code, "the application")
    who.require_own(application.submitted_via, "this application")
    body = ApplicationOut(
        application_id=application.id,
        programme=application.programme,
        applicant_id=application.applicant_id,
        applicant_kind=application.applicant_kind,
        region_code=application.region_code,
        beneficiary_ids=list(application.beneficiary_ids),
        period_start=application.period_start,
        period=application.period,
        months=application.months,
        amount_fen=application.amount_fen,
        explanation=application.explanation,
        evidence=list(application.evidence),
        external_claim_id=application.external_claim_id,
        payout_id=payout_id_for(application.programme, application.id, application.period),
        version=application.version,
    )
    return entity_response(body, application.version)
