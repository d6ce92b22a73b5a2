"""Finance pages: the payout queue, a payout, decisions, batches, bank results, budget.

Over 400 lines on purpose: the pages of one desk, sharing the payout and batch loading,
their region checks and the refusal pages; bank files (download, return upload) are apart.

Every command goes through the same services as the API, as the signed-in user, with the
API's role and region checks; every approval (one or many) goes through
``Payouts.approve_many`` with the version the officer saw, so a payout changed since the
page was drawn is refused, not approved blind.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from disburse.api.console.web import (
    PREFIX,
    Viewer,
    check_csrf,
    problem_of,
    redirect,
    refuse,
    render,
    require,
    settle,
    state,
    text,
    uuid_of,
    viewer,
)
from disburse.api.problems import ApiError
from disburse.application.payouts import Approval
from disburse.domain.errors import DomainError
from disburse.domain.meta import Role
from disburse.domain.payout import PENDING, PayoutStatus
from disburse.domain.text import TextKind
from disburse.readside.balance_queries import fund_balances, monthly_flows
from disburse.readside.base import jsonable

if TYPE_CHECKING:
    from collections.abc import Iterable

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]
PAGE = 50
#: A whole number as typed: ASCII digits only (``str.isdigit`` also takes ``²``).
DIGITS = re.compile(r"[0-9]{1,18}")
#: Who may read payouts, as in the API (``GET /v1/payouts``).
READERS = (Role.CLERK, Role.FINANCE, Role.INSPECTOR)


def _whole(value: str, field: str) -> int | None:
    if not value:
        return None
    if not DIGITS.fullmatch(value):
        refuse(422, "REQUEST-SCHEMA", f"{field} is a whole number", field=field)
    return int(value)


def _ticked(value: object) -> tuple[UUID, int]:
    """A ticked payout as the page drew it, ``<id>@<version>``: decided at that version."""
    payout_id, _, version = str(value).partition("@")
    if not DIGITS.fullmatch(version):
        refuse(
            422,
            "REQUEST-SCHEMA",
            "each payout is decided at the version shown (payout=<id>@<version>)",
            field="payout",
        )
    return uuid_of(payout_id, "payout"), int(version)


def _status(value: str) -> PayoutStatus | None:
    if not value:
        return None
    try:
        return PayoutStatus(value)
    except ValueError:
        refuse(422, "REQUEST-SCHEMA", f"no payout state {value!r}", field="status")


def may_approve(
    who: Viewer, status: PayoutStatus, requested_by: str, approvers: Iterable[str]
) -> bool:
    """Whether to offer this user the approve control (the service decides in the end).

    Not to the payout's requester or an earlier approver (maker-checker, PAYOUT-SOD),
    and only while it awaits a decision.
    """
    actor = who.principal.actor_id
    return (
        who.role is Role.FINANCE
        and status in PENDING
        and actor != requested_by
        and actor not in tuple(approvers)
    )


@router.get("/payouts")
def queue(
    request: Request,
    who: Signed,
    status: Annotated[str, Query(max_length=20)] = "",
    fund_id: Annotated[str, Query(max_length=36)] = "",
    region: Annotated[str, Query(max_length=6)] = "",
    programme: Annotated[str, Query(max_length=40)] = "",
    older_than_days: Annotated[str, Query(max_length=4)] = "",
    sort: Annotated[str, Query(pattern="^(oldest|newest)$")] = "oldest",
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """The queue of payouts awaiting a decision, oldest first, a page at a time.

    The filter form sends empty fields for filters not used: they mean "any". Readers
    as in the API (clerks, finance, inspectors); only finance sees approve controls.
    """
    require(who, *READERS)
    shared = state(request)
    scope = who.principal.scope(region or None)
    age = _whole(older_than_days, "older_than_days")
    filters: dict[str, Any] = {
        "status": _status(status),
        "fund_id": uuid_of(fund_id, "fund_id") if fund_id else None,
        "region": scope,
        "programme": text(programme, TextKind.CODE, "programme") or None,
        "older_than_days": age,
        "today": shared.ledger.today() if age is not None else None,
    }
    newest = sort == "newest"
    rows = shared.views.queue.pending(limit=PAGE, after=after, newest_first=newest, **filters)
    total = shared.views.queue.pending_count(**filters)
    today = shared.ledger.today()
    items = [
        {
            "row": row,
            "age": row.age_days(today),
            "approvable": may_approve(who, row.status, row.requested_by, row.approvers),
        }
        for row in rows
    ]
    query = {
        "status": status,
        "fund_id": fund_id,
        "region": region,
        "programme": programme,
        "older_than_days": older_than_days,
        "sort": sort,
    }
    next_after = rows[-1].requested_position if len(rows) == PAGE else None
    return render(
        request,
        "payouts.html",
        who,
        items=items,
        total=total,
        page_fen=sum(row.amount_fen for row in rows),
        query=query,
        statuses=list(PayoutStatus),
        next_after=next_after,
        first_page=after is None,
    )


def _payout_page(
    request: Request, who: Viewer, payout_id: UUID, *, problem: object = None, status: int = 200
) -> HTMLResponse:
    shared = state(request)
    payout = shared.ledger.payouts.get(payout_id)
    who.principal.require_region(payout.region_code, "the payout")
    queued = shared.views.queue.payout(payout_id)
    evidence = None if queued is None or queued.evidence is None else asdict(queued.evidence)
    history = shared.views.audit.trail(
        payout_id, after_position=0, limit=200, scope=who.principal.region
    )
    explanation = payout.explanation
    return render(
        request,
        "payout.html",
        who,
        status_code=status,
        payout=payout,
        explanation=explanation,
        explanation_json=json.dumps(jsonable(explanation), ensure_ascii=False, indent=2),
        evidence=evidence,
        history=history,
        approvable=may_approve(who, payout.status, payout.requested_by, payout.approvers),
        rejectable=who.role is Role.FINANCE and payout.status in PENDING,
        problem=problem,
    )


@router.get("/payouts/{payout_id}")
def payout(request: Request, payout_id: UUID, who: Signed) -> HTMLResponse:
    """A payout: explanation (rules, catalogue version, amounts), evidence and history."""
    require(who, *READERS)
    return _payout_page(request, who, payout_id)


@router.post("/payouts/approve")
async def approve(request: Request, who: Signed) -> Response:
    """Approve the payouts ticked (or the one of a payout's page), each at its version."""
    require(who, Role.FINANCE)
    form = await request.form()
    check_csrf(request, who, form)
    approvals = [
        Approval(*_ticked(value)) for value in dict.fromkeys(str(v) for v in form.getlist("payout"))
    ]
    if not approvals:
        refuse(422, "APPROVAL-EMPTY", "tick at least one payout to approve", field="payout")
    outcomes = state(request).ledger.payouts.approve_many(
        who.principal.context(), approvals, scope=who.principal.region
    )
    settle(request, "queue", "audit")
    back = str(form.get("back") or f"{PREFIX}/payouts")
    if (
        len(outcomes) == 1
        and outcomes[0].refusal is not None
        and back.startswith(f"{PREFIX}/payouts/")
    ):
        problem = problem_of(outcomes[0].refusal)
        return _payout_page(
            request, who, outcomes[0].payout_id, problem=problem, status=int(str(problem["status"]))
        )
    return render(
        request,
        "approved.html",
        who,
        outcomes=[
            {
                "payout_id": o.payout_id,
                "status": o.status,
                "problem": None if o.refusal is None else problem_of(o.refusal),
            }
            for o in outcomes
        ],
        approved=sum(1 for o in outcomes if o.refusal is None),
        rejecting=False,
    )


@router.post("/payouts/reject")
async def reject_many(request: Request, who: Signed) -> Response:
    """Reject the payouts ticked, each on its own, with one reason kept in each record."""
    require(who, Role.FINANCE)
    form = await request.form()
    check_csrf(request, who, form)
    reason = text(form.get("reason"), TextKind.REASON, "reason")
    if not reason:
        refuse(422, "REQUEST-SCHEMA", "give the reason for rejecting", field="reason")
    chosen = dict(_ticked(value) for value in form.getlist("payout"))
    if not chosen:
        refuse(422, "APPROVAL-EMPTY", "tick at least one payout to reject", field="payout")
    shared = state(request)
    payouts = shared.ledger.payouts
    outcomes = []
    for payout_id, version in chosen.items():
        problem = None
        try:
            if not who.principal.covers(payouts.get(payout_id).region_code):
                refuse(403, "REGION-SCOPE", f"a payout named is outside {who.principal.region}")
            with shared.ledger.store.expecting({payout_id: version}):
                payouts.reject(who.principal.context(), payout_id, reason=reason)
        except (DomainError, ApiError) as refused:
            problem = problem_of(refused)
        status = None if problem else PayoutStatus.REJECTED
        outcomes.append({"payout_id": payout_id, "status": status, "problem": problem})
    settle(request, "queue", "audit")
    return render(
        request,
        "approved.html",
        who,
        outcomes=outcomes,
        approved=sum(1 for o in outcomes if o["problem"] is None),
        rejecting=True,
    )


@router.post("/payouts/{payout_id}/reject")
async def reject(request: Request, payout_id: UUID, who: Signed) -> Response:
    """Reject a payout, with a reason kept in the record."""
    require(who, Role.FINANCE)
    form = await request.form()
    check_csrf(request, who, form)
    shared = state(request)
    payout = shared.ledger.payouts.get(payout_id)
    who.principal.require_region(payout.region_code, "the payout")
    reason = text(form.get("reason"), TextKind.REASON, "reason")
    ticked, version = _ticked(form.get("payout"))
    if ticked != payout_id:
        refuse(422, "REQUEST-SCHEMA", "the form names another payout", field="payout")
    try:
        with shared.ledger.store.expecting({payout_id: version}):
            shared.ledger.payouts.reject(who.principal.context(), payout_id, reason=reason)
    except DomainError as refused:
        problem = problem_of(refused)
        return _payout_page(
            request, who, payout_id, problem=problem, status=int(str(problem["status"]))
        )
    settle(request, "queue", "audit")
    return redirect(f"{PREFIX}/payouts/{payout_id}")


@router.get("/batches")
def batches(
    request: Request,
    who: Signed,
    fund: Annotated[str, Query(alias="fund_id", max_length=36)] = "",
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """Payment batches of the user's region, and approved payouts of a fund to send."""
    require(who, Role.FINANCE)
    fund_id = uuid_of(fund, "fund_id") if fund else None
    shared = state(request)
    region = who.principal.region
    funds = fund_balances(shared.views.balances.db, region)
    page = shared.views.directory.batches(
        region=region, fund_id=str(fund_id) if fund_id else None, limit=PAGE, after=after
    )
    approved: list[Any] = []
    if fund_id is not None:
        if not any(f.fund_id == str(fund_id) for f in funds):
            refuse(403, "REGION-SCOPE", f"the fund is outside your region {region}")
        approved = shared.views.queue.pending(
            limit=1000, status=PayoutStatus.APPROVED, fund_id=fund_id, region=region
        )
    return render(
        request,
        "batches.html",
        who,
        funds=funds,
        fund_id=str(fund_id) if fund_id else "",
        batches=page.items,
        next_after=page.next_after,
        approved=approved,
    )


@router.post("/batches")
async def release(request: Request, who: Signed) -> Response:
    """Send the ticked approved payouts of one fund to the bank as a batch."""
    require(who, Role.FINANCE)
    form = await request.form()
    check_csrf(request, who, form)
    shared = state(request)
    fund_id = uuid_of(str(form.get("fund_id") or ""), "fund_id")
    who.principal.require_region(shared.ledger.funds.get(fund_id).region_code, "the fund")
    payout_ids = [uuid_of(str(v), "payout") for v in form.getlist("payout")]
    for payout_id in payout_ids:
        who.principal.require_region(
            shared.ledger.payouts.get(payout_id).region_code, "a payout named"
        )
    batch_id = shared.ledger.payouts.release_batch(
        who.principal.context(), fund_id=fund_id, payout_ids=payout_ids
    )
    settle(request, "queue")
    return redirect(f"{PREFIX}/batches/{batch_id}")


def batch_page(
    request: Request, who: Viewer, batch_id: UUID, *, problem: object = None, status: int = 200
) -> HTMLResponse:
    """A batch's page (in the viewer's region), with the refusal of a form if one."""
    shared = state(request)
    batch = shared.ledger.payouts.get_batch(batch_id)
    who.principal.require_region(
        shared.ledger.funds.get(batch.fund_id).region_code, "the batch's fund"
    )
    detail = shared.views.queue.batch(batch_id)
    return render(
        request,
        "batch.html",
        who,
        status_code=status,
        batch=batch,
        detail=detail,
        problem=problem,
    )


@router.get("/batches/{batch_id}")
def batch(request: Request, batch_id: UUID, who: Signed) -> HTMLResponse:
    """A batch: its control totals, its lines and the bank's results."""
    require(who, Role.FINANCE, Role.INSPECTOR)
    return batch_page(request, who, batch_id)


@router.get("/budget")
def budget(
    request: Request,
    who: Signed,
    region: Annotated[str, Query(max_length=6)] = "",
) -> HTMLResponse:
    """Budget execution per fund and per month: allocated, committed, paid, recovered."""
    require(who, Role.FINANCE, Role.INSPECTOR)
    scope = who.principal.scope(region or None)
    balances = state(request).views.balances
    funds = fund_balances(balances.db, scope)
    months = monthly_flows(balances.db, scope)
    peak = max(
        [1, *(max(m.allocated_fen, m.committed_fen, m.paid_fen, m.recovered_fen) for m in months)]
    )
    return render(request, "budget.html", who, funds=funds, months=months, peak=peak, region=region)
