"""Bulk approval: many payouts approved in one request, each decided and reported alone."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from disburse.api.deps import CREATE_DEPS, Finance, problems, state
from disburse.api.problems import ApiError, status_of
from disburse.api.responses import JSONResponse
from disburse.api.routes.bulk import ItemProblem, answer_once
from disburse.api.schemas import Count, Input
from disburse.application.payouts import Approval
from disburse.domain.payout import PayoutStatus

router = APIRouter(tags=["payouts"])
MAX_APPROVALS = 5_000


class ApprovalIn(Input):
    """One payout to approve, with the version its approver saw."""

    payout_id: UUID = Field(description="The payout to approve, as in GET /v1/payouts.")
    version: Count | None = Field(
        default=None,
        ge=1,
        description="Its `version` (ETag) as the approver saw it: refused (IF-MATCH) if it "
        "changed since. Omit to approve whatever its version.",
    )


class ApprovalsIn(Input):
    """Up to 5,000 payouts to approve."""

    approvals: list[ApprovalIn] = Field(
        min_length=1,
        max_length=MAX_APPROVALS,
        description="Each approved as by POST /v1/payouts/{payout_id}/approve, in order.",
    )


class ApprovalResult(BaseModel):
    """One approval's outcome, at its index in the request."""

    index: int = Field(description="Position in `approvals` (from 0).")
    payout_id: UUID = Field(description="The payout this result is about (as sent).")
    accepted: bool = Field(description="Approved (first or final approval).")
    status: PayoutStatus | None = Field(
        default=None, description="Its status after the approval (approved, first_approved)."
    )
    problem: ItemProblem | None = Field(default=None, description="Why it was refused.")


class ApprovalsReport(BaseModel):
    """Per-payout report of a bulk approval."""

    accepted: int = Field(description="How many payouts this request approved.")
    refused: int = Field(description="Payouts refused; each result says why.")
    items: list[ApprovalResult] = Field(description="One per approval, in order.")


@router.post(
    "/v1/payouts/approvals",
    response_model=ApprovalsReport,
    responses=problems(404, 409),
    dependencies=CREATE_DEPS,
)
def approve_payouts(body: ApprovalsIn, request: Request, who: Finance) -> JSONResponse:
    """Approve many payouts: each as alone (PAYOUT-SOD, PAYOUT-NOTICE, FUND-INSUFFICIENT).

    Approvals are committed a few hundred per transaction. A refused one writes nothing
    and fails no other; a fund that runs out refuses the payouts after it. A payout
    outside the caller's region is refused (REGION-SCOPE) and not touched.
    """
    ledger = state(request).ledger

    def report() -> ApprovalsReport:
        decided = ledger.payouts.approve_many(
            who.context(),
            [Approval(item.payout_id, item.version) for item in body.approvals],
            scope=who.region,
        )
        items = [
            ApprovalResult(
                index=index,
                payout_id=outcome.payout_id,
                accepted=outcome.refusal is None,
                status=outcome.status,
                problem=None
                if outcome.refusal is None
                else ItemProblem(
                    status=status_of(outcome.refusal),
                    rule_id=outcome.refusal.rule_id,
                    field=outcome.refusal.field,
                    detail=outcome.refusal.message,
                ),
            )
            for index, outcome in enumerate(decided)
        ]
        accepted = sum(item.accepted for item in items)
        return ApprovalsReport(accepted=accepted, refused=len(items) - accepted, items=items)

    return answer_once(request, who, body, report)


@router.api_route(
    "/v1/payouts/approvals",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def approvals_other_methods() -> None:
    """Only POST: the path is not a payout id (405, not a 422 on ``payout_id``)."""
    raise ApiError(405, "METHOD-NOT-ALLOWED", "Method Not Allowed", headers={"Allow": "POST"})
