"""Per request: an id (accepted from X-Request-Id or made), a log line, metrics, a body limit."""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import HTTPException
from starlette.requests import Request

from disburse.api.problems import problem

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from disburse.api.metrics import Metrics

log = structlog.get_logger("disburse.api")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestLog:
    """Gives each request an id, returns it in ``X-Request-Id``, logs and counts the request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.fullmatch(given) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or _documentation(scope["path"])
            state: dict[str, Any] = scope.get("state", {})
            principal = state.get("principal")
            self.metrics.observe(scope["method"], template, status, elapsed)
            log.info(
                "request",
                request_id=request_id,
                method=scope["method"],
                route=template,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client=getattr(principal, "client_name", None),
                actor=getattr(principal, "actor_id", None),
                rule_id=state.get("problem_rule"),
                replayed=state.get("replayed", False),
                pid=os.getpid(),
            )


def _documentation(path: str) -> str:
    """The documentation routes by name; anything else unmatched (no unbounded labels)."""
    return path if path in {"/openapi.json", "/docs", "/redoc"} else "unmatched"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


BULK_PREFIX = "/v1/bulk/"
#: Routes that take files whole, with the bulk limit too: bank return files (the API's
#: ``/results-file`` and the console's upload, up to 20,000 lines).
FILE_ROUTES = re.compile(
    r"^(/v1/payment-batches/[^/]+/results-file|/console/batches/[^/]+/results)$"
)


class BodyLimit:
    """Refuses a request body over the limit with 413 BODY-TOO-LARGE, without reading it.

    A declared ``Content-Length`` over the limit is answered at once; a body sent without
    one (chunked) is counted as it arrives and refused when it passes the limit. The bulk
    routes and the bank return file uploads have their own, larger limit (their maximum
    must fit).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_bulk_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_bulk_bytes = max_bulk_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        bulk = path.startswith(BULK_PREFIX) or FILE_ROUTES.match(path) is not None
        limit = self.max_bulk_bytes if bulk else self.max_bytes
        detail = f"the request body is larger than {limit} bytes"
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            response = problem(Request(scope), 413, "BODY-TOO-LARGE", detail, field="body")
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)
