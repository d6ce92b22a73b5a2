"""Who is calling: API keys, roles and region scopes. Denials are problems, and logged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import structlog
from fastapi import Depends, Header, Request

from disburse.api.problems import ApiError
from disburse.application.context import Context
from disburse.domain.meta import Role
from disburse.domain.regions import region_scope, within

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.api.state import ApiState

log = structlog.get_logger("disburse.api")
_ACTOR = re.compile(r"^[\w.@-]{1,64}$")
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

    def context(self) -> Context:
        """The command context: events record this actor, role, client and request."""
        return Context(
            actor_id=self.actor_id,
            role=self.role,
            client_id=self.client_id,
            request_id=self.request_id,
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
        """Refuse (403, REGION-SCOPE) what lies outside the caller's region."""
        if not self.covers(region_code):
            deny(
                self,
                "REGION-SCOPE",
                f"{what} is in region {region_code}, outside this key's region {self.region}",
            )


def deny(principal: Principal, rule_id: str, detail: str, field: str | None = None) -> None:
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
    authorization: Annotated[
        str | None,
        Header(description="Bearer <API key>, as printed by `disburse clients create`."),
    ] = None,
    x_actor_id: Annotated[
        str | None,
        Header(
            description="The person at the client's end who acts (recorded as "
            "<client name>/<actor>); 1-64 letters, digits, '.', '_', '@' or '-'."
        ),
    ] = None,
) -> Principal:
    """The caller behind the bearer key; 401 without a valid, live key."""
    scheme, _, key = (authorization or "").partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="disburse"'}
    if scheme.lower() != "bearer" or not key.strip():
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
    )
    request.state.principal = principal
    return principal


def allow(*roles: Role) -> Callable[..., Principal]:
    """A dependency: an authenticated caller whose role is one of ``roles`` (else 403)."""
    allowed = frozenset(roles)

    def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in allowed:
            deny(
                principal,
                "ROLE-FORBIDDEN",
                f"a {principal.role.value} key cannot do this; it takes "
                f"{' or '.join(sorted(r.value for r in allowed))}",
            )
        return principal

    dependency.__doc__ = f"Allowed roles: {', '.join(sorted(r.value for r in allowed))}."
    return dependency
