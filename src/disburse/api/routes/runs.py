"""Runs over a region: the proactive transport-grant run (免申即享)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from disburse.api.deps import CREATE_DEPS, Finance, problems, state
from disburse.api.responses import JSONResponse
from disburse.api.routes.bulk import answer_once
from disburse.api.schemas import Input, StrictInt
from disburse.application.proactive import run_grants
from disburse.domain.regions import check_region_scope
from disburse.domain.text import Code

router = APIRouter(tags=["runs"])
FIRST_YEAR, LAST_YEAR = 2000, 2100


class GrantRunIn(Input):
    """Which year and region to run."""

    year: StrictInt = Field(
        ge=FIRST_YEAR, le=LAST_YEAR, description="The year a grant counts in (GRANT-ONCE)."
    )
    region: Code = Field(description="Region code or prefix inside the key's (REGION-SCOPE).")
    dry_run: bool = Field(default=False, description="Decide everyone, write nothing.")


class FoundOut(BaseModel):
    """A person entitled, and the grant payout opened for them."""

    person_id: str = Field(description="The person (GET /v1/people/{person_id}).")
    grant_id: str = Field(description="The grant, source proactive.")
    payout_id: str = Field(description="Its payout, on notice and approval like any other.")
    amount_fen: int = Field(description="The grant in fen.")
    created: bool = Field(description="Opened by this run (false: by an earlier one).")


class NotFoundOut(BaseModel):
    """A person with work on record the run did not entitle, and why."""

    person_id: str = Field(description="The person with work on record, not entitled.")
    rule_id: str = Field(description="The rule that stopped them (GRANT-ELIG, ...).")
    message: str = Field(description="Why the rule stopped them, in words.")


class GrantRunOut(BaseModel):
    """What the run did."""

    year: int = Field(description="The year whose grants the run opened.")
    region: str = Field(description="The region code or prefix the run covered.")
    dry_run: bool = Field(description="Nothing was written.")
    candidates: int = Field(description="People with work on record starting that year.")
    opened: int = Field(description="Grants opened now (or that would be, in a dry run).")
    opened_fen: int = Field(description="Their sum in fen.")
    already_opened: int = Field(description="Grants an earlier run opened.")
    not_found_by_rule: dict[str, int] = Field(description="People not found, per rule.")
    found: list[FoundOut] = Field(description="Who was found.")
    not_found: list[NotFoundOut] = Field(description="Who was not, and the rule.")


@router.post(
    "/v1/runs/grants",
    response_model=GrantRunOut,
    responses=problems(404, 409),
    dependencies=CREATE_DEPS,
)
def run_proactive_grants(body: GrantRunIn, request: Request, who: Finance) -> JSONResponse:
    """Open the transport grants the facts on record give, without claims (免申即享).

    Each person is decided alone, a few hundred per transaction; one not found writes
    nothing and is listed with the rule that stopped them. Running the same year again
    opens nothing twice. A region outside the key's is refused (REGION-SCOPE).
    """
    scope = check_region_scope(body.region, field="region")
    who.require_region(scope, "the region asked for")
    api = state(request)

    def report() -> GrantRunOut:
        run = run_grants(
            api.ledger,
            api.views,
            who.context(),
            year=body.year,
            region=scope,
            dry_run=body.dry_run,
        )
        return GrantRunOut.model_validate(run.as_json())

    return answer_once(request, who, body, report)
