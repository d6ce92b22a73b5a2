"""Inspector pages: alerts, trails, the ledger as of a date, verification, evidence packs.

Reads that the API already answers (as of a date, evidence packs) are answered by the
API's own route functions, called with the signed-in user as the principal: one set of
region, role and masking rules for both doors.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any
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
from disburse.api.routes.evidence import as_of as api_as_of
from disburse.api.routes.evidence import export_evidence_pack
from disburse.application.alert_desk import Alerts
from disburse.audit.digest import signer_for, take_digest
from disburse.audit.verify import verify as verify_chain
from disburse.domain.alert import AlertOutcome
from disburse.domain.errors import DomainError
from disburse.domain.meta import Role
from disburse.domain.text import TextKind

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]
PAGE = 50
STATES = ("open", "confirmed", "dismissed")


@router.get("/alerts")
def alerts(
    request: Request,
    who: Signed,
    rule: Annotated[str | None, Query(max_length=40, pattern="^[A-Z0-9-]*$")] = None,
    status: Annotated[str | None, Query(pattern="^(open|confirmed|dismissed|)$")] = "open",
    after: Annotated[str, Query(max_length=36)] = "",
) -> HTMLResponse:
    """Alerts by rule and state, with counts, a page at a time (keyset, oldest first)."""
    require(who, Role.INSPECTOR, Role.FINANCE)
    found = state(request).views.alerts
    region = who.principal.region
    counts = found.counts(region)
    rules = sorted({r for r, _ in counts})
    table = [{"rule": r, **{s: counts.get((r, s), 0) for s in STATES}} for r in rules]
    items = found.find(
        rule=rule or None,
        state=status or None,
        region=region,
        limit=PAGE + 1,
        after=uuid_of(after.strip(), "after") if after else None,
    )
    return render(
        request,
        "alerts.html",
        who,
        table=table,
        states=STATES,
        items=items[:PAGE],
        rule=rule or "",
        status=status or "",
        first_page=not after,
        next_after=items[PAGE - 1].alert_id if len(items) > PAGE else None,
    )


def _alert_page(
    request: Request, who: Viewer, alert_id: UUID, *, problem: object = None, status: int = 200
) -> HTMLResponse:
    views = state(request).views
    alert = views.alerts.get(alert_id)
    if alert is None:
        refuse(404, "ALERT-NOT-FOUND", f"no alert {alert_id}", field="alert_id")
    who.principal.require_any_region(alert.regions, "the alert")
    timeline = []
    for position in sorted(set(alert.evidence)):
        entries = views.audit.feed(after_position=position - 1, limit=1, scope=who.principal.region)
        if entries and entries[0].position == position:
            timeline.append(entries[0])
    return render(
        request,
        "alert.html",
        who,
        status_code=status,
        alert=alert,
        history=timeline,
        outcomes=list(AlertOutcome),
        problem=problem,
    )


@router.get("/alerts/{alert_id}")
def alert(request: Request, alert_id: UUID, who: Signed) -> HTMLResponse:
    """An alert: what it says, and its evidence as a timeline of events."""
    require(who, Role.INSPECTOR, Role.FINANCE)
    return _alert_page(request, who, alert_id)


@router.post("/alerts/{alert_id}/resolve")
async def resolve(request: Request, alert_id: UUID, who: Signed) -> Response:
    """Confirm or dismiss an alert with a reason (once: ALERT-RESOLVED)."""
    require(who, Role.INSPECTOR)
    form = await request.form()
    check_csrf(request, who, form)
    views = state(request).views
    alert = views.alerts.get(alert_id)
    if alert is None:
        refuse(404, "ALERT-NOT-FOUND", f"no alert {alert_id}", field="alert_id")
    who.principal.require_any_region(alert.regions, "the alert")
    try:
        outcome = AlertOutcome(str(form.get("outcome") or ""))
    except ValueError:
        refuse(422, "REQUEST-SCHEMA", "choose confirmed or dismissed", field="outcome")
    try:
        Alerts(state(request).ledger.store, views.alerts).resolve(
            who.principal.context(),
            alert_id,
            outcome=outcome,
            reason=text(form.get("reason"), TextKind.REASON, "reason"),
        )
    except DomainError as refused:
        problem = problem_of(refused)
        return _alert_page(
            request, who, alert_id, problem=problem, status=int(str(problem["status"]))
        )
    settle(request, "alerts", "audit")
    return redirect(f"{PREFIX}/alerts/{alert_id}")


@router.get("/trail")
def trail(
    request: Request,
    who: Signed,
    entity: Annotated[str, Query(alias="entity_id", max_length=36)] = "",
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> HTMLResponse:
    """Any entity's audit trail: every event of it and of others naming it, in log order."""
    require(who, Role.INSPECTOR)
    history: list[Any] = []
    entity_id = uuid_of(entity.strip(), "entity_id") if entity.strip() else None
    if entity_id is not None:
        views = state(request).views
        region = views.audit.region_of(str(entity_id))
        if region:
            who.principal.require_region(region, "the entity")
        history = views.audit.trail(
            entity_id, after_position=after, limit=PAGE + 1, scope=who.principal.region
        )
    return render(
        request,
        "trail.html",
        who,
        entity_id=str(entity_id) if entity_id else "",
        history=history[:PAGE],
        next_after=history[PAGE - 1].position if len(history) > PAGE else None,
    )


@router.get("/as-of")
def as_of(
    request: Request,
    who: Signed,
    entity_id: Annotated[str | None, Query(max_length=36)] = None,
    when: Annotated[str, Query(alias="date", max_length=10)] = "",
) -> HTMLResponse:
    """An entity, a fund or a region as it stood at the end of a day."""
    require(who, Role.INSPECTOR, Role.FINANCE)
    found: dict[str, Any] | None = None
    day = _day(when, "date")
    if entity_id and day is not None:
        answer = api_as_of(request, who.principal, day, text(entity_id, TextKind.CODE, "entity_id"))
        found = json.loads(bytes(answer.body))
    return render(
        request,
        "asof.html",
        who,
        entity_id=entity_id or "",
        day=day.isoformat() if day else "",
        found=found,
        state_json=json.dumps(found.get("state"), ensure_ascii=False, indent=2)
        if found and found.get("state")
        else "",
    )


@router.get("/verify")
def verify_form(request: Request, who: Signed) -> HTMLResponse:
    """Chain verification: run it, see the result and the head digest."""
    require(who, Role.INSPECTOR)
    return render(request, "verify.html", who, report=None, digest=None)


@router.post("/verify")
async def verify(request: Request, who: Signed) -> HTMLResponse:
    """Recompute the whole hash chain from the stored events (as `disburse audit verify`)."""
    require(who, Role.INSPECTOR)
    check_csrf(request, who, await request.form())
    shared = state(request)
    signer = signer_for(shared.settings)
    pinned = shared.settings.audit_public_key or (signer.public_key if signer else None)
    report = verify_chain(shared.ledger.store.chained, pinned_public_key=pinned)
    digest = take_digest(shared.ledger.store.chained, signer)
    return render(request, "verify.html", who, report=report, digest=digest)


@router.get("/pack")
def pack_form(request: Request, who: Signed) -> HTMLResponse:
    """Choose what an evidence pack holds."""
    require(who, Role.INSPECTOR)
    return render(request, "pack.html", who)


@router.get("/pack/download")
def pack(
    request: Request,
    who: Signed,
    entity_id: Annotated[str, Query(max_length=36)] = "",
    region: Annotated[str, Query(pattern="^([0-9]{2,6})?$")] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
) -> Response:
    """The evidence pack (zip) of an entity or a region, as GET /v1/audit/export makes it."""
    require(who, Role.INSPECTOR)
    return export_evidence_pack(
        request,
        who.principal,
        entity_id=uuid_of(entity_id.strip(), "entity_id") if entity_id else None,
        actor_id=None,
        region=region or None,
        date_from=_day(date_from, "from"),
        date_to=_day(date_to, "to"),
    )


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        refuse(422, "REQUEST-SCHEMA", f"{field} is a date YYYY-MM-DD", field=field)
