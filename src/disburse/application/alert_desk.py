"""Inspectors resolve the alerts the alerts view raised."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from disburse.domain.alert import AlertCase, AlertOutcome
from disburse.domain.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore


class AlertLookup(Protocol):
    """Where alerts are known (the alerts view)."""

    def rule_of(self, alert_id: UUID) -> str | None:
        """The alert's rule, or None if there is no such alert."""
        ...


class Alerts:
    """Confirm or dismiss an alert, once, with a reason."""

    def __init__(self, store: LedgerStore, lookup: AlertLookup) -> None:
        self._store = store
        self._lookup = lookup

    def resolve(self, ctx: Context, alert_id: UUID, *, outcome: AlertOutcome, reason: str) -> None:
        """Record the inspector's decision; a second decision on one alert is a conflict."""
        rule_id = self._lookup.rule_of(alert_id)
        if rule_id is None:
            raise NotFoundError("ALERT-NOT-FOUND", f"no alert {alert_id}", field="alert_id")

        def decide(changes: Changes) -> None:
            if self._store.find(AlertCase, alert_id) is not None:
                raise ConflictError(
                    "ALERT-RESOLVED", f"alert {alert_id} is already resolved", field="alert_id"
                )
            changes.add(
                AlertCase.resolve(
                    alert_id=alert_id,
                    rule_id=rule_id,
                    outcome=AlertOutcome(outcome),
                    meta=ctx.meta(reason),
                )
            )

        self._store.transact(decide)
