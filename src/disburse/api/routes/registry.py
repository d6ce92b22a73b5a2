"""People and organisations: register, read, record facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    ReaderOrClaimant,
    Submitter,
    command,
    creation,
    entity_response,
    state,
)
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Fen, Input
from disburse.api.security import Principal, deny
from disburse.application.ledger import Ledger
from disburse.application.organisations import OrganisationRegistration
from disburse.application.people import Registration
from disburse.domain.errors import RegisteredElsewhereError
from disburse.domain.months import Month
from disburse.domain.organisation import (
    Organisation,
    OrganisationKind,
)
from disburse.domain.person import LabourCapacity, Person, PovertyStatus
from disburse.domain.regions import check_region_code
from disburse.domain.text import Code, Label, Name, Reason
from disburse.readside.redact import mask_account

router = APIRouter(tags=["registry"])

RegionCode = Annotated[Code, Field(description="6-digit administrative code (GB/T 2260).")]


class PersonIn(Input):
    """A beneficiary, as a county registers them."""

    resident_id: Code = Field(
        description="18-character resident ID (GB 11643); its check digit is verified. "
        "Stored encrypted; matched by keyed hash; shown masked."
    )
    name: Name = Field(description="Full name as on the ID card.")
    home_region: RegionCode
    poverty_status: PovertyStatus = Field(
        description="lifted (脱贫人口), monitored (监测对象), low_income (农村低收入人口) "
        "or none; POST-ELIG reads it."
    )
    labour_capacity: LabourCapacity = Field(
        description="full, weak (弱劳力) or half (半劳力) labour capacity."
    )
    household_id: Code = Field(description="The household's registry number.")
    bank_account: Code = Field(description="The person's own account (social security card).")
    public_payroll: bool = Field(
        default=False, description="Paid from public payroll (excluded from public posts)."
    )


class Registered(BaseModel):
    """The registered entity; ``created`` is false when it was already known."""

    id: UUID = Field(description="The id to use in later requests.")
    created: bool = Field(description="False if the same natural key was registered before.")


class PersonOut(BaseModel):
    """A person as the caller may see them."""

    person_id: UUID = Field(description="Stable id (derived from the keyed ID hash).")
    resident_id: str | None = Field(
        description="Full resident ID: only for clerk and inspector keys, else null."
    )
    resident_id_masked: str = Field(description="Resident ID with birth date hidden.")
    name: str = Field(description="Full name as registered (as on the ID card).")
    home_region: str = Field(description="Home region code.")
    poverty_status: PovertyStatus = Field(
        description="Current poverty status: lifted, monitored, low_income or none."
    )
    labour_capacity: LabourCapacity = Field(
        description="Current labour capacity: full, weak or half."
    )
    public_payroll: bool = Field(description="On public payroll.")
    bank_account_masked: str = Field(description="The account, all but its last 4 digits hidden.")
    died_on: date | None = Field(description="Date of death, if recorded.")
    version: int = Field(description="Version (also the ETag) for If-Match.")


class DeathFact(Input):
    """A recorded death."""

    kind: Literal["death"] = Field(description='Always "death": selects this kind of fact.')
    died_on: date = Field(description="Date of death.")
    evidence: Label = Field(description="Civil registration reference or report.")


class IncomeFact(Input):
    """A month's income."""

    kind: Literal["income"] = Field(description='Always "income": selects this kind of fact.')
    month: Code = Field(description="Month the income was earned in, YYYY-MM.")
    amount_fen: Fen = Field(description="Income in fen (non-negative).")
    source: Label = Field(description="Where the income comes from.")


class StatusFact(Input):
    """A change of status, labour capacity or payroll flag."""

    kind: Literal["status"] = Field(description='Always "status": selects this kind of fact.')
    effective_on: date = Field(description="From when it holds.")
    poverty_status: PovertyStatus | None = Field(
        default=None,
        description="New poverty status from effective_on (lifted, monitored, low_income or "
        "none); omit to keep it.",
    )
    labour_capacity: LabourCapacity | None = Field(
        default=None,
        description="New labour capacity from effective_on (full, weak or half); omit to keep it.",
    )
    public_payroll: bool | None = Field(default=None, description="New payroll flag.")
    reason: Reason | None = Field(
        default=None, description="Why the status changed, kept in the audit trail (optional)."
    )


class AccountFact(Input):
    """The person's new own bank account."""

    kind: Literal["bank_account"] = Field(
        description='Always "bank_account": selects this kind of fact.'
    )
    bank_account: Code = Field(description="The new account.")
    reason: Reason = Field(description="Why it changed.")


class EmploymentFact(Input):
    """Employment (checked by transport grants)."""

    kind: Literal["employment"] = Field(
        description='Always "employment": selects this kind of fact.'
    )
    province_code: Code = Field(description="2-digit province of the workplace.")
    employer: Name = Field(description="Name of the employer the person works for.")
    started_on: date = Field(description="First day of work.")


Fact = Annotated[
    DeathFact | IncomeFact | StatusFact | AccountFact | EmploymentFact,
    Field(discriminator="kind"),
]


class FactIn(Input):
    """One fact about a person."""

    fact: Fact = Field(description="The fact; `kind` says which.")


class FactRecorded(BaseModel):
    """The fact was recorded."""

    person_id: UUID = Field(
        description="The person the fact was recorded on (the path's person_id)."
    )
    kind: str = Field(description="The fact kind recorded.")


class OrganisationIn(Input):
    """An employer, labour broker or assistance base."""

    credit_code: Code = Field(description="18-character unified social credit code (GB 32100).")
    kind: OrganisationKind = Field(description="What it is.")
    name: Name = Field(description="Registered name of the employer, broker or base.")
    region_code: RegionCode
    bank_account: Code = Field(description="The organisation's account.")


class OrganisationOut(BaseModel):
    """An organisation."""

    organisation_id: UUID = Field(description="Stable id (derived from the credit code).")
    credit_code: str = Field(description="Unified social credit code.")
    kind: OrganisationKind = Field(description="What it is.")
    name: str = Field(description="Registered name of the employer, broker or base.")
    region_code: str = Field(
        description="6-digit code of the region the organisation is registered in."
    )
    bank_account_masked: str = Field(description="The account, all but its last 4 digits hidden.")
    version: int = Field(description="Version (also the ETag).")


def person_out(person: Person, *, full_id: bool) -> PersonOut:
    """The response form of a person."""
    return PersonOut(
        person_id=person.id,
        resident_id=person.resident_id if full_id else None,
        resident_id_masked=person.resident_id_masked,
        name=person.name,
        home_region=person.home_region,
        poverty_status=person.poverty_status,
        labour_capacity=person.labour_capacity,
        public_payroll=person.public_payroll,
        bank_account_masked=mask_account(person.bank_account),
        died_on=person.died_on,
        version=person.version,
    )


@creation(
    router,
    "/v1/people",
    Registered,
    again="Already registered.",
)
def register_person(body: PersonIn, request: Request, who: Submitter) -> JSONResponse:
    """Register a person. The same resident ID again answers 200 with the same person."""
    return run_command(
        request,
        who,
        registration(state(request).ledger, who, body),
        lambda r: Registered(id=r.person_id, created=r.created),
        payload=body,
        status_code=lambda r: 201 if r.created else 200,
        location=lambda r: f"/v1/people/{r.person_id}",
    )


def registration(ledger: Ledger, who: Principal, body: PersonIn) -> Callable[[], Registration]:
    """The registration to run, once the caller is found to act in the person's region.

    A person already registered outside the caller's region is refused with 403
    REGION-SCOPE, every time (races included), naming neither the region nor the person.
    """
    check_region_code(body.home_region, "home_region")
    who.require_region(body.home_region, "the person's home region")

    def register() -> Registration:
        try:
            return ledger.people.register(
                who.context(),
                resident_id=body.resident_id,
                name=body.name,
                home_region=body.home_region,
                poverty_status=body.poverty_status,
                labour_capacity=body.labour_capacity,
                household_id=body.household_id,
                bank_account=body.bank_account,
                public_payroll=body.public_payroll,
                scope=who.region,
            )
        except RegisteredElsewhereError as error:
            deny(who, error.rule_id, error.message, field=error.field)

    return register


def load_person(request: Request, person_id: UUID, who: ReaderOrClaimant) -> Person:
    """The person, if in the caller's region (404, then 403)."""
    person = state(request).ledger.people.get(person_id)
    who.require_region(person.home_region, "the person")
    who.require_own(person.registered_via, "this person")
    return person


@router.get("/v1/people/{person_id}", response_model=PersonOut, responses=ENTITY)
def get_person(person_id: UUID, request: Request, who: ReaderOrClaimant) -> JSONResponse:
    """A person. Resident IDs are masked except for clerk and inspector keys."""
    person = load_person(request, person_id, who)
    body = person_out(person, full_id=who.sees_resident_ids)
    return entity_response(body, person.version)


@command(router, "/v1/people/{person_id}/facts", FactRecorded)
def record_fact(person_id: UUID, body: FactIn, request: Request, who: Submitter) -> JSONResponse:
    """Record a fact: death, income, status change, new bank account or employment."""
    load_person(request, person_id, who)
    people = state(request).ledger.people
    ctx = who.context()
    fact = body.fact

    def action() -> None:
        if isinstance(fact, DeathFact):
            people.record_death(ctx, person_id, died_on=fact.died_on, evidence=fact.evidence)
        elif isinstance(fact, IncomeFact):
            people.report_income(
                ctx,
                person_id,
                month=Month.parse(fact.month, "fact.month"),
                amount_fen=fact.amount_fen,
                source=fact.source,
            )
        elif isinstance(fact, StatusFact):
            people.change_status(
                ctx,
                person_id,
                effective_on=fact.effective_on,
                poverty_status=fact.poverty_status,
                labour_capacity=fact.labour_capacity,
                public_payroll=fact.public_payroll,
                reason=fact.reason,
            )
        elif isinstance(fact, AccountFact):
            people.change_bank_account(
                ctx, person_id, bank_account=fact.bank_account, reason=fact.reason
            )
        else:
            people.record_employment(
                ctx,
                person_id,
                province_code=fact.province_code,
                employer=fact.employer,
                started_on=fact.started_on,
            )

    return run_command(
        request,
        who,
        action,
        lambda _: FactRecorded(person_id=person_id, kind=fact.kind),
        payload=body,
        target=person_id,
    )


@creation(
    router,
    "/v1/organisations",
    Registered,
    again="Already registered.",
)
def register_organisation(body: OrganisationIn, request: Request, who: Submitter) -> JSONResponse:
    """Register an employer, broker or base; the same credit code again answers 200."""
    check_region_code(body.region_code)
    who.require_region(body.region_code, "the organisation's region")
    ledger = state(request).ledger

    def action() -> OrganisationRegistration:
        try:
            return ledger.organisations.register(
                who.context(),
                credit_code=body.credit_code,
                kind=body.kind,
                name=body.name,
                region_code=body.region_code,
                bank_account=body.bank_account,
                scope=who.region,
            )
        except RegisteredElsewhereError as error:
            deny(who, error.rule_id, error.message, field=error.field)

    return run_command(
        request,
        who,
        action,
        lambda r: Registered(id=r.organisation_id, created=r.created),
        payload=body,
        status_code=lambda r: 201 if r.created else 200,
        location=lambda r: f"/v1/organisations/{r.organisation_id}",
    )


@router.get("/v1/organisations/{organisation_id}", response_model=OrganisationOut, responses=ENTITY)
def get_organisation(
    organisation_id: UUID, request: Request, who: ReaderOrClaimant
) -> JSONResponse:
    """An organisation."""
    organisation: Organisation = state(request).ledger.organisations.get(organisation_id)
    who.require_region(organisation.region_code, "the organisation")
    who.require_own(organisation.registered_via, "this organisation")
    body = OrganisationOut(
        organisation_id=organisation.id,
        credit_code=organisation.credit_code,
        kind=organisation.kind,
        name=organisation.name,
        region_code=organisation.region_code,
        bank_account_masked=mask_account(organisation.bank_account),
        version=organisation.version,
    )
    return entity_response(body, organisation.version)
