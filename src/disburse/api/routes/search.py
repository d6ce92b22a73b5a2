"""Finding people, posts, funds and payment batches: lists with filters, keyset-paged.

Served from the directory view (``readside/directory.py``), within the key's region.
Each page is plain rows from one query; the models below document the shape.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from disburse.api.deps import (
    MAX_POSITION,
    QUERY,
    Limit,
    MinPosition,
    Overseer,
    Reader,
    ReaderOrClaimant,
    state,
    wait_for_views,
)
from disburse.api.responses import JSONResponse
from disburse.domain.fund import FundSource
from disburse.domain.meta import Role
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.text import Code, Name
from disburse.readside.listing import Page

router = APIRouter()

Region = Annotated[
    Code | None,
    Query(description="2/4/6-digit region prefix inside the key's (default: the key's region)."),
]
After = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_POSITION,
        description="Keyset paging: the `next_after` of the page before (same filters).",
    ),
]
NEXT_AFTER = Field(
    default=None,
    description="Pass as `after` for the next page; null on the last page.",
)


class PersonItem(BaseModel):
    """A person as the caller may see them (resident IDs masked by role, as GET shows)."""

    person_id: UUID = Field(description="The person (GET /v1/people/{person_id}).")
    resident_id: str | None = Field(
        description="Full resident ID: only for clerk and inspector keys, else null."
    )
    resident_id_masked: str = Field(description="Resident ID with birth date hidden.")
    name: str = Field(description="Full name as registered.")
    home_region: str = Field(description="Home region code.")
    poverty_status: PovertyStatus = Field(description="lifted, monitored, low_income or none.")
    labour_capacity: LabourCapacity = Field(description="full, weak or half.")
    public_payroll: bool = Field(description="On public payroll.")
    died_on: date | None = Field(description="Date of death, if recorded.")


class PeoplePage(BaseModel):
    """People, in the order they were registered."""

    items: list[PersonItem] = Field(description="People of this page.")
    next_after: int | None = NEXT_AFTER


class PostItem(BaseModel):
    """A public-welfare post and who holds it."""

    post_id: UUID = Field(description="The post (GET /v1/posts/{post_id}).")
    region_code: str = Field(description="6-digit code of the post's region.")
    site_id: UUID = Field(description="The village or settlement site.")
    fund_id: UUID = Field(description="The fund its stipends are paid from (POST-STIPEND).")
    title: str = Field(description="The post's title.")
    stipend_fen: int = Field(description="Monthly stipend in fen.")
    part_time: bool = Field(description="A part-time post.")
    status: Literal["vacant", "held"] = Field(description="vacant or held.")
    holder_id: UUID | None = Field(description="The person holding it, while held.")
    exited_on: date | None = Field(description="When the last holder left, if one did.")


class PostsPage(BaseModel):
    """Posts, in the order they were created."""

    items: list[PostItem] = Field(description="Posts of this page.")
    next_after: int | None = NEXT_AFTER


class FundItem(BaseModel):
    """A fund: one source's budget for a region and year."""

    fund_id: UUID = Field(description="The fund (GET /v1/funds/{fund_id}).")
    source: FundSource = Field(description="employment_subsidy, rural_revitalisation or east_west.")
    region_code: str = Field(description="6-digit code of the fund's region.")
    year: int = Field(description="The calendar year the budget is for.")


class FundsPage(BaseModel):
    """Funds, in the order they were allocated."""

    items: list[FundItem] = Field(description="Funds of this page.")
    next_after: int | None = NEXT_AFTER


class BatchItem(BaseModel):
    """A payment batch, its control totals and how many lines have a result."""

    batch_id: UUID = Field(description="The batch (GET /v1/payment-batches/{batch_id}).")
    fund_id: UUID = Field(description="The fund it pays from.")
    region_code: str = Field(description="The fund's region.")
    count: int = Field(description="Control count: payouts in the batch.")
    total_fen: int = Field(description="Control total in fen.")
    results: int = Field(description="Lines with a bank result (a reversal is not another).")
    state: Literal["open", "complete"] = Field(
        description="open: lines await a result; complete: every line has one."
    )
    released_at: str = Field(description="When released (UTC, ISO 8601).")
    released_by: str = Field(description="Actor who released it.")


class BatchesPage(BaseModel):
    """Payment batches, in the order they were released."""

    items: list[BatchItem] = Field(description="Batches of this page.")
    next_after: int | None = NEXT_AFTER


def _page(page: Page[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"items": page.items, "next_after": page.next_after})


@router.get("/v1/people", response_model=PeoplePage, responses=QUERY, tags=["registry"])
def list_people(
    request: Request,
    who: ReaderOrClaimant,
    region: Region = None,
    name: Annotated[
        Name | None,
        Query(description="Name prefix, 1-16 characters, case-insensitive (王 finds 王五)."),
    ] = None,
    resident_id: Annotated[
        Code | None,
        Query(description="Exact resident ID (ID-RESIDENT checks it); matched by keyed hash."),
    ] = None,
    poverty_status: Annotated[PovertyStatus | None, Query(description="One status.")] = None,
    limit: Limit = 100,
    after: After = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    """People in the key's region, by name prefix or resident ID (claimants: their own)."""
    scope = who.scope(region)
    shared = state(request)
    person_id = None if resident_id is None else str(shared.ledger.people.id_for(resident_id))
    wait_for_views(request, min_position, "directory")
    page = shared.views.directory.people(
        region=scope,
        name=name,
        person_id=person_id,
        poverty_status=poverty_status,
        registered_via=who.client_id if who.role is Role.CLAIMANT else None,
        full_ids=who.sees_resident_ids,
        limit=limit,
        after=after,
    )
    return _page(page)


@router.get("/v1/posts", response_model=PostsPage, responses=QUERY, tags=["posts"])
def list_posts(
    request: Request,
    who: Reader,
    region: Region = None,
    status: Annotated[
        Literal["vacant", "held"] | None, Query(description="vacant or held.")
    ] = None,
    holder_id: Annotated[UUID | None, Query(description="Held by this person.")] = None,
    site_id: Annotated[UUID | None, Query(description="At this site.")] = None,
    fund_id: Annotated[UUID | None, Query(description="Paid from this fund.")] = None,
    limit: Limit = 100,
    after: After = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    """Public-welfare posts in the key's region, by status, holder, site or fund."""
    scope = who.scope(region)
    wait_for_views(request, min_position, "directory")
    page = state(request).views.directory.posts(
        region=scope,
        status=status,
        holder_id=None if holder_id is None else str(holder_id),
        site_id=None if site_id is None else str(site_id),
        fund_id=None if fund_id is None else str(fund_id),
        limit=limit,
        after=after,
    )
    return _page(page)


@router.get("/v1/funds", response_model=FundsPage, responses=QUERY, tags=["funds"])
def list_funds(
    request: Request,
    who: Reader,
    region: Region = None,
    source: Annotated[FundSource | None, Query(description="One fund source.")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Budget year.")] = None,
    limit: Limit = 100,
    after: After = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    """Funds in the key's region, by source and year."""
    scope = who.scope(region)
    wait_for_views(request, min_position, "directory")
    page = state(request).views.directory.funds(
        region=scope,
        source=None if source is None else source.value,
        year=year,
        limit=limit,
        after=after,
    )
    return _page(page)


@router.get(
    "/v1/payment-batches", response_model=BatchesPage, responses=QUERY, tags=["payment batches"]
)
def list_batches(
    request: Request,
    who: Overseer,
    region: Region = None,
    fund_id: Annotated[UUID | None, Query(description="Paid from this fund.")] = None,
    status: Annotated[
        Literal["open", "complete"] | None,
        Query(description="open (lines await a bank result) or complete."),
    ] = None,
    released_from: Annotated[
        date | None, Query(description="Released on or after this day (UTC).")
    ] = None,
    released_to: Annotated[
        date | None, Query(description="Released on or before this day (UTC).")
    ] = None,
    limit: Limit = 100,
    after: After = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    """Payment batches of the funds in the key's region, by fund, state and release day."""
    scope = who.scope(region)
    wait_for_views(request, min_position, "directory")
    page = state(request).views.directory.batches(
        region=scope,
        fund_id=None if fund_id is None else str(fund_id),
        state=status,
        released_from=released_from,
        released_to=released_to,
        limit=limit,
        after=after,
    )
    return _page(page)
