"""What inspectors read: alerts and their decisions, the audit trail and the event feed."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from disburse.api import pages
from disburse.api.commands import run_command
from disburse.api.deps import (
    ENTITY,
    MAX_POSITION,
    QUERY,
    Inspector,
    Limit,
    MinPosition,
    Overseer,
    Reader,
    creation,
    state,
    wait_for_views,
)
from disburse.api.responses import JSONResponse
from disburse.api.schemas import Input
from disburse.application.alert_desk import Alerts
from disburse.domain.alert import AlertOutcome
from disburse.domain.text import Code, Reason
from disburse.readside.alerts.queries import STATES, Alert
from disburse.readside.db import Row

router = APIRouter()


class AlertOut(BaseModel):
    """An anti-fraud alert raised from the log."""

    alert_id: UUID = Field(description="Alert id (stable across view rebuilds).")
    rule_id: str = Field(description="The FRAUD-* rule (docs/policy.md).")
    subject_type: str = Field(description="What it is about (payout, person, household...).")
    subject_id: str = Field(
        description="Id of the payout, person, post or grant; for an account, 16 hex digits of "
        "its keyed hash."
    )
    person_id: str | None = Field(description="The person concerned, if one.")
    region_code: str = Field(description="Region that raised it.")
    regions: list[str] = Field(
        description="Every region it concerns (where it was raised, the person's home "
        "region, each claim's region): the inspectors of each list, read and resolve it."
    )
    summary: str = Field(description="What was found, in words.")
    evidence: list[int] = Field(description="Log positions of the events it rests on.")
    raised_at: str = Field(description="When raised (UTC, ISO 8601).")
    generation: int = Field(description="Above 1: raised again after a dismissal.")
    state: str = Field(description="open, confirmed or dismissed.")
    resolved_by: str | None = Field(description="Inspector who resolved it.")
    resolution: str | None = Field(description="The reason given.")
    resolved_at: str | None = Field(
        description="When the decision was recorded (UTC, ISO 8601); null while open."
    )


class AlertPage(BaseModel):
    """Alerts, oldest first."""

    items: list[AlertOut] = Field(description="Alerts of this page, oldest first.")
    next_after: UUID | None = Field(
        default=None,
        description="Pass as `after` for the next page (keyset paging); null on the last page.",
    )


class ResolveIn(Input):
    """An inspector's decision on an alert."""

    outcome: AlertOutcome = Field(description="confirmed or dismissed.")
    reason: Reason = Field(description="Why (1-2000 characters; ALERT-REASON).")


class Resolved(BaseModel):
    """The decision was recorded."""

    alert_id: UUID = Field(description="The alert resolved (the path's alert_id).")
    outcome: AlertOutcome = Field(
        description="confirmed or dismissed, as recorded (ALERT-RESOLVED: once)."
    )


class EntryOut(BaseModel):
    """One event as an inspector sees it: personal data removed from the payload."""

    position: int = Field(description="Position in the log.")
    entity_id: str = Field(description="The aggregate that recorded it.")
    entity_type: str = Field(description="Aggregate type of the entity (Person, Fund, Payout...).")
    version: int = Field(description="Its version after the event.")
    event_type: str = Field(description="Event type as Aggregate.Event (e.g. Payout.Requested).")
    recorded_at: str = Field(description="When (UTC, ISO 8601).")
    actor_id: str = Field(
        description="Actor who recorded it: the API client's name, <client>/<X-Actor-Id>, or "
        "cli:<OS user> for the operator."
    )
    role: str = Field(description="In which role.")
    client_id: str = Field(description="Through which API client.")
    request_id: str = Field(description="The request that caused it.")
    reason: str | None = Field(description="Why, as given.")
    rule_ids: list[str] = Field(
        description="Rule IDs the event cites (e.g. POST-TERM; docs/policy.md)."
    )
    policy_version: str | None = Field(description="Catalogue version applied.")
    region_code: str = Field(description="Region of the entity ('' if none).")
    payload: dict[str, Any] = Field(description="The event's data, personal data masked.")
    via: str | None = Field(default=None, description="Why it is in this entity's trail.")


class EntryPage(BaseModel):
    """A page of events in log order; pass ``next_after`` as ``after`` for the next one."""

    items: list[EntryOut] = Field(description="Events of this page, in log order.")
    next_after: int = Field(description="Position to continue after.")
    head: int = Field(description="Position of the last event in the log.")


def _alert(alert: Alert) -> dict[str, Any]:
    """An alert as AlertOut documents it, as plain data (a page is read often)."""
    return {
        "alert_id": str(alert.alert_id),
        "rule_id": alert.rule_id,
        "subject_type": alert.subject_type,
        "subject_id": alert.subject_id,
        "person_id": alert.person_id,
        "region_code": alert.region_code,
        "regions": list(alert.regions),
        "summary": alert.summary,
        "evidence": list(alert.evidence),
        "raised_at": alert.raised_at,
        "generation": alert.generation,
        "state": alert.state,
        "resolved_by": alert.resolved_by,
        "resolution": alert.resolution,
        "resolved_at": alert.resolved_at,
    }


def _entry(row: Row) -> str:
    """An entry as EntryOut documents it, as JSON text, its stored JSON spliced in."""
    return pages.item(
        {
            "position": int(row["position"]),
            "entity_id": row["entity_id"],
            "entity_type": row["entity_type"],
            "version": int(row["version"]),
            "event_type": row["event_type"],
            "recorded_at": pages.stored_time(row["recorded_at"]),
            "actor_id": row["actor_id"],
            "role": row["role"],
            "client_id": row["client_id"],
            "request_id": row["request_id"],
            "reason": row["reason"],
            "policy_version": row["policy_version"],
            "region_code": row["region_code"],
            "via": row.get("via"),
        },
        rule_ids=row["rule_ids"],
        payload=row["payload"],
    )


@router.get("/v1/alerts", response_model=AlertPage, responses=QUERY, tags=["alerts"])
def list_alerts(
    request: Request,
    who: Overseer,
    rule: Annotated[Code | None, Query(description="A FRAUD-* rule id.")] = None,
    status: Annotated[
        str | None,
        Query(description="open, confirmed or dismissed.", pattern="^(open|confirmed|dismissed)$"),
    ] = None,
    region: Annotated[Code | None, Query(description="Region prefix inside the key's.")] = None,
    limit: Limit = 100,
    offset: Annotated[
        int,
        Query(ge=0, le=1_000_000, description="Rows to skip (prefer `after`: keyset paging)."),
    ] = 0,
    after: Annotated[
        UUID | None,
        Query(
            description="Keyset paging: the `next_after` of the page before (same filters). "
            "Costs the same on any page, unlike `offset`."
        ),
    ] = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    """Alerts raised by the FRAUD-* rules, oldest first."""
    scope = who.scope(region)
    wait_for_views(request, min_position, "alerts")
    assert status is None or status in STATES  # noqa: S101 - the pattern guarantees it
    found = state(request).views.alerts.find(
        rule=rule, state=status, region=scope, limit=limit, offset=offset, after=after
    )
    last = str(found[-1].alert_id) if len(found) == limit else None
    return JSONResponse({"items": [_alert(a) for a in found], "next_after": last})


@creation(router, "/v1/alerts/{alert_id}/resolve", Resolved, status_code=200, tags=["alerts"])
def resolve_alert(
    alert_id: UUID, body: ResolveIn, request: Request, who: Inspector
) -> JSONResponse:
    """Confirm or dismiss an alert, with a reason (ALERT-RESOLVED: once)."""
    views = state(request).views
    alert = views.alerts.get(alert_id)
    if alert is not None:
        who.require_any_region(alert.regions, "the alert")
    return run_command(
        request,
        who,
        lambda: Alerts(state(request).ledger.store, views.alerts).resolve(
            who.context(), alert_id, outcome=body.outcome, reason=body.reason
        ),
        lambda _: Resolved(alert_id=alert_id, outcome=body.outcome),
        payload=body,
    )


def _page(request: Request, rows: list[Row], after: int) -> Response:
    head = state(request).ledger.store.recorder.max_notification_id() or 0
    last = int(rows[-1]["position"]) if rows else after
    return pages.page([_entry(row) for row in rows], after={"next_after": last, "head": head})


After = Annotated[int, Query(ge=0, le=MAX_POSITION, description="Entries after this log position.")]


@router.get(
    "/v1/audit/trail/{entity_id}", response_model=EntryPage, responses=QUERY, tags=["audit"]
)
def entity_trail(
    entity_id: UUID,
    request: Request,
    who: Inspector,
    after: After = 0,
    limit: Limit = 200,
    min_position: MinPosition = None,
) -> Response:
    """Every event of an entity, and events of others that name it, in log order."""
    views = state(request).views
    region = views.audit.region_of(str(entity_id))
    if region:
        who.require_region(region, "the entity")
    wait_for_views(request, min_position, "audit")
    rows = views.audit.trail_rows(entity_id, after_position=after, limit=limit, scope=who.region)
    return _page(request, rows, after)


@router.get(
    "/v1/audit/actors/{actor_id:path}",
    response_model=EntryPage,
    responses=QUERY,
    tags=["audit"],
)
def actor_trail(
    actor_id: Annotated[str, Field(min_length=1, max_length=200)],
    request: Request,
    who: Inspector,
    after: After = 0,
    limit: Limit = 200,
    min_position: MinPosition = None,
) -> Response:
    """Everything one actor recorded, in log order (within the key's region)."""
    wait_for_views(request, min_position, "audit")
    rows = state(request).views.audit.actor_rows(
        actor_id, after_position=after, limit=limit, scope=who.region
    )
    return _page(request, rows, after)


@router.get("/v1/events", response_model=EntryPage, responses=ENTITY, tags=["events"])
def event_feed(
    request: Request,
    who: Reader,
    after: After = 0,
    limit: Limit = 500,
) -> Response:
    """The event feed: the log in order, personal data masked, within the key's region.

    Follow it by passing the last ``next_after`` as ``after``. Served from the audit
    view, so it trails the log by the view's lag (see /readyz).
    """
    rows = state(request).views.audit.feed_rows(after_position=after, limit=limit, scope=who.region)
    return _page(request, rows, after)
