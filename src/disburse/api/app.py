"""The HTTP API: a thin FastAPI layer over the ledger's services and the views."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from disburse import __version__
from disburse.api import console, problems
from disburse.api.middleware import BodyLimit, RequestLog
from disburse.api.responses import JSONResponse
from disburse.api.routes import (
    approvals,
    balances,
    bank_files,
    batches,
    claims,
    evidence,
    funds,
    health,
    notices,
    oversight,
    payouts,
    policy,
    posts,
    registry,
    runs,
    search,
)
from disburse.api.routes import bulk as bulk_routes
from disburse.api.state import ApiState
from disburse.audit.digest import signer_for
from disburse.audit.publisher import DigestPublisher
from disburse.bootstrap import System
from disburse.readside.worker import BackgroundProjector

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable


DESCRIPTION = """\
Commands and queries of the disburse ledger for finance bureaus, discipline
inspectors and claimant systems. Authenticate with `Authorization: Bearer <key>`
(keys come from `disburse clients create`). Every refusal is an RFC 9457
`application/problem+json` naming its `rule_id` and `field`. See docs/api.md.
"""


def create_app(
    system: System,
    *,
    projector: bool | None = None,
    digests: bool = True,
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    """The ASGI app over an open system (``bootstrap.open_system``): ledger, views, clients.

    With ``projector`` (default: ``settings.projector == "embedded"``) the views are kept
    current by a thread of this process; otherwise by ``disburse project run`` workers or
    by the process supervising ``disburse serve --workers N``, which also publishes the
    digests (``digests=False`` here). The app's lifespan starts and stops those threads,
    then calls ``on_shutdown``; the system is closed by whoever opened it.
    """
    ledger, views, settings = system.ledger, system.views, system.settings
    shared = ApiState(
        ledger=ledger,
        views=views,
        ledger_clients=system.clients,
        users=system.users,
        settings=settings,
    )
    embedded = settings.projector == "embedded" if projector is None else projector
    background = BackgroundProjector(views.projector) if embedded else None
    publisher = digest_publisher(system) if digests else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background is not None:
            background.start()
        if publisher is not None:
            publisher.start()
        try:
            yield
        finally:
            if publisher is not None:
                publisher.stop()
            if background is not None:
                background.stop()
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="disburse",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONResponse,
        generate_unique_id_function=operation_id,
    )
    app.state.disburse = shared
    problems.install(app)
    for module in (
        registry,
        funds,
        posts,
        claims,
        approvals,
        payouts,
        batches,
        notices,
        bank_files,
        oversight,
        balances,
        evidence,
        policy,
        search,
        bulk_routes,
        runs,
        health,
    ):
        app.include_router(module.router)
    console.install(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        max_bulk_bytes=settings.max_bulk_body_bytes,
    )
    # Outside the body limit, so that its refusals under /console/ carry the headers too.
    app.add_middleware(console.ConsoleHeaders)
    app.add_middleware(RequestLog, metrics=shared.metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def digest_publisher(system: System) -> DigestPublisher:
    """The digest publisher of the system's store, as the settings configure it."""
    settings = system.settings
    return DigestPublisher(
        system.ledger.store.chained,
        signer_for(settings),
        every_events=settings.digest_every_events,
        every_minutes=settings.digest_every_minutes,
    )


#: Descriptions of the path parameters, by name (the same name means the same thing).
PATH_PARAMETERS = {
    "person_id": "The person's id (from POST /v1/people).",
    "organisation_id": "The organisation's id (from POST /v1/organisations).",
    "fund_id": "The fund's id (from POST /v1/funds).",
    "site_id": "The site's id (from POST /v1/sites).",
    "post_id": "The post's id (from POST /v1/posts).",
    "grant_id": "The transport grant's id (from POST /v1/transport-grants).",
    "application_id": "The application's id (from POST /v1/applications).",
    "payout_id": "The payout's id (from the claim, the attendance or the queue).",
    "objection_id": "The objection's id (from POST /v1/payouts/{payout_id}/objections).",
    "batch_id": "The payment batch's id (from POST /v1/payment-batches).",
    "notice_id": "The public notice's id (from POST /v1/notices).",
    "alert_id": "The alert's id (from GET /v1/alerts).",
    "code": "A 6-digit region code (220200: the city) or a 2/4/6-digit prefix.",
    "entity_id": "Any entity's id: person, post, fund, payout, batch, grant, application...",
    "actor_id": "An actor as recorded in events: a client name, or <client>/<X-Actor-Id>.",
}


def operation_id(route: APIRoute) -> str:
    """The route function's name in camelCase: ``approve_payout`` is ``approvePayout``."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


#: What each create operation makes, by the path parameter that names it afterwards.
CREATES = {
    "/v1/people": "person_id",
    "/v1/organisations": "organisation_id",
    "/v1/funds": "fund_id",
    "/v1/sites": "site_id",
    "/v1/posts": "post_id",
    "/v1/transport-grants": "grant_id",
    "/v1/applications": "application_id",
    "/v1/payment-batches": "batch_id",
}


def _links(paths: dict[str, Any]) -> None:
    """OpenAPI links from each create operation to every operation on what it created.

    A client (or a stateful fuzzer) follows them: the id in the 201 body fills the path
    parameter of the reads and commands on that resource.
    """
    for created_at, parameter in CREATES.items():
        post = paths.get(created_at, {}).get("post")
        if post is None:
            continue
        links = {}
        for path, operations in paths.items():
            if set(re.findall(r"{(\w+)}", path)) != {parameter}:
                continue
            for operation in operations.values():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {parameter: "$response.body#/id"},
                    "description": f"The {parameter} of the resource just created.",
                }
        post["responses"]["201"]["links"] = dict(sorted(links.items()))


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with problem responses under ``application/problem+json`` only."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if not path.startswith("/v1/"):
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    parameter.setdefault("description", PATH_PARAMETERS[parameter["name"]])
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if "application/problem+json" in content:
                    json_schema = content.pop("application/json", {}).get("schema")
                    if json_schema is not None:
                        content["application/problem+json"] = {"schema": json_schema}
    _links(schema.get("paths", {}))
    app.openapi_schema = schema
    return schema
