"""An inspector's decision on an anti-fraud alert: confirmed, or dismissed with a reason.

Alerts are raised by the alerts view from the log; the decision is a fact of its own, so
a rebuilt view shows the same decisions and a dismissed alert is not raised again for the
same evidence.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import InvalidInputError, RuleViolationError
from disburse.domain.meta import Meta, Role

RESOLVERS = frozenset({Role.INSPECTOR})
_REASON_MAX = 2000


class AlertOutcome(StrEnum):
    """What the inspector concluded."""

    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class AlertCase(Aggregate):
    """The resolution of one alert; its id is the alert's id, so an alert is resolved once."""

    @staticmethod
    def create_id(alert_id: UUID) -> UUID:
        """The alert's own id."""
        return alert_id

    @event("Resolved")
    def __init__(self, *, alert_id: UUID, rule_id: str, outcome: AlertOutcome, meta: Meta) -> None:
        self.alert_id = alert_id
        self.rule_id = rule_id
        self.outcome = AlertOutcome(outcome)
        self.resolved_by = meta.actor_id

    @classmethod
    def resolve(
        cls, *, alert_id: UUID, rule_id: str, outcome: AlertOutcome, meta: Meta
    ) -> AlertCase:
        """Only an inspector resolves an alert, and always says why."""
        if meta.role not in RESOLVERS:
            raise RuleViolationError(
                "ALERT-RESOLVER",
                f"only an inspector resolves alerts, not {meta.role.value}",
                "role",
            )
        reason = (meta.reason or "").strip()
        if not reason or len(reason) > _REASON_MAX:
            raise InvalidInputError(
                "ALERT-REASON", "a resolution states its reason (1 to 2000 characters)", "reason"
            )
        return cls(
            alert_id=alert_id,
            rule_id=rule_id,
            outcome=AlertOutcome(outcome),
            meta=meta.because(rule_id),
        )
