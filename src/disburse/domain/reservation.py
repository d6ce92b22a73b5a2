"""Uniqueness across aggregates: a reservation of a natural key by one holder.

Saved atomically with the aggregate that takes it, so two concurrent commands that
both try to take the same key cannot both be stored: the second write conflicts on
the reservation's version and is refused.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, RuleViolationError
from disburse.domain.meta import Meta

RESERVATION_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e004")


def reservation_id_for(key: str) -> UUID:
    """The reservation of ``key`` has a fixed id, so every writer targets the same stream."""
    return uuid.uuid5(RESERVATION_NAMESPACE, key)


class Reservation(Aggregate):
    """Who holds a unique key (e.g. "the one public post of person P")."""

    @staticmethod
    def create_id(key: str) -> UUID:
        """Derived from the key."""
        return reservation_id_for(key)

    @event("Made")
    def __init__(self, *, key: str, rule_id: str, holder_id: UUID, meta: Meta) -> None:
        self.key = key
        self.rule_id = rule_id
        self.holder_id: UUID | None = holder_id

    def take(self, *, holder_id: UUID, refusal: str, field: str, meta: Meta) -> None:
        """Take the key for ``holder_id``; refused with ``refusal`` while someone else holds it."""
        if self.holder_id == holder_id:
            return
        if self.holder_id is not None:
            raise RuleViolationError(self.rule_id, refusal, field)
        self._taken(holder_id=holder_id, meta=meta)

    @event("Taken")
    def _taken(self, *, holder_id: UUID, meta: Meta) -> None:
        self.holder_id = holder_id

    def release(self, *, holder_id: UUID, meta: Meta) -> None:
        """Give the key back; only its holder can."""
        if self.holder_id != holder_id:
            raise ConflictError(self.rule_id, f"{holder_id} does not hold {self.key}")
        self._released(holder_id=holder_id, meta=meta)

    @event("Released")
    def _released(self, *, holder_id: UUID, meta: Meta) -> None:
        self.holder_id = None
