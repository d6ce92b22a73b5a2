"""The outcome of an API request made with an ``Idempotency-Key``.

Saved in the same transaction as the events the request caused, so a retry finds
either nothing (the first attempt wrote nothing) or the first response (it wrote
everything): never half.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.meta import Meta

REQUEST_NAMESPACE = uuid.UUID("b4a3c1d2-6e5f-4a70-8b91-c2d3e4f5a6b7")


def request_id_for(client_id: str, key: str) -> UUID:
    """One record per client and key: two clients may use the same key."""
    return uuid.uuid5(REQUEST_NAMESPACE, f"{client_id}:{key}")


class RecordedRequest(Aggregate):
    """What was asked (a fingerprint of method, path and body) and what was answered."""

    @staticmethod
    def create_id(client_id: str, key: str) -> UUID:
        """Derived from the client and its key."""
        return request_id_for(client_id, key)

    @event("Answered")
    def __init__(
        self,
        *,
        client_id: str,
        key: str,
        fingerprint: str,
        status: int,
        body: object,
        location: str | None,
        meta: Meta,
    ) -> None:
        self.client_id = client_id
        self.key = key
        self.fingerprint = fingerprint
        self.status = status
        self.body = body
        self.location = location
