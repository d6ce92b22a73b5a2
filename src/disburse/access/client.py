"""API clients: the systems and bureau front-ends that hold keys, each with a role and region.

A key is shown once, when the client is created; the ledger keeps only its keyed hash.
Creating and revoking clients are events like any other, so client management is audited.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from disburse.domain.meta import Meta, Role
from disburse.domain.regions import check_region_scope

DIRECTORY_ID = uuid.UUID("4d6f1c8a-2b7e-4b8e-9a51-7c1e0f3d2a90")
#: Roles a key can carry (``system`` is the ledger's own and never given out).
CLIENT_ROLES = frozenset(Role) - {Role.SYSTEM}
MANAGERS = frozenset({Role.ADMIN, Role.SYSTEM})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Names no client may take: console users act as ``console/<username>``, vouched for like
#: a gateway's users, so a gateway of that name could speak for them.
RESERVED_NAMES = frozenset({"console"})


def check_client_name(name: str) -> str:
    """1-64 letters, digits, dots, dashes or underscores (it names the actor in the log).

    Checked when a client is created, not when its events are read back.
    """
    if name.casefold() in RESERVED_NAMES:
        raise InvalidInputError(
            "CLIENT-NAME", f"{name!r} is reserved (console users act under it)", "name"
        )
    if not _NAME.fullmatch(name):
        raise InvalidInputError(
            "CLIENT-NAME",
            "a client name is 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
            "name",
        )
    return name


def _require_manager(meta: Meta) -> None:
    if meta.role not in MANAGERS:
        raise RuleViolationError(
            "CLIENT-ADMIN", f"only an admin manages API clients, not {meta.role.value}", "role"
        )


class ApiClient(Aggregate):
    """One key holder: its name, role, region scope and the hash of its key.

    A gateway is an outside system that signs in its own users: only its ``X-Actor-Id``
    is taken as naming a distinct person. Clients created before gateways existed
    (their ``Created`` event has no flag) are not gateways.
    """

    class Created(Aggregate.Created):
        """A client was created. Version 2 records whether it is a gateway.

        Version 1 (stored before gateways existed) had no ``gateway``: it is read as
        ``False`` by :meth:`upcast_v1_v2`, so the stored event is never rewritten.
        """

        class_version = 2
        name: str
        role: Role
        region_code: str
        key_hash: str
        meta: Meta
        gateway: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A client created before gateways existed is not a gateway."""
            state["gateway"] = False

    @event(Created)
    def __init__(
        self,
        *,
        name: str,
        role: Role,
        region_code: str,
        key_hash: str,
        meta: Meta,
        gateway: bool = False,
    ) -> None:
        self.name = name
        self.role = Role(role)
        self.region_code = region_code
        self.key_hash = key_hash
        self.gateway = gateway is True
        self.created_by = meta.actor_id
        self.revoked = False

    @classmethod
    def create(
        cls,
        *,
        name: str,
        role: Role,
        region_code: str,
        key_hash: str,
        meta: Meta,
        gateway: bool = False,
    ) -> ApiClient:
        """A new client; only an admin (or the ledger itself) creates one."""
        _require_manager(meta)
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInputError(
                "CLIENT-ROLE", f"unknown role {role!r}: use {_roles()}", "role"
            ) from None
        if role not in CLIENT_ROLES:
            raise InvalidInputError("CLIENT-ROLE", f"a client's role is one of {_roles()}", "role")
        if region_code == "":
            raise InvalidInputError(
                "REGION-CODE", "a client is scoped to a 2-, 4- or 6-digit region", "region"
            )
        check_region_scope(region_code, "region")
        return cls(
            name=check_client_name(name),
            role=role,
            region_code=region_code,
            key_hash=key_hash,
            meta=meta,
            gateway=gateway,
        )

    def revoke(self, *, meta: Meta) -> None:
        """The key stops working at once; the client stays in the record."""
        _require_manager(meta)
        if self.revoked:
            raise ConflictError("CLIENT-REVOKED", f"client {self.name} is already revoked")
        if not (meta.reason or "").strip():
            raise InvalidInputError("CLIENT-REASON", "say why the client is revoked", "reason")
        self._revoked(meta=meta)

    @event("Revoked")
    def _revoked(self, *, meta: Meta) -> None:
        self.revoked = True


class ClientDirectory(Aggregate):
    """The list of clients (ids and names), so they can be listed and names stay unique."""

    @staticmethod
    def create_id() -> UUID:
        """There is one directory."""
        return DIRECTORY_ID

    @event("Opened")
    def __init__(self, *, meta: Meta) -> None:
        self.clients: dict[str, str] = {}

    def add(self, *, client_id: UUID, name: str, meta: Meta) -> None:
        """List a new client; names are unique."""
        if name in self.clients.values():
            raise ConflictError("CLIENT-NAME", f"a client named {name} exists", "name")
        self._added(client_id=client_id, name=name, meta=meta)

    @event("Added")
    def _added(self, *, client_id: UUID, name: str, meta: Meta) -> None:
        self.clients[str(client_id)] = name


def _roles() -> str:
    return ", ".join(sorted(r.value for r in CLIENT_ROLES))
