"""The web console at /console/: pages for finance officers and inspectors.

Server-rendered (Jinja2) with htmx for small in-page updates, both served by this
process: no CDN, no front-end build. See docs/console.md.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import structlog
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from disburse.api.console import auth, bank_files, finance, inspection, search
from disburse.api.console.web import HERE, PREFIX, ConsoleHeaders, SignInRequiredError, render
from disburse.api.problems import ApiError, status_of
from disburse.domain.errors import DomainError
from disburse.readside.runner import ViewLagError

if TYPE_CHECKING:
    from collections.abc import Callable

    from fastapi import FastAPI, Request

    Handler = Callable[[Request, Exception], Any]

__all__ = ["ConsoleHeaders", "install"]
log = structlog.get_logger("disburse.console")


def _console(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(f"{PREFIX}/")


def _page(request: Request, error: Exception) -> Response:
    """A refusal or failure inside the console, as a page in the browser's language."""
    if isinstance(error, SignInRequiredError):
        to = error.first or f"{PREFIX}/login?next={quote(error.then)}"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": to})
        return RedirectResponse(to, status_code=303)
    status, rule_id, detail = 500, "INTERNAL", "an internal error occurred; quote the request id"
    if isinstance(error, ApiError):
        status, rule_id, detail = error.status_code, error.rule_id, error.detail
    elif isinstance(error, DomainError):
        status, rule_id, detail = status_of(error), error.rule_id, str(error)
    elif isinstance(error, RequestValidationError):
        first: dict[str, Any] = next(iter(error.errors()), {})
        where = ".".join(str(part) for part in first.get("loc", ()))
        status, rule_id = 422, "REQUEST-SCHEMA"
        detail = f"{where}: {first.get('msg', 'invalid')}"
    elif isinstance(error, StarletteHTTPException):
        status, rule_id, detail = error.status_code, "HTTP", str(error.detail)
    elif isinstance(error, ViewLagError):
        status, rule_id, detail = 503, "VIEW-LAG", str(error)
    else:
        log.error("unhandled_error", error_type=type(error).__name__, exc_info=error)
    problem = {"status": status, "rule_id": rule_id, "detail": detail}
    return render(request, "problem.html", status_code=status, problem=problem)


def install(app: FastAPI) -> None:
    """Serve the console: its routes, its static files, and its pages for refusals.

    Refusals under /console/ become pages; elsewhere the API's problem handlers answer
    as before (JSON problems).
    """
    for module in (auth, finance, bank_files, inspection, search):
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    kinds: list[type[Exception]] = [SignInRequiredError, Exception]
    for kind in app.exception_handlers:
        if (
            isinstance(kind, type)
            and issubclass(kind, Exception)
            and kind not in kinds
            and not issubclass(kind, WebSocketRequestValidationError)
        ):
            kinds.append(kind)
    for kind in kinds:
        original = app.exception_handlers.get(kind)

        async def handler(
            request: Request, error: Exception, original: Handler | None = original
        ) -> Response:
            if _console(request) or original is None:
                return _page(request, error)
            answer = original(request, error)
            found = await answer if inspect.isawaitable(answer) else answer
            return cast("Response", found)

        app.add_exception_handler(kind, handler)
