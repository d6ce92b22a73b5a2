"""Payouts: the queue, decisions, objections, re-issues and recovery.

Over 400 lines on purpose: one resource, the payout, whose commands share its loading,
region check, ETag and state response (payment batches are in ``batches.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from disburse.access.context import Context
from disburse.api import pages
from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    MAX_POSITION,
    QUERY,
    Finance,
    Limit,
    MinPosition,
    Offset,
    Reader,
    ReaderOrClaimant,
    command,
    entity_response,
    state,
    wait_for_views,
)
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Fen, Input
from disburse.api.security import Principal, allow
from disburse.application.payouts import Payouts
from disburse.domain.meta import Role
from disburse.domain.payout import Payout, PayoutKind, PayoutStatus
from disburse.domain.text import Code, Reason
from disburse.readside.base import jsonable

router = APIRouter(tags=["payouts"])
R = TypeVar("R")
Objector = Annotated[Principal, Depends(allow(Role.CLERK, Role.INSPECTOR))]


class PayoutOut(BaseModel):
    """A payout: what, to whom, from which fund, why, and where it stands."""

    payout_id: UUID = Field(
        description="Payout id, derived from programme, source and period (one payout for each)."
    )
    kind: PayoutKind = Field(description="stipend, grant or application.")
    programme: str = Field(
        description="Programme code: POST-STIPEND, GRANT-TRANSPORT or a catalogue programme "
        "(SVC-BROKER...)."
    )
    source_id: UUID = Field(description="The post, grant or application it pays for.")
    period: str = Field(description="Month or period paid for.")
    beneficiary_id: UUID = Field(description="Person or organisation paid.")
    fund_id: UUID = Field(
        description="Fund the money is committed and paid from (GET /v1/funds/{fund_id})."
    )
    region_code: str = Field(description="6-digit code of the region the payout belongs to.")
    amount_fen: int = Field(description="Amount in fen.")
    status: PayoutStatus = Field(description="Where it stands.")
    explanation: dict[str, Any] = Field(description="Rule, formula and inputs of the amount.")
    requested_by: str = Field(description="Actor who requested it.")
    notice_ends_on: date | None = Field(description="End of public notice, if any.")
    open_objections: list[str] = Field(description="Objections not yet resolved (ids).")
    approvers: list[str] = Field(description="Actors who approved it, in order.")
    batch_id: UUID | None = Field(description="The batch it was last sent in.")
    bank_reference: str | None = Field(description="The bank's reference, once paid.")
    failure: str | None = Field(description="Why the bank failed or reversed it.")
    recovery_ordered_fen: int = Field(
        description="Total ordered back by recovery orders, in fen (at most amount_fen, RECOVERY)."
    )
    recovered_fen: int = Field(description="Recovered so far.")
    evidence: dict[str, Any] | None = Field(
        description="What the source rests on (attendance, documents), from the queue view; "
        "null until the view has it."
    )
    version: int = Field(description="Version (also the ETag) for If-Match.")


class QueuedOut(BaseModel):
    """A payout as listed in the queue (from the queue view)."""

    payout_id: UUID = Field(description="Payout id (GET /v1/payouts/{payout_id}).")
    kind: PayoutKind = Field(description="What it pays for: stipend, grant or application.")
    programme: str = Field(
        description="Programme code: POST-STIPEND, GRANT-TRANSPORT or a catalogue programme "
        "(SVC-BROKER...)."
    )
    beneficiary_id: UUID = Field(description="Person or organisation id the money is paid to.")
    fund_id: UUID = Field(description="Fund the payout is paid from (GET /v1/funds/{fund_id}).")
    region_code: str = Field(description="6-digit code of the region the payout belongs to.")
    period: str = Field(
        description="Month (YYYY-MM) of a stipend, or year (YYYY) of a grant or application."
    )
    amount_fen: int = Field(description="Amount in fen.")
    status: PayoutStatus = Field(
        description="Where it stands, as the queue view last saw it (requested, on_notice, "
        "held...)."
    )
    requested_at: str = Field(description="When requested (UTC, ISO 8601).")
    open_objections: int = Field(description="Objections not yet resolved.")
    explanation: dict[str, Any] = Field(description="How the amount was computed.")
    evidence: dict[str, Any] | None = Field(description="What the source rests on.")
    version: int = Field(description="Version when the view last saw it.")


class QueuePage(BaseModel):
    """One page of the queue, oldest first."""

    total: int = Field(description="Payouts matching the filters.")
    items: list[QueuedOut] = Field(
        description="The payouts of this page (limit and offset), oldest first."
    )
    next_after: int | None = Field(
        default=None,
        description="Pass as `after` for the next page (keyset paging); null on the last page.",
    )


class ReasonIn(Input):
    """A decision's reason."""

    reason: Reason = Field(description="Why (kept in the record).")


class ObjectionIn(Input):
    """An objection raised during public notice."""

    grounds: Reason = Field(description="What the objection says.")


class ObjectionDecisionIn(Input):
    """The decision on an objection."""

    upheld: bool = Field(description="True: the payout is rejected. False: it continues.")
    reason: Reason = Field(
        description="Why the objection is upheld or dismissed (kept in the record)."
    )


class ReissueIn(Input):
    """Pay a failed payout again to the beneficiary's corrected own account."""

    account: Code = Field(description="The account to pay (must be the beneficiary's own).")
    reason: Reason = Field(description="Why the payout is paid again (kept in the record).")


class RecoveryOrderIn(Input):
    """Order the recovery of an improper payment."""

    amount_fen: Fen = Field(description="Amount to recover, in fen.")
    case_reference: Code = Field(description="Alert id or case number it rests on.")
    reason: Reason = Field(
        description="Why the payment was improper (required, RECOVERY; kept in the record)."
    )


class RecoveryReceiptIn(Input):
    """Recovered money received back into the fund."""

    amount_fen: Fen = Field(description="Amount received, in fen.")
    received_on: date = Field(description="Day the recovered money came back (YYYY-MM-DD).")


class PayoutState(BaseModel):
    """The payout after the command."""

    payout_id: UUID = Field(description="The payout the command acted on (the path's payout_id).")
    status: PayoutStatus | None = Field(description="Its status after the command, when known.")
    objection_id: str | None = Field(default=None, description="A new objection's id.")


def load_payout(request: Request, payout_id: UUID, who: Principal) -> Payout:
    """The payout, if in the caller's region (claimants: their own)."""
    payout = state(request).ledger.payouts.get(payout_id)
    who.require_region(payout.region_code, "the payout")
    who.require_own(payout.requested_via, "this payout")
    return payout


def _evidence(request: Request, payout_id: UUID) -> dict[str, Any] | None:
    queued = state(request).views.queue.payout(payout_id)
    if queued is None or queued.evidence is None:
        return None
    found: Any = jsonable(dataclasses.asdict(queued.evidence))
    return dict(found)


@router.get("/v1/payouts", response_model=QueuePage, responses=QUERY)
def list_payout_queue(
    request: Request,
    who: Reader,
    status: Annotated[
        PayoutStatus | None,
        Query(description="One status; default: those awaiting a decision."),
    ] = None,
    fund_id: Annotated[UUID | None, Query(description="Paying fund.")] = None,
    region: Annotated[
        Code | None, Query(description="2/4/6-digit region prefix (default: the key's region).")
    ] = None,
    programme: Annotated[Code | None, Query(description="Programme code.")] = None,
    older_than_days: Annotated[
        int | None, Query(ge=0, le=3650, description="Requested more than this many days ago.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    after: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_POSITION,
            description="Keyset paging: the `next_after` of the page before (same filters). "
            "Costs the same on any page, unlike `offset`.",
        ),
    ] = None,
    min_position: MinPosition = None,
) -> Response:
    """The queue of payouts, oldest first, with their explanation and evidence."""
    scope = who.scope(region)
    wait_for_views(request, min_position, "queue")
    shared = state(request)
    filters: dict[str, Any] = {
        "status": status,
        "fund_id": fund_id,
        "region": scope,
        "programme": programme,
        "older_than_days": older_than_days,
        "today": shared.ledger.today() if older_than_days is not None else None,
    }
    rows = shared.views.queue.pending_rows(limit=limit, offset=offset, after=after, **filters)
    # Written from the view's rows, its stored JSON spliced in (api/pages.py): the rows
    # are already checked, and a page is read often (QueuedOut documents the shape).
    return pages.page(
        [_queued(row) for row in rows],
        before={"total": shared.views.queue.pending_count(**filters)},
        after={"next_after": int(rows[-1]["requested_position"]) if len(rows) == limit else None},
    )


def _queued(row: dict[str, Any]) -> str:
    """One queued payout as QueuedOut documents it, as JSON text."""
    evidence = "null"
    if row["e_kind"] is not None:
        evidence = pages.item(
            {
                "kind": row["e_kind"],
                "recorded_at": pages.stored_time(row["e_recorded_at"]),
                "evidence_ref": row["e_evidence_ref"],
                "external_claim_id": row["e_external_claim_id"],
                "days_worked": row["e_days_worked"],
                "days_required": row["e_days_required"],
            },
            documents=row["e_documents"] or "[]",
        )
    return pages.item(
        {
            "payout_id": row["payout_id"],
            "kind": row["kind"],
            "programme": row["programme"],
            "beneficiary_id": row["beneficiary_id"],
            "fund_id": row["fund_id"],
            "region_code": row["region_code"],
            "period": row["period"],
            "amount_fen": int(row["amount_fen"]),
            "status": row["status"],
            "requested_at": pages.stored_time(row["requested_at"]),
            "open_objections": int(row["open_objections"]),
            "version": int(row["version"]),
        },
        explanation=row["explanation"],
        evidence=evidence,
    )


@router.get("/v1/payouts/{payout_id}", response_model=PayoutOut, responses=ENTITY)
def get_payout(payout_id: UUID, request: Request, who: ReaderOrClaimant) -> JSONResponse:
    """A payout, current from its events, with its evidence."""
    payout = load_payout(request, payout_id, who)
    body = PayoutOut(
        payout_id=payout.id,
        kind=payout.kind,
        programme=payout.programme,
        source_id=payout.source_id,
        period=payout.period,
        beneficiary_id=payout.beneficiary_id,
        fund_id=payout.fund_id,
        region_code=payout.region_code,
        amount_fen=payout.amount_fen,
        status=payout.status,
        explanation=payout.explanation,
        requested_by=payout.requested_by,
        notice_ends_on=payout.notice_ends_on,
        open_objections=[o for o, still_open in payout.objections.items() if still_open],
        approvers=list(payout.approvers),
        batch_id=payout.batch_id,
        bank_reference=payout.bank_reference,
        failure=payout.failure,
        recovery_ordered_fen=payout.recovery_ordered_fen,
        recovered_fen=payout.recovered_fen,
        evidence=_evidence(request, payout_id),
        version=payout.version,
    )
    return entity_response(body, payout.version)


def _state_after(payout_id: UUID, status: PayoutStatus | None = None) -> PayoutState:
    return PayoutState(payout_id=payout_id, status=status)


def _on_payout(
    request: Request,
    who: Principal,
    payout_id: UUID,
    act: Callable[[Payouts, Context], R],
    render: Callable[[R], PayoutState],
    *,
    payload: BaseModel | None = None,
    status_code: int = 200,
) -> JSONResponse:
    """Run one payout command for a caller who may see the payout (If-Match applies)."""
    load_payout(request, payout_id, who)
    payouts = state(request).ledger.payouts
    return run_command(
        request,
        who,
        lambda: act(payouts, who.context()),
        render,
        payload=payload,
        status_code=status_code,
        target=payout_id,
    )


@command(router, "/v1/payouts/{payout_id}/approve", PayoutState)
def approve_payout(payout_id: UUID, request: Request, who: Finance) -> JSONResponse:
    """Approve (PAYOUT-APPROVER, PAYOUT-NOTICE); the final approval commits the money."""
    return _on_payout(
        request,
        who,
        payout_id,
        lambda payouts, ctx: payouts.approve(ctx, payout_id),
        lambda status: _state_after(payout_id, status),
    )


@command(router, "/v1/payouts/{payout_id}/reject", PayoutState)
def reject_payout(payout_id: UUID, body: ReasonIn, request: Request, who: Finance) -> JSONResponse:
    """Reject; a committed amount returns to the fund and the claim's limits are freed."""
    return _on_payout(
        request,
        who,
        payout_id,
        lambda payouts, ctx: payouts.reject(ctx, payout_id, reason=body.reason),
        lambda _: _state_after(payout_id, PayoutStatus.REJECTED),
        payload=body,
    )


@command(router, "/v1/payouts/{payout_id}/cancel", PayoutState)
def cancel_payout(payout_id: UUID, body: ReasonIn, request: Request, who: Finance) -> JSONResponse:
    """Cancel an approved or failed payout; its commitment returns to the fund."""
    return _on_payout(
        request,
        who,
        payout_id,
        lambda payouts, ctx: payouts.cancel(ctx, payout_id, reason=body.reason),
        lambda _: _state_after(payout_id, PayoutStatus.CANCELLED),
        payload=body,
    )


@command(router, "/v1/payouts/{payout_id}/objections", PayoutState, status_code=201)
def lodge_objection(
    payout_id: UUID, body: ObjectionIn, request: Request, who: Objector
) -> JSONResponse:
    """Record an objection during public notice; holds the payout (PAYOUT-OBJECTION)."""
    return _on_payout(
        request,
        who,
        payout_id,
        lambda payouts, ctx: payouts.lodge_objection(ctx, payout_id, grounds=body.grounds),
        lambda objection_id: PayoutState(
            payout_id=payout_id, status=PayoutStatus.HELD, objection_id=objection_id
        ),
        payload=body,
        status_code=201,
    )


@command(router, "/v1/payouts/{payout_id}/objections/{objection_id}/resolve", PayoutState)
def resolve_objection(
    payout_id: UUID, objection_id: Code, body: ObjectionDecisionIn, request: Request, who: Finance
) -> JSONResponse:
    """Uphold (the payout is rejected) or dismiss (it continues) an objection."""
    return _on_payout(
        request,
        who,
        payout_id,
        lambda payouts, ctx: payouts.resolve_objection(
            ctx, payout_id, objection_id=objection_id, upheld=body.upheld, reason=body.reason
        ),
        lambda _: _state_after(payout_id, PayoutStatus.REJECTED if body.upheld else None),
        payload=body,
    )


@command(router, "/v1/payouts/{payout_id}/reissue", PayoutState)
def reissue_payout(
    payout_id: UUID, body: ReissueIn, request: Request, who: Finance
) -> JSONResponse:
    """Pay a failed payout again, to the beneficiary's own account (PAY-ONE-CARD)."""
    return _on_payout(
        request,
        who,
        payout_id,
        lambda payouts, ctx: payouts.reissue(
            ctx, payout_id, account=body.account, reason=body.reason
        ),
        lambda _: _state_after(payout_id, PayoutStatus.APPROVED),
        payload=body,
    )


@command(router, "/v1/payouts/{payout_id}/recoveries", PayoutState, status_code=201)
def order_recovery(
    payout_id: UUID, body: RecoveryOrderIn, request: Request, who: Finance
) -> JSONResponse:
    """Order the recovery of an improper payment, citing the alert or case."""
    return _on_payout(
        request,
        who,
        payout_id,
        lambda payouts, ctx: payouts.order_recovery(
            ctx,
            payout_id,
            amount_fen=body.amount_fen,
            case_reference=body.case_reference,
            reason=body.reason,
        ),
        lambda _: _state_after(payout_id),
        payload=body,
        status_code=201,
    )


@command(router, "/v1/payouts/{payout_id}/recoveries/receipts", PayoutState, status_code=201)
def record_recovery(
    payout_id: UUID, body: RecoveryReceiptIn, request: Request, who: Finance
) -> JSONResponse:
    """Recovered money returns to the fund."""
    return _on_payout(
        request,
        who,
        payout_id,
        lambda payouts, ctx: payouts.record_recovery(
            ctx, payout_id, amount_fen=body.amount_fen, received_on=body.received_on
        ),
        lambda _: _state_after(payout_id),
        payload=body,
        status_code=201,
    )
