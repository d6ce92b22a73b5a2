"""The policy catalogue: what is in force, and publishing new versions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    Admin,
    Anyone,
    creation,
    state,
)
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Input
from disburse.api.security import deny
from disburse.domain.regions import check_region_code
from disburse.domain.rules import PolicyDocument
from disburse.domain.text import Code, Reason

router = APIRouter(tags=["policy"])


class VersionSummary(BaseModel):
    """A published catalogue version."""

    version: str = Field(
        description="Catalogue version id, as payouts cite it (e.g. CN-22-2202-2024.1)."
    )
    title: str = Field(description="Title of the catalogue version.")
    region_prefix: str = Field(description="Where it applies ('' nationwide).")
    effective_from: date = Field(description="First day the version is in force (inclusive).")


class PolicyOut(BaseModel):
    """The catalogue version in force for a region on a day, and every published version."""

    region_code: str = Field(description="The region asked about.")
    on: date = Field(description="The day asked about.")
    in_force: dict[str, Any] = Field(
        description="The document in force: programmes, amounts, limits, source clauses."
    )
    versions: list[VersionSummary] = Field(description="Every published version, in order.")


class PublishIn(Input):
    """A new catalogue version (it applies from its effective date, within its region)."""

    document: PolicyDocument = Field(description="The catalogue document (see GET /v1/policy).")
    reason: Reason = Field(description="The policy document or decision it implements.")


class Published(BaseModel):
    """The version was published."""

    version: str = Field(description="Its version id.")


@router.get("/v1/policy", response_model=PolicyOut, responses=ENTITY)
def list_policy_versions(
    request: Request,
    who: Anyone,
    region: Annotated[
        Code | None, Query(description="6-digit region code (default: the key's region).")
    ] = None,
    on: Annotated[date | None, Query(description="The day (default: today).")] = None,
) -> JSONResponse:
    """The catalogue in force: what each programme pays, to whom, how often, under which clause."""
    ledger = state(request).ledger
    code = region if region is not None else who.region.ljust(6, "0")
    check_region_code(code, "region")
    day = on or ledger.today()
    document = ledger.policy.in_force(code, day)
    body = PolicyOut(
        region_code=code,
        on=day,
        in_force=document.model_dump(mode="json"),
        versions=[
            VersionSummary(
                version=d.version,
                title=d.title,
                region_prefix=d.region_prefix,
                effective_from=d.effective_from,
            )
            for d in ledger.policy.versions()
        ],
    )
    return JSONResponse(body.model_dump(mode="json"))


@creation(router, "/v1/policy/versions", Published)
def publish_policy_version(body: PublishIn, request: Request, who: Admin) -> JSONResponse:
    """Publish a catalogue version (admin keys; an audited event)."""
    if not body.document.region_prefix:
        deny(
            who,
            "REGION-SCOPE",
            "a key publishes versions for its own region only; nationwide versions come "
            "with disburse itself (disburse init)",
            field="document.region_prefix",
        )
    who.require_region(body.document.region_prefix, "the version's region")
    ledger = state(request).ledger
    return run_command(
        request,
        who,
        lambda: ledger.policy.publish(who.context(), body.document, reason=body.reason),
        lambda _: Published(version=body.document.version),
        payload=body,
        status_code=201,
    )
