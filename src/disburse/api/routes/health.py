"""Liveness, readiness and metrics (no key needed: for load balancers and Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from disburse.api.deps import state
from disburse.api.metrics import CONTENT_TYPE
from disburse.api.responses import JSONResponse
from disburse.persistence.store import LedgerStore

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """The process is up."""

    status: str = Field(description="Always ok: the process answers.")


class ViewLag(BaseModel):
    """A view's position and lag."""

    name: str = Field(description="View name: audit, balances, queue, alerts or roster.")
    position: int = Field(description="Last position applied.")
    lag: int = Field(description="Events behind the log.")


class ViewStalled(BaseModel):
    """A view stopped before an event it cannot apply (the other views go on)."""

    name: str = Field(description="View name: audit, balances, queue, alerts or roster.")
    position: int = Field(description="Log position (notification id) of the event.")
    event_type: str = Field(description="The event's type, e.g. Person.Registered.")
    since: str = Field(description="When the view first stalled there (UTC).")


class Readiness(BaseModel):
    """Whether the service can answer: store reachable, views within the allowed lag."""

    status: str = Field(
        description="ready; degraded (ready, but a view is stalled: see stalled); or not_ready."
    )
    store: str = Field(description="ok, or why the store cannot be read.")
    head: int = Field(description="Position of the last event.")
    max_lag: int = Field(description="Allowed lag (DISBURSE_READY_MAX_LAG).")
    projector_error: str | None = Field(
        default=None, description="Why the views are not moving, while they are behind."
    )
    views: list[ViewLag] = Field(description="Each view's lag.")
    stalled: list[ViewStalled] = Field(
        default_factory=list,
        description="Views stopped on an event they cannot apply (disburse project status "
        "has the error; docs/operations.md the way out).",
    )


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (it does not touch the store)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Store unreachable or views behind."}},
)
def readyz(request: Request) -> JSONResponse:
    """Ready when the store answers and no view lags more than the allowed number of events.

    A view stalled on an event it cannot apply is named (position and event type) and
    makes the answer ``degraded``, still 200: the other views and every command go on.
    """
    shared = state(request)
    allowed = shared.settings.ready_max_lag
    try:
        statuses = shared.views.projector.status()
    except Exception as error:  # noqa: BLE001 - any failure to read means not ready
        body = Readiness(
            status="not_ready", store=type(error).__name__, head=0, max_lag=allowed, views=[]
        )
        return JSONResponse(body.model_dump(), status_code=503)
    lags = [ViewLag(name=s.name, position=s.position, lag=s.lag) for s in statuses]
    stalled = [
        ViewStalled(
            name=s.name,
            position=s.stall.position,
            event_type=s.stall.event_type,
            since=s.stall.since,
        )
        for s in statuses
        if s.stall is not None
    ]
    moving = [s for s in statuses if s.stall is None]
    failing = shared.views.projector.last_error
    stuck = failing is not None and any(s.lag for s in moving)
    ready = all(s.lag <= allowed for s in moving) and not stuck
    body = Readiness(
        status=("degraded" if stalled else "ready") if ready else "not_ready",
        store="ok",
        projector_error=failing if stuck else None,
        head=statuses[0].head if statuses else 0,
        max_lag=allowed,
        views=lags,
        stalled=stalled,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Requests, latencies, events written (all the server's processes), log head, view lag."""
    shared = state(request)
    try:
        statuses = shared.views.projector.status()
    except Exception:  # noqa: BLE001 - metrics still answer when the store does not
        statuses = []
    text = shared.metrics.render(
        events_written=LedgerStore.events_written,
        groups=(shared.ledger.store.groups.groups, shared.ledger.store.groups.requests),
        head=statuses[0].head if statuses else 0,
        lags={s.name: s.lag for s in statuses},
        stalled={s.name: int(s.stall is not None) for s in statuses},
    )
    return Response(text, media_type=CONTENT_TYPE)
