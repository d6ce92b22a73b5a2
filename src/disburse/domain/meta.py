"""Who, why and under which rule: the metadata every event carries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from disburse.domain.errors import RuleViolationError


class Role(StrEnum):
    """Roles of actors. The API maps API keys to these; the domain checks some of them."""

    CLERK = "clerk"
    FINANCE = "finance"
    INSPECTOR = "inspector"
    CLAIMANT = "claimant"
    ADMIN = "admin"
    SYSTEM = "system"


FINANCE_RULE = "PAYOUT-ROLE"


@dataclass(frozen=True, kw_only=True)
class Meta:
    """Who did it (actor, role, client), why (reason, rules, policy version), which request."""

    actor_id: str
    role: Role
    client_id: str
    request_id: str
    reason: str | None = None
    rule_ids: tuple[str, ...] = field(default_factory=tuple)
    policy_version: str | None = None
    #: Whether a gateway key (an outside system that signs in its own users) vouched for
    #: the part of ``actor_id`` after the client name (its ``X-Actor-Id``).
    gateway: bool = False

    @property
    def principal(self) -> str:
        """Who the ledger holds responsible, for separation of duties.

        A gateway's actor id as a whole (``portal/zhang.wei``); otherwise the authenticated
        part only: the client name before any ``/`` (an ``X-Actor-Id`` a non-gateway key
        sent, in events stored before gateways existed, is not the ledger's to trust).
        """
        return self.actor_id if self.gateway else self.actor_id.partition("/")[0]

    def because(
        self,
        *rule_ids: str,
        policy_version: str | None = None,
        reason: str | None = None,
    ) -> Meta:
        """The same actor and request, citing the rules (and catalogue version) applied."""
        return replace(
            self,
            rule_ids=tuple(dict.fromkeys((*self.rule_ids, *rule_ids))),
            policy_version=policy_version or self.policy_version,
            reason=reason or self.reason,
        )

    def require_finance(self, action: str) -> None:
        """Moving money is the finance bureau's act; raise ``RuleViolationError`` otherwise."""
        if self.role is not Role.FINANCE:
            raise RuleViolationError(
                FINANCE_RULE, f"only finance may {action}, not {self.role.value}", "role"
            )

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form, as stored in events."""
        return {
            "actor_id": self.actor_id,
            "role": self.role.value,
            "client_id": self.client_id,
            "request_id": self.request_id,
            "reason": self.reason,
            "rule_ids": list(self.rule_ids),
            "policy_version": self.policy_version,
            "gateway": self.gateway,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Meta:
        """Inverse of :meth:`as_dict`."""
        reason = data.get("reason")
        version = data.get("policy_version")
        rule_ids = data.get("rule_ids") or []
        if not isinstance(rule_ids, list):  # pragma: no cover - stored by as_dict
            raise TypeError("rule_ids must be a list")
        return cls(
            actor_id=str(data["actor_id"]),
            role=Role(str(data["role"])),
            client_id=str(data["client_id"]),
            request_id=str(data["request_id"]),
            reason=None if reason is None else str(reason),
            rule_ids=tuple(str(r) for r in rule_ids),
            policy_version=None if version is None else str(version),
            gateway=data.get("gateway") is True,  # events stored before gateways: False
        )
