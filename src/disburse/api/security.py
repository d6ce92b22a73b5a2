"""Who is calling: API keys, roles and region scopes. Denials are problems, and logged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, NoReturn

import structlog
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from disburse.access.context import Context
from disburse.api.problems import ApiError
from disburse.domain.meta import Role
from disburse.domain.regions import region_scope, scope_of, within

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from disburse.api.state import ApiState

log = structlog.get_logger("disburse.api")
_ACTOR = re.compile(r"^[\w.@-]{1,64}$")
#: ``Authorization: Bearer <API key>``, the OpenAPI ``bearer`` scheme of every /v1 route.
#: Missing or malformed credentials are refused here, as problems (not FastAPI's 403).
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An API key, as printed once by `disburse clients create`.",
    auto_error=False,
)
#: Roles that see resident IDs unmasked: the clerks who register people and the
#: inspectors who check them. Everyone else sees them masked (``2202**********0018``).
SEES_RESIDENT_IDS = frozenset({Role.CLERK, Role.INSPECTOR})


@dataclass(frozen=True)
class Principal:
    """An authenticated client: its role, region scope, and the actor it speaks for."""

    client_id: str
    client_name: str
    role: Role
    region: str
    actor_id: str
    request_id: str
    gateway: bool = False

    def context(self) -> Context:
        """The command context: events record this actor, role, client, request, gateway."""
        return Context(
            actor_id=self.actor_id,
            role=self.role,
            client_id=self.client_id,
            request_id=self.request_id,
            gateway=self.gateway,
        )

    @property
    def sees_resident_ids(self) -> bool:
        """Whether responses may show this caller full resident IDs."""
        return self.role in SEES_RESIDENT_IDS

    def covers(self, region_code: str) -> bool:
        """Whether a region (or a region prefix) lies inside this caller's scope."""
        return within(region_code, self.region)

    def require_own(self, submitted_via: str, what: str) -> None:
        """Claimant systems read only what they submitted (403, CLAIMANT-OWN)."""
        if self.role is Role.CLAIMANT and submitted_via != self.client_id:
            deny(self, "CLAIMANT-OWN", f"a claimant key reads only its own submissions, not {what}")

    def scope(self, region: str | None) -> str:
        """The caller's region, or a narrower one inside it (a code or a prefix)."""
        if region is None:
            return self.region
        scope = region_scope(region)
        self.require_region(scope, "the region asked for")
        return scope

    def require_region(self, region_code: str, what: str) -> None:
        """Refuse (403, REGION-SCOPE) what lies outside the caller's region.

        The refusal names neither the region nor the resource: nothing about another
        region is said to a key outside it.
        """
        if not self.covers(region_code):
            deny_scope(self, what)

    def require_reach(self, region_code: str, what: str) -> None:
        """Refuse (403, REGION-SCOPE) a region neither inside the caller's nor covering it.

        A county key may use the fund of its city or province, not that of another county.
        """
        if not (self.covers(region_code) or within(self.region, scope_of(region_code))):
            deny_scope(self, what)

    def require_any_region(self, region_codes: Iterable[str], what: str) -> None:
        """Refuse (403, REGION-SCOPE) unless one of the regions lies inside the caller's."""
        if not any(self.covers(code) for code in region_codes):
            deny_scope(self, what)


def deny_scope(principal: Principal, what: str, field: str | None = None) -> NoReturn:
    """Refuse (403, REGION-SCOPE) naming only the caller's own region."""
    deny(
        principal,
        "REGION-SCOPE",
        f"{what} is outside this key's region {principal.region}",
        field=field,
    )


def deny(principal: Principal, rule_id: str, detail: str, field: str | None = None) -> NoReturn:
    """Log the denial with the actor, and refuse with 403."""
    log.warning(
        "access_denied",
        rule_id=rule_id,
        client=principal.client_name,
        actor=principal.actor_id,
        role=principal.role.value,
        request_id=principal.request_id,
        detail=detail,
    )
    raise ApiError(403, rule_id, detail, field=field)


def _state(request: Request) -> ApiState:
    state: ApiState = request.app.state.disburse
    return state


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    x_actor_id: Annotated[
        str | None,
        Header(
            description="Gateway keys only: the person at the client's end who acts "
            "(recorded as <client name>/<actor>); 1-64 letters, digits, '.', '_', '@' or '-'. "
            "Other keys sending it get 403 ACTOR-NOT-GATEWAY."
        ),
    ] = None,
) -> Principal:
    """The caller behind the bearer key; 401 without a valid, live key."""
    key = "" if credentials is None else credentials.credentials
    challenge = {"WWW-Authenticate": 'Bearer realm="disburse"'}
    if not key.strip():
        raise ApiError(
            401,
            "AUTH-REQUIRED",
            "send an API key: Authorization: Bearer <key>",
            field="header.Authorization",
            headers=challenge,
        )
    client = _state(request).ledger_clients.authenticate(key.strip())
    if client is None:
        log.warning(
            "authentication_failed",
            route=getattr(request.scope.get("route"), "path", "unmatched"),
            request_id=request.state.request_id,
        )
        raise ApiError(
            401,
            "AUTH-INVALID",
            "the API key is unknown or revoked",
            field="header.Authorization",
            headers=challenge,
        )
    if x_actor_id is not None and not _ACTOR.fullmatch(x_actor_id):
        raise ApiError(
            400,
            "ACTOR-ID",
            "X-Actor-Id is 1-64 letters, digits, '.', '_', '@' or '-'",
            field="header.X-Actor-Id",
        )
    actor = client.name if x_actor_id is None else f"{client.name}/{x_actor_id}"
    principal = Principal(
        client_id=str(client.id),
        client_name=client.name,
        role=client.role,
        region=client.region_code,
        actor_id=actor,
        request_id=request.state.request_id,
        gateway=client.gateway,
    )
    request.state.principal = principal
    if x_actor_id is not None and not client.gateway:
        deny(
            principal,
            "ACTOR-NOT-GATEWAY",
            "only a gateway key (`disburse clients create --gateway`) may name its user in "
            "X-Actor-Id; this key acts as itself",
            field="header.X-Actor-Id",
        )
    return principal


def require_role(principal: Principal, allowed: frozenset[Role]) -> None:
    """Refuse (403, ROLE-FORBIDDEN) a caller whose role is not one of ``allowed``.

    The API's keys and the console's users pass the same check.
    """
    if principal.role not in allowed:
        deny(
            principal,
            "ROLE-FORBIDDEN",
            f"a {principal.role.value} cannot do this; it takes "
            f"{' or '.join(sorted(r.value for r in allowed))}",
        )


def allow(*roles: Role) -> Callable[..., Principal]:
    """A dependency: an authenticated caller whose role is one of ``roles`` (else 403)."""
    allowed = frozenset(roles)

    def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        require_role(principal, allowed)
        return principal

    dependency.__doc__ = f"Allowed roles: {', '.join(sorted(r.value for r in allowed))}."
    return dependency
