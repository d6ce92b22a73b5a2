"""Balances in double entry: per fund, per region (and its parts), per person."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from disburse.api.deps import (
    QUERY,
    MinPosition,
    Overseer,
    Reader,
    state,
    wait_for_views,
)
from disburse.api.problems import ApiError
from disburse.api.responses import JSONResponse
from disburse.domain.person import Person
from disburse.domain.text import Code
from disburse.readside.balance_queries import GroupBalance, Totals

router = APIRouter(tags=["balances"])


class TotalsOut(BaseModel):
    """Money in fen; allocated = available + committed + paid - recovered."""

    allocated_fen: int = Field(description="Allocated, top-ups included.")
    available_fen: int = Field(description="Free to commit.")
    committed_fen: int = Field(description="Approved, not yet paid.")
    paid_fen: int = Field(description="Paid, net of reversals.")
    recovered_fen: int = Field(description="Recovered from improper payments back into the fund.")
    recovery_outstanding_fen: int = Field(description="Recovery ordered, not yet received.")


class FundBalanceOut(BaseModel):
    """A fund's balances from the balances view."""

    fund_id: UUID = Field(description="The fund (GET /v1/funds/{fund_id}).")
    source: str = Field(
        description="Fund source: employment_subsidy, rural_revitalisation or east_west."
    )
    region_code: str = Field(
        description="6-digit code of the county, city or province of the fund."
    )
    year: int = Field(description="Budget year of the fund.")
    totals: TotalsOut = Field(description="The fund's balances in fen, from the balances view.")


class GroupOut(BaseModel):
    """Balances of a group (a child region, a fund source)."""

    key: str = Field(description="Region code or fund source.")
    totals: TotalsOut = Field(description="Balances in fen of the funds in this group.")


class RegionBalanceOut(BaseModel):
    """A region's balances, rolled up from every fund inside it."""

    scope: str = Field(description="The region prefix.")
    totals: TotalsOut = Field(description="All funds inside it.")
    by_region: list[GroupOut] = Field(description="Per child region.")
    by_source: list[GroupOut] = Field(description="Per fund source.")


class ReceiptOut(BaseModel):
    """What a person received under a programme in a year."""

    programme: str = Field(
        description="Programme code (POST-STIPEND, GRANT-TRANSPORT, SVC-BROKER...)."
    )
    year: str = Field(description="Year of the period paid for (YYYY).")
    paid_fen: int = Field(
        description="Paid to the person under the programme for that year, in fen."
    )
    recovered_fen: int = Field(
        description="Recovered from the person for that programme and year, in fen."
    )
    net_fen: int = Field(description="Paid minus recovered.")


class PersonBalanceOut(BaseModel):
    """A person's receipts."""

    person_id: UUID = Field(description="The person (GET /v1/people/{person_id}).")
    receipts: list[ReceiptOut] = Field(description="By programme and year.")


def totals_out(totals: Totals) -> TotalsOut:
    """The balances of a fund or group, as the API shows them."""
    return TotalsOut(
        allocated_fen=totals.allocated_fen,
        available_fen=totals.available_fen,
        committed_fen=totals.committed_fen,
        paid_fen=totals.paid_fen,
        recovered_fen=totals.recovered_fen,
        recovery_outstanding_fen=totals.recovery_outstanding_fen,
    )


def _groups(groups: list[GroupBalance]) -> list[GroupOut]:
    return [GroupOut(key=g.key, totals=totals_out(g.totals)) for g in groups]


@router.get(
    "/v1/balances/funds/{fund_id}",
    response_model=FundBalanceOut,
    responses=QUERY,
    tags=["balances"],
)
def get_fund_balance(
    fund_id: UUID, request: Request, who: Overseer, min_position: MinPosition = None
) -> JSONResponse:
    """A fund's balances (double entry, from the balances view)."""
    wait_for_views(request, min_position, "balances")
    found = state(request).views.balances.fund(str(fund_id))
    if found is None:
        raise ApiError(
            404, "FUND-NOT-FOUND", f"no fund {fund_id} in the balances view", field="path.fund_id"
        )
    who.require_region(found.region_code, "the fund")
    body = FundBalanceOut(
        fund_id=UUID(found.fund_id),
        source=found.source,
        region_code=found.region_code,
        year=found.year,
        totals=totals_out(found.totals),
    )
    return JSONResponse(body.model_dump(mode="json"))


@router.get(
    "/v1/balances/regions/{code}",
    response_model=RegionBalanceOut,
    responses=QUERY,
    tags=["balances"],
)
def get_region_balance(
    code: Code,
    request: Request,
    who: Overseer,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Budget year.")] = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    """A region's balances: a 6-digit code (220200 = the city) or a 2/4/6-digit prefix."""
    scope = who.scope(code)
    wait_for_views(request, min_position, "balances")
    found = state(request).views.balances.region(scope, year=year)
    body = RegionBalanceOut(
        scope=found.scope,
        totals=totals_out(found.totals),
        by_region=_groups(found.by_region),
        by_source=_groups(found.by_source),
    )
    return JSONResponse(body.model_dump(mode="json"))


@router.get(
    "/v1/balances/people/{person_id}",
    response_model=PersonBalanceOut,
    responses=QUERY,
    tags=["balances"],
)
def get_person_balance(
    person_id: UUID, request: Request, who: Reader, min_position: MinPosition = None
) -> JSONResponse:
    """What a person received, by programme and year, net of recoveries."""
    shared = state(request)
    person: Person = shared.ledger.people.get(person_id)
    who.require_region(person.home_region, "the person")
    wait_for_views(request, min_position, "balances")
    receipts = shared.views.balances.person(str(person_id))
    body = PersonBalanceOut(
        person_id=person_id,
        receipts=[
            ReceiptOut(
                programme=r.programme,
                year=r.year,
                paid_fen=r.paid_fen,
                recovered_fen=r.recovered_fen,
                net_fen=r.net_fen,
            )
            for r in receipts
        ],
    )
    return JSONResponse(body.model_dump(mode="json"))
