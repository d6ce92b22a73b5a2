"""In-memory events with their chain (for tests and trials; nothing is kept)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.popo import POPOApplicationRecorder

from disburse.persistence.chain import Link, extend

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    from eventsourcing.persistence import Notification, StoredEvent

    from disburse.persistence.chain import LinkRow, StoredRow


class ChainedPOPORecorder(POPOApplicationRecorder):
    """In-memory events with their chain (for tests and trials; nothing is kept)."""

    def __init__(self) -> None:
        super().__init__()
        self._links: list[Link] = []
        self._digests: dict[int, tuple[int, str, str, str | None, str | None]] = {}
        self._keys: dict[UUID, bytes | None] = {}
        self._keys_lock = threading.Lock()
        self._started = datetime.now(UTC).isoformat(timespec="seconds")

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._update_table(stored_events, **kwargs)
        assert ids is not None  # noqa: S101 - the application recorder returns positions
        head = self._links[-1] if self._links else None
        self._links.extend(
            extend(
                head,
                [
                    (i, e.originator_id, e.originator_version, e.topic, e.state)
                    for i, e in zip(ids, stored_events, strict=True)
                ],
            )
        )
        return ids

    def select_stored(self, after: int, limit: int) -> Sequence[Notification]:
        return self.select_notifications(after, limit, inclusive_of_start=False)

    def scan_events(self, after: int, limit: int) -> list[StoredRow]:
        return [
            (n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
            for n in self.select_stored(after, limit)
        ]

    def scan_links(self, after: int, limit: int) -> list[LinkRow]:
        return [(k.position, k.previous, k.digest, k.hash) for k in self.select_links(after, limit)]

    def chain_head(self) -> Link | None:
        with self._database_lock:
            return self._links[-1] if self._links else None

    def select_links(self, after: int, limit: int) -> list[Link]:
        with self._database_lock:
            return [k for k in self._links if k.position > after][:limit]

    def link_at(self, position: int) -> Link | None:
        with self._database_lock:
            return next((k for k in self._links if k.position == position), None)

    def chain_started(self) -> tuple[str, int] | None:
        return (self._started, 0)

    def position_of_digest(self, digest: str) -> int | None:
        with self._database_lock:
            return next((k.position for k in self._links if k.digest == digest), None)

    def append_digest(
        self,
        position: int,
        hash_: str,
        taken_at: str,
        signature: str | None,
        public_key: str | None,
    ) -> None:
        with self._database_lock:
            self._digests.setdefault(position, (position, hash_, taken_at, signature, public_key))

    def select_digests(
        self, after: int, limit: int
    ) -> list[tuple[int, str, str, str | None, str | None]]:
        with self._database_lock:
            return [self._digests[p] for p in sorted(self._digests) if p > after][:limit]

    def person_key(self, subject: UUID) -> bytes | bool | None:
        with self._keys_lock:
            if subject not in self._keys:
                return None
            wrapped = self._keys[subject]
            return False if wrapped is None else wrapped

    def add_person_key(self, subject: UUID, wrapped: bytes, created_at: str) -> None:  # noqa: ARG002
        with self._keys_lock:
            self._keys.setdefault(subject, wrapped)

    def add_person_keys(self, keys: Sequence[tuple[UUID, bytes, str]]) -> None:
        with self._keys_lock:
            for subject, wrapped, _created_at in keys:
                self._keys.setdefault(subject, wrapped)

    def destroy_person_key(self, subject: UUID, destroyed_at: str) -> bool:  # noqa: ARG002
        with self._keys_lock:
            live = self._keys.get(subject, b"") is not None
            self._keys[subject] = None
            return live
