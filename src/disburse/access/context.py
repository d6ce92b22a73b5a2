"""Who is asking: the actor behind a command, and the request it came with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from disburse.domain.meta import Meta, Role


@dataclass(frozen=True, kw_only=True)
class Context:
    """The identified actor of a command: person or system, role, client, request."""

    actor_id: str
    role: Role
    client_id: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: The actor id was vouched for by a gateway key (see ``Meta.gateway``).
    gateway: bool = False

    def meta(self, reason: str | None = None) -> Meta:
        """Event metadata for this actor and request."""
        return Meta(
            actor_id=self.actor_id,
            role=self.role,
            client_id=self.client_id,
            request_id=self.request_id,
            reason=reason,
            gateway=self.gateway,
        )


def system_context(purpose: str) -> Context:
    """The ledger itself acting (e.g. ``disburse init`` publishing the default catalogue)."""
    return Context(actor_id="system", role=Role.SYSTEM, client_id=f"disburse:{purpose}")
