"""Sites and public-welfare posts: set-up, appointments, insurance, attendance, exit.

Over 400 lines on purpose: one resource (a post and the site it counts against), whose
lifecycle commands share their request and response models.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from disburse.access.context import Context
from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    Clerk,
    Reader,
    command,
    creation,
    entity_response,
    state,
)
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Count, Fen, Input, StrictInt
from disburse.api.security import Principal
from disburse.application.posts import Posts
from disburse.domain.months import Month
from disburse.domain.person import Person
from disburse.domain.post import ExitReason, InsuranceKind, Post
from disburse.domain.regions import check_region_code
from disburse.domain.site import Site, SiteKind
from disburse.domain.text import Code, Name, Reason

router = APIRouter(tags=["posts"])


class SiteIn(Input):
    """A village or relocation settlement site."""

    region_code: Code = Field(description="6-digit code of the county the site is in.")
    kind: SiteKind = Field(description="village or settlement.")
    name: Name = Field(description="Name of the village or settlement site (e.g. 东风村).")
    population: StrictInt = Field(
        description="People living there (settlement quotas follow it; 0-1,000,000)."
    )
    lifted: bool = Field(default=True, description="Whether the site was lifted out of poverty.")


class SiteOut(BaseModel):
    """A site."""

    site_id: UUID = Field(description="Site id, as returned by POST /v1/sites.")
    region_code: str = Field(description="6-digit code of the county the site is in.")
    kind: SiteKind = Field(description="village or settlement.")
    name: str = Field(description="Name of the village or settlement site.")
    population: int = Field(
        description="People living at the site; settlement post quotas follow it (POST-QUOTA-SITE)."
    )
    post_ids: list[UUID] = Field(description="Posts set up at the site.")
    version: int = Field(description="Version (also the ETag).")


class PostIn(Input):
    """A public-welfare post at a site."""

    site_id: UUID = Field(
        description="Site the post is set up at (id from POST /v1/sites), in the caller's region."
    )
    title: Name = Field(description="What the post does (road upkeep, sanitation...).")
    stipend_fen: Fen = Field(description="Monthly stipend in fen (POST-STIPEND-FLOOR).")
    fund_id: UUID = Field(description="The fund that pays it (POST-FUND).")
    part_time: bool = Field(description="Part-time (holder may earn elsewhere, within limits).")


class Created(BaseModel):
    """The new resource's id."""

    id: UUID = Field(
        description="Id of the new site or post, for GET /v1/sites/{site_id} or GET "
        "/v1/posts/{post_id}."
    )


class Term(BaseModel):
    """One term of appointment."""

    start: date = Field(description="First day of the period (YYYY-MM-DD), inclusive.")
    end: date = Field(description="Last day of the period (YYYY-MM-DD), inclusive.")


class PostOut(BaseModel):
    """A post and its current holder."""

    post_id: UUID = Field(description="Post id, as returned by POST /v1/posts.")
    site_id: UUID = Field(description="Site the post is at (id from POST /v1/sites).")
    region_code: str = Field(description="6-digit code of the county of the post's site.")
    title: str = Field(description="What the post does (road upkeep, sanitation...).")
    stipend_fen: int = Field(description="Monthly stipend in fen.")
    fund_id: UUID = Field(
        description="Fund whose source and region pay the stipend (POST-FUND; id from POST "
        "/v1/funds)."
    )
    part_time: bool = Field(
        description="Whether the post is part-time (its holder may earn elsewhere, within "
        "POST-EXIT-INCOME)."
    )
    holder_id: UUID | None = Field(description="Current holder (person id), if any.")
    terms: list[Term] = Field(description="Terms of the current holder.")
    insured_periods: list[Term] = Field(description="Insurance cover of the current holder.")
    exited_on: date | None = Field(description="When the last holder left, if they did.")
    exit_reason: ExitReason | None = Field(description="Why they left.")
    stipends_fen: dict[str, int] = Field(
        description="Stipend due in fen by month (YYYY-MM), from the attendance recorded."
    )
    version: int = Field(description="Version (also the ETag).")


class AppointmentIn(Input):
    """Appoint a person for one term (POST-TERM: at most a year)."""

    person_id: UUID = Field(
        description="The appointee's person id (from POST /v1/people); checked by POST-ELIG and "
        "POST-ONE-PERSON-ONE-POST."
    )
    term_start: date = Field(description="First day of the term (YYYY-MM-DD).")
    term_end: date = Field(
        description="Last day of the term, at most the catalogue's post.max_term_months after "
        "term_start (POST-TERM)."
    )


class RenewalIn(Input):
    """A new term for the current holder (POST-TERM: at most a year)."""

    term_start: date = Field(description="First day of the new term.")
    term_end: date = Field(description="Last day of the new term.")


class InsuranceIn(Input):
    """The holder's work-injury or accident insurance (POST-INSURANCE)."""

    kind: InsuranceKind = Field(description="Kind of cover.")
    policy_number: Code = Field(
        description="The insurer's policy number (required, POST-INSURANCE)."
    )
    insurer: Name = Field(description="Name of the insurance company (required, POST-INSURANCE).")
    valid_from: date = Field(
        description="First day of cover (YYYY-MM-DD); a stipend month must be covered "
        "(POST-INSURANCE)."
    )
    valid_to: date = Field(description="Last day of cover (YYYY-MM-DD), not before valid_from.")


class AttendanceIn(Input):
    """A month's attendance; requests that month's stipend."""

    month: Code = Field(
        description="Month worked, YYYY-MM, within the holder's term; once per post "
        "(POST-ATTENDANCE-ONCE)."
    )
    days_worked: Count = Field(
        description="Days the holder worked that month, 0 to days_required; 0 requests no stipend."
    )
    days_required: Count = Field(description="Days the post required that month.")


class AttendanceRecorded(BaseModel):
    """Attendance recorded, and the stipend payout it requested (none for 0 days)."""

    post_id: UUID = Field(
        description="The post the attendance was recorded for (the path's post_id)."
    )
    month: str = Field(description="The month recorded, as YYYY-MM.")
    payout_id: UUID | None = Field(description="The stipend payout requested, if any.")


class ExitIn(Input):
    """The holder leaves the post."""

    reason: ExitReason = Field(
        description="Why the holder leaves: contract_end, income_over_threshold, voluntary, death "
        "or dismissal."
    )
    effective_on: date = Field(
        description="Last day on the post, on or after the first term's start (POST-EXIT); "
        "later months get no stipend (FRAUD-PAID-AFTER-EXIT)."
    )
    note: Reason = Field(
        default="", description="Optional free-text note, kept as the reason in the audit trail."
    )


class Done(BaseModel):
    """The command was recorded."""

    id: UUID = Field(description="The resource it acted on.")
    recorded: bool = Field(
        description="Always true: the command was recorded (a refusal answers problem+json "
        "instead)."
    )


def _site(request: Request, site_id: UUID, who: Principal) -> Site:
    site = state(request).ledger.posts.get_site(site_id)
    who.require_region(site.region_code, "the site")
    return site


def load_post(request: Request, post_id: UUID, who: Principal) -> Post:
    """The post, if in the caller's region."""
    post = state(request).ledger.posts.get(post_id)
    who.require_region(post.region_code, "the post")
    return post


@creation(router, "/v1/sites", Created)
def register_site(body: SiteIn, request: Request, who: Clerk) -> JSONResponse:
    """Register a village or settlement site."""
    check_region_code(body.region_code)
    who.require_region(body.region_code, "the site")
    posts = state(request).ledger.posts
    return run_command(
        request,
        who,
        lambda: posts.register_site(
            who.context(),
            region_code=body.region_code,
            kind=body.kind,
            name=body.name,
            population=body.population,
            lifted=body.lifted,
        ),
        lambda site_id: Created(id=site_id),
        payload=body,
        status_code=201,
        location=lambda site_id: f"/v1/sites/{site_id}",
    )


@router.get("/v1/sites/{site_id}", response_model=SiteOut, responses=ENTITY)
def get_site(site_id: UUID, request: Request, who: Reader) -> JSONResponse:
    """A site and its posts."""
    site = _site(request, site_id, who)
    body = SiteOut(
        site_id=site.id,
        region_code=site.region_code,
        kind=site.kind,
        name=site.name,
        population=site.population,
        post_ids=list(site.post_ids),
        version=site.version,
    )
    return entity_response(body, site.version)


@creation(router, "/v1/posts", Created)
def create_post(body: PostIn, request: Request, who: Clerk) -> JSONResponse:
    """Set up a post at a site (POST-QUOTA-SITE, POST-STIPEND-FLOOR, POST-FUND)."""
    _site(request, body.site_id, who)
    ledger = state(request).ledger
    who.require_reach(ledger.funds.get(body.fund_id).region_code, "the fund")
    posts = ledger.posts
    return run_command(
        request,
        who,
        lambda: posts.create_post(
            who.context(),
            site_id=body.site_id,
            title=body.title,
            stipend_fen=body.stipend_fen,
            fund_id=body.fund_id,
            part_time=body.part_time,
        ),
        lambda post_id: Created(id=post_id),
        payload=body,
        status_code=201,
        location=lambda post_id: f"/v1/posts/{post_id}",
    )


@router.get("/v1/posts/{post_id}", response_model=PostOut, responses=ENTITY)
def get_post(post_id: UUID, request: Request, who: Reader) -> JSONResponse:
    """A post, its holder, terms, insurance and attendance."""
    post = load_post(request, post_id, who)
    body = PostOut(
        post_id=post.id,
        site_id=post.site_id,
        region_code=post.region_code,
        title=post.title,
        stipend_fen=post.stipend_fen,
        fund_id=post.fund_id,
        part_time=post.part_time,
        holder_id=post.holder_id,
        terms=[Term(start=s, end=e) for s, e in post.terms],
        insured_periods=[Term(start=s, end=e) for s, e in post.insurance],
        exited_on=post.exited_on,
        exit_reason=post.exit_reason,
        stipends_fen=dict(post.attendance),
        version=post.version,
    )
    return entity_response(body, post.version)


def _on_post(
    request: Request,
    who: Principal,
    post_id: UUID,
    act: Callable[[Posts, Context], None],
    payload: BaseModel,
) -> JSONResponse:
    """Run one post command that answers ``Done`` (If-Match applies to the post)."""
    load_post(request, post_id, who)
    posts = state(request).ledger.posts
    return run_command(
        request,
        who,
        lambda: act(posts, who.context()),
        lambda _: Done(id=post_id, recorded=True),
        payload=payload,
        target=post_id,
    )


@command(router, "/v1/posts/{post_id}/appointments", Done)
def appoint_holder(
    post_id: UUID, body: AppointmentIn, request: Request, who: Clerk
) -> JSONResponse:
    """Appoint a person (POST-ELIG, POST-ONE-PERSON-ONE-POST, POST-TERM)."""
    person = state(request).ledger.store.find(Person, body.person_id)
    if person is not None:  # an unknown person is left to the command (404)
        who.require_region(person.home_region, "the person")
    return _on_post(
        request,
        who,
        post_id,
        lambda posts, ctx: posts.appoint(
            ctx,
            post_id,
            person_id=body.person_id,
            term_start=body.term_start,
            term_end=body.term_end,
        ),
        body,
    )


@command(router, "/v1/posts/{post_id}/renewals", Done)
def renew_term(post_id: UUID, body: RenewalIn, request: Request, who: Clerk) -> JSONResponse:
    """Renew the current holder's term (POST-VACANT without one, POST-TERM)."""
    return _on_post(
        request,
        who,
        post_id,
        lambda posts, ctx: posts.renew(
            ctx, post_id, term_start=body.term_start, term_end=body.term_end
        ),
        body,
    )


@command(router, "/v1/posts/{post_id}/insurance", Done)
def record_insurance(
    post_id: UUID, body: InsuranceIn, request: Request, who: Clerk
) -> JSONResponse:
    """Record the holder's insurance (needed before the first stipend)."""
    return _on_post(
        request,
        who,
        post_id,
        lambda posts, ctx: posts.record_insurance(
            ctx,
            post_id,
            kind=body.kind,
            policy_number=body.policy_number,
            insurer=body.insurer,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
        ),
        body,
    )


@command(router, "/v1/posts/{post_id}/attendance", AttendanceRecorded)
def record_attendance(
    post_id: UUID, body: AttendanceIn, request: Request, who: Clerk
) -> JSONResponse:
    """Record a month's attendance; requests the month's stipend payout."""
    load_post(request, post_id, who)
    month = Month.parse(body.month, "month")
    posts = state(request).ledger.posts
    return run_command(
        request,
        who,
        lambda: posts.record_attendance(
            who.context(),
            post_id,
            month=month,
            days_worked=body.days_worked,
            days_required=body.days_required,
        ),
        lambda payout_id: AttendanceRecorded(
            post_id=post_id, month=str(month), payout_id=payout_id
        ),
        payload=body,
        target=post_id,
    )


@command(router, "/v1/posts/{post_id}/exit", Done)
def exit_post(post_id: UUID, body: ExitIn, request: Request, who: Clerk) -> JSONResponse:
    """The holder leaves; they may then hold another post."""
    return _on_post(
        request,
        who,
        post_id,
        lambda posts, ctx: posts.exit(
            ctx, post_id, reason=body.reason, effective_on=body.effective_on, note=body.note
        ),
        body,
    )
