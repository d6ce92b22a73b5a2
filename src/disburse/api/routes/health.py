"""Liveness, readiness and metrics (no key needed: for load balancers and Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from disburse.api.deps import state
from disburse.application.store import LedgerStore

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """The process is up."""

    status: str = Field(description="ok")


class ViewLag(BaseModel):
    """A view's position and lag."""

    name: str = Field(description="View.")
    position: int = Field(description="Last position applied.")
    lag: int = Field(description="Events behind the log.")


class Readiness(BaseModel):
    """Whether the service can answer: store reachable, views within the allowed lag."""

    status: str = Field(description="ready or not_ready.")
    store: str = Field(description="ok, or why the store cannot be read.")
    head: int = Field(description="Position of the last event.")
    max_lag: int = Field(description="Allowed lag (DISBURSE_READY_MAX_LAG).")
    projector_error: str | None = Field(
        default=None, description="Why the views are not moving, while they are behind."
    )
    views: list[ViewLag] = Field(description="Each view's lag.")


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
    """Ready when the store answers and no view lags more than the allowed number of events."""
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
    failing = shared.views.projector.last_error
    stuck = failing is not None and any(v.lag for v in lags)
    ready = all(v.lag <= allowed for v in lags) and not stuck
    body = Readiness(
        status="ready" if ready else "not_ready",
        store="ok",
        projector_error=failing if stuck else None,
        head=statuses[0].head if statuses else 0,
        max_lag=allowed,
        views=lags,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> PlainTextResponse:
    """Requests, latencies, events written, log head and projection lag (Prometheus text)."""
    shared = state(request)
    try:
        statuses = shared.views.projector.status()
    except Exception:  # noqa: BLE001 - metrics still answer when the store does not
        statuses = []
    text = shared.metrics.render(
        events_written=LedgerStore.events_written,
        head=statuses[0].head if statuses else 0,
        lags={s.name: s.lag for s in statuses},
    )
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
