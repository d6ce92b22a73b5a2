"""RFC 9457 problem details: every refusal names its rule and, where it can, the field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from fastapi import status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from disburse.api.responses import JSONResponse
from disburse.domain.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    OutOfScopeError,
    PreconditionFailedError,
)
from disburse.readside.runner import ViewLagError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fastapi import FastAPI, Request

MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("disburse.api")


class FieldProblem(BaseModel):
    """One offending field of a request that failed validation."""

    field: str = Field(description="Where: body.x.y, query.x, path.x or header.x.")
    rule_id: str = Field(description="The rule the value breaks (REQUEST-SCHEMA for shape).")
    detail: str = Field(description="What is wrong, in words.")


class Problem(BaseModel):
    """An RFC 9457 problem: type, title, status, detail, plus the rule and field."""

    type: str = Field(description="URI naming the problem: urn:disburse:problem:<rule id>.")
    title: str = Field(description="Short, stable summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, in words.")
    instance: str = Field(description="The request path.")
    rule_id: str = Field(description="The rule refused (see docs/policy.md and docs/api.md).")
    field: str | None = Field(
        default=None,
        description="The offending input, if one: a body field by name (resident_id), or "
        "body.<path>, query.<name>, path.<name>, header.<name> for malformed requests.",
    )
    request_id: str = Field(description="The request id (also in the X-Request-Id header).")
    errors: list[FieldProblem] = Field(
        default_factory=list, description="Every offending field, for validation problems."
    )


class ApiError(Exception):
    """A refusal made by the API itself (authentication, authorisation, headers)."""

    def __init__(
        self,
        status_code: int,
        rule_id: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.rule_id = rule_id
        self.detail = detail
        self.field = field
        self.headers = headers or {}


_TITLES = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Refused by a rule",
    428: "Precondition required",
    500: "Internal error",
    503: "Not ready",
}


def status_of(error: DomainError) -> int:
    """The HTTP status a refused command maps to."""
    if isinstance(error, NotFoundError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, ConflictError):
        return status.HTTP_409_CONFLICT
    if isinstance(error, PreconditionFailedError):
        return status.HTTP_412_PRECONDITION_FAILED
    if isinstance(error, OutOfScopeError):
        return status.HTTP_403_FORBIDDEN
    return 422


def problem_body(
    request: Request,
    status_code: int,
    rule_id: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[FieldProblem] | None = None,
) -> dict[str, Any]:
    """The JSON of a problem response."""
    return Problem(
        type=f"urn:disburse:problem:{rule_id}",
        title=_TITLES.get(status_code, "Request refused"),
        status=status_code,
        detail=detail,
        instance=request.url.path,
        rule_id=rule_id,
        field=field,
        request_id=getattr(request.state, "request_id", ""),
        errors=errors or [],
    ).model_dump()


def problem(
    request: Request,
    status_code: int,
    rule_id: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem response."""
    request.state.problem_rule = rule_id
    return JSONResponse(
        problem_body(request, status_code, rule_id, detail, field=field, errors=errors),
        status_code=status_code,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def domain_problem(request: Request, error: DomainError) -> JSONResponse:
    """A refused command as a problem response."""
    field = error.field
    if field and not field.startswith(("body.", "path.", "query.", "header.")):
        field = "header.If-Match" if field == "If-Match" else field
    return problem(request, status_of(error), error.rule_id, error.message, field=field)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def rule_of(item: Mapping[str, Any]) -> str:
    """The rule a validation error names (TEXT-INVALID for ledger text), else REQUEST-SCHEMA."""
    cause = (item.get("ctx") or {}).get("error")
    return str(getattr(cause, "rule_id", "REQUEST-SCHEMA"))


def validation_problem(request: Request, error: RequestValidationError) -> JSONResponse:
    """A request whose shape is wrong: 400 if unreadable JSON, else 422 naming each field.

    The offending values are not echoed (they may be personal data).
    """
    errors = [
        FieldProblem(
            field=_location(item.get("loc", ())),
            rule_id=rule_of(item),
            detail=str(item.get("msg", "invalid")),
        )
        for item in error.errors()
    ]
    unreadable = any(item.get("type") == "json_invalid" for item in error.errors())
    named = [e for e in errors if e.rule_id != "REQUEST-SCHEMA"]
    first = named[0] if named else (errors[0] if errors else None)
    return problem(
        request,
        status.HTTP_400_BAD_REQUEST if unreadable else 422,
        first.rule_id if first else "REQUEST-SCHEMA",
        "the request body is not valid JSON"
        if unreadable
        else f"{len(errors)} field(s) do not match the schema"
        + (f"; first: {first.field}: {first.detail}" if first else ""),
        field=first.field if first else None,
        errors=errors,
    )


#: Refusals by the HTTP layer itself. FastAPI answers a body it cannot decode (invalid
#: UTF-8, JSON nested too deep) with a bare 400: that is a schema problem too.
_HTTP_RULES = {
    400: "REQUEST-SCHEMA",
    404: "ROUTE-NOT-FOUND",
    405: "METHOD-NOT-ALLOWED",
    413: "BODY-TOO-LARGE",
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every refusal into a problem response."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return domain_problem(request, error)

    @app.exception_handler(InvalidInputError)
    async def _invalid(request: Request, error: InvalidInputError) -> JSONResponse:
        return domain_problem(request, error)

    @app.exception_handler(ApiError)
    async def _api(request: Request, error: ApiError) -> JSONResponse:
        return problem(
            request,
            error.status_code,
            error.rule_id,
            error.detail,
            field=error.field,
            headers=error.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_problem(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        rule = _HTTP_RULES.get(error.status_code, "HTTP")
        return problem(request, error.status_code, rule, str(error.detail), headers=error.headers)

    @app.exception_handler(ViewLagError)
    async def _lag(request: Request, error: ViewLagError) -> JSONResponse:
        return problem(request, 503, "VIEW-LAG", str(error), headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unhandled_error", error_type=type(error).__name__, exc_info=error)
        return problem(request, 500, "INTERNAL", "an internal error occurred; quote the request id")
