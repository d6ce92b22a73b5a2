"""Shared pieces of the routes: the state, roles, documented problem responses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel

from disburse.api.problems import ApiError, Problem
from disburse.api.responses import JSONResponse
from disburse.api.security import Principal, allow
from disburse.domain.meta import Role

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.api.state import ApiState

F = TypeVar("F", bound="Callable[..., Any]")

CLERK, FINANCE, INSPECTOR, CLAIMANT, ADMIN = (
    Role.CLERK,
    Role.FINANCE,
    Role.INSPECTOR,
    Role.CLAIMANT,
    Role.ADMIN,
)
#: Who may read entity resources (claimants read only their own submissions).
READERS = (CLERK, FINANCE, INSPECTOR)

Clerk = Annotated[Principal, Depends(allow(CLERK))]
Finance = Annotated[Principal, Depends(allow(FINANCE))]
Inspector = Annotated[Principal, Depends(allow(INSPECTOR))]
Admin = Annotated[Principal, Depends(allow(ADMIN))]
Submitter = Annotated[Principal, Depends(allow(CLERK, CLAIMANT))]
Reader = Annotated[Principal, Depends(allow(*READERS))]
ReaderOrClaimant = Annotated[Principal, Depends(allow(*READERS, CLAIMANT))]
Overseer = Annotated[Principal, Depends(allow(FINANCE, INSPECTOR))]
Anyone = Annotated[Principal, Depends(allow(*READERS, CLAIMANT, ADMIN))]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Makes a retry safe: the same key and body return the first response "
        "and write nothing; the same key with another body is refused (422).",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The ETag (version) you last read, e.g. "3": the command is refused '
        "with 412 if the resource has changed since.",
    ),
]
#: Log positions are 64-bit integers in both stores.
MAX_POSITION = 2**63 - 1
MinPosition = Annotated[
    int | None,
    Header(
        alias="X-Min-Position",
        ge=0,
        le=MAX_POSITION,
        description="Read-your-writes: wait until the views include this log position "
        "(the X-Ledger-Position of your command's response).",
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size (1-1000).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip.")]


def state(request: Request) -> ApiState:
    """The process's shared state."""
    found: ApiState = request.app.state.disburse
    return found


def wait_for_head(request: Request, *views: str) -> None:
    """Block until the named views include every event recorded so far (503 VIEW-LAG if not)."""
    shared = state(request)
    head = shared.ledger.store.recorder.max_notification_id() or 0
    shared.views.wait_for(head, timeout=shared.settings.read_wait_seconds, names=views)


def wait_for_views(request: Request, position: int | None, *views: str) -> None:
    """Block until the named views include ``position`` (503 VIEW-LAG if not in time).

    A route names the views it reads: a view stalled on an event holds up only those.
    """
    if position:
        shared = state(request)
        head = shared.ledger.store.recorder.max_notification_id() or 0
        if position > head:
            raise ApiError(
                422,
                "MIN-POSITION",
                f"position {position} is beyond the end of the log ({head})",
                field="header.X-Min-Position",
            )
        shared.views.wait_for(position, timeout=shared.settings.read_wait_seconds, names=views)


def _problem(description: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {"application/problem+json": {}},
    }


PROBLEM_DESCRIPTIONS = {
    400: "Malformed request: unreadable JSON or a malformed header (rule names which).",
    401: "No API key, or an unknown or revoked one (AUTH-REQUIRED, AUTH-INVALID).",
    403: "The key's role may not do this (ROLE-FORBIDDEN), the resource is outside "
    "its region (REGION-SCOPE), or a claimant key asks for what it did not submit "
    "(CLAIMANT-OWN).",
    404: "No such resource (rule <WHAT>-NOT-FOUND).",
    409: "Conflicts with the current state: a duplicate, a step already taken, or a "
    "concurrent change (CONCURRENT-CHANGE).",
    412: "If-Match names a version that is no longer current (IF-MATCH).",
    422: "A field breaks a rule (rule ID and field given), or the Idempotency-Key was "
    "used for another request (IDEMPOTENCY-KEY-REUSED).",
    503: "The views have not caught up with X-Min-Position in time (VIEW-LAG).",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route can give."""
    every = (400, 401, 403, 422, *codes)
    return {code: _problem(PROBLEM_DESCRIPTIONS[code]) for code in sorted(set(every))}


COMMAND = problems(404, 409, 412)
#: Commands that create (or submit) rather than act on one existing resource: no If-Match.
CREATE = problems(404, 409)
QUERY = problems(404, 503)
#: Reads of one resource from its events: always current, never waits.
ENTITY = problems(404)


def command_headers(idempotency_key: IdempotencyKey = None, if_match: IfMatch = None) -> None:
    """Documents the headers every command takes (read by :func:`run_command`)."""


def create_headers(idempotency_key: IdempotencyKey = None) -> None:
    """Documents the header of commands that create (read by :func:`run_command`)."""


def query_headers(min_position: MinPosition = None) -> None:
    """Documents the read-your-writes header of view queries (read by the route)."""


COMMAND_DEPS = [Depends(command_headers)]
CREATE_DEPS = [Depends(create_headers)]


def command(
    router: APIRouter, path: str, model: type[BaseModel], *, status_code: int = 200
) -> Callable[[F], F]:
    """A POST acting on one existing resource: its problems, Idempotency-Key and If-Match."""
    return router.post(
        path,
        status_code=status_code,
        response_model=model,
        responses=COMMAND,
        dependencies=COMMAND_DEPS,
    )


def creation(
    router: APIRouter,
    path: str,
    model: type[BaseModel],
    *,
    status_code: int = 201,
    again: str | None = None,
    tags: list[str] | None = None,
) -> Callable[[F], F]:
    """A POST that creates or submits: its problems and Idempotency-Key (no If-Match).

    ``again`` describes the 200 answer given when the same thing was submitted before.
    """
    responses: dict[int | str, dict[str, Any]] = (
        {200: {"model": model, "description": again}} if again else {}
    )
    return router.post(
        path,
        status_code=status_code,
        tags=list(tags or []),
        response_model=model,
        responses={**(responses or {}), **CREATE},
        dependencies=CREATE_DEPS,
    )


def entity_response(body: BaseModel, version: int) -> JSONResponse:
    """One resource read from its events, with its version as the ETag."""
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": f'"{version}"'})
