"""Funds: budgets per source, region and year, and their top-ups."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    Finance,
    Reader,
    command,
    creation,
    entity_response,
    state,
)
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Fen, Input, StrictInt
from disburse.domain.fund import Fund, FundSource
from disburse.domain.regions import check_region_code
from disburse.domain.text import Code, Reason

router = APIRouter(tags=["funds"])


class FundIn(Input):
    """Open the budget of one fund source for a region and year."""

    source: FundSource = Field(
        description="Fund source: employment_subsidy (就业补助资金), "
        "rural_revitalisation (衔接资金) or east_west (东西部协作资金)."
    )
    region_code: Code = Field(description="6-digit code of the county, city or province.")
    year: StrictInt = Field(
        description="Budget year, 2000-2100 (FUND-YEAR); one fund per source, region and year "
        "(FUND-EXISTS)."
    )
    amount_fen: Fen = Field(description="Allocated amount in fen (positive).")
    reason: Reason | None = Field(default=None, description="Budget document reference.")


class TopUpIn(Input):
    """A supplementary allocation."""

    amount_fen: Fen = Field(description="Amount added, in fen (positive).")
    reason: Reason = Field(description="Budget document reference or why.")


class FundOut(BaseModel):
    """A fund, from its events (always current)."""

    fund_id: UUID = Field(description="Stable id (source, region, year).")
    source: FundSource = Field(
        description="Fund source: employment_subsidy, rural_revitalisation or east_west."
    )
    region_code: str = Field(
        description="6-digit code of the county, city or province whose budget it is."
    )
    year: int = Field(description="Budget year the allocation is for.")
    allocated_fen: int = Field(description="Allocated, top-ups included.")
    committed_fen: int = Field(description="Approved, not yet paid.")
    paid_fen: int = Field(description="Paid (net of reversals).")
    recovered_fen: int = Field(description="Recovered back into the fund.")
    available_fen: int = Field(description="allocated - committed - paid + recovered.")
    version: int = Field(description="Version (also the ETag).")


class FundOpened(BaseModel):
    """The fund was opened."""

    fund_id: UUID = Field(description="The new fund's id.")
    allocated_fen: int = Field(description="Its first allocation.")


class TopUpRecorded(BaseModel):
    """The top-up was recorded."""

    fund_id: UUID = Field(description="The fund topped up (the path's fund_id).")
    added_fen: int = Field(description="The amount added.")


def fund_out(fund: Fund) -> FundOut:
    """The response form of a fund."""
    return FundOut(
        fund_id=fund.id,
        source=fund.source,
        region_code=fund.region_code,
        year=fund.year,
        allocated_fen=fund.allocated_fen,
        committed_fen=fund.committed_fen,
        paid_fen=fund.paid_fen,
        recovered_fen=fund.recovered_fen,
        available_fen=fund.available_fen,
        version=fund.version,
    )


@creation(router, "/v1/funds", FundOpened)
def allocate_fund(body: FundIn, request: Request, who: Finance) -> JSONResponse:
    """Open a fund (once per source, region and year; FUND-EXISTS otherwise)."""
    check_region_code(body.region_code)
    who.require_region(body.region_code, "the fund")
    ledger = state(request).ledger

    def action() -> UUID:
        return ledger.funds.allocate(
            who.context(),
            source=body.source,
            region_code=body.region_code,
            year=body.year,
            amount_fen=body.amount_fen,
            reason=body.reason,
        )

    return run_command(
        request,
        who,
        action,
        lambda fund_id: FundOpened(fund_id=fund_id, allocated_fen=body.amount_fen),
        payload=body,
        status_code=201,
        location=lambda fund_id: f"/v1/funds/{fund_id}",
    )


def load_fund(request: Request, fund_id: UUID, who: Reader | Finance) -> Fund:
    """The fund, if in the caller's region."""
    fund = state(request).ledger.funds.get(fund_id)
    who.require_region(fund.region_code, "the fund")
    return fund


@command(router, "/v1/funds/{fund_id}/top-ups", TopUpRecorded)
def top_up(fund_id: UUID, body: TopUpIn, request: Request, who: Finance) -> JSONResponse:
    """Add a supplementary allocation."""
    load_fund(request, fund_id, who)
    ledger = state(request).ledger

    def action() -> None:
        ledger.funds.top_up(who.context(), fund_id, amount_fen=body.amount_fen, reason=body.reason)

    return run_command(
        request,
        who,
        action,
        lambda _: TopUpRecorded(fund_id=fund_id, added_fen=body.amount_fen),
        payload=body,
        target=fund_id,
    )


@router.get("/v1/funds/{fund_id}", response_model=FundOut, responses=ENTITY)
def get_fund(fund_id: UUID, request: Request, who: Reader) -> JSONResponse:
    """A fund's amounts, from its events."""
    fund = load_fund(request, fund_id, who)
    return entity_response(fund_out(fund), fund.version)
