"""What disburse asks of an event recorder: notifications, the chain, digests, person keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    from eventsourcing.persistence import Notification

    from disburse.persistence.chain import Link, LinkRow, StoredRow


class Cursor(Protocol):
    """The part of a DB-API cursor the chain uses (sqlite3 and psycopg alike)."""

    def execute(self, query: Any, params: Any = ..., /) -> Any: ...

    def executemany(self, query: Any, params_seq: Any, /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> Any: ...


class DigestRow(Protocol):
    """A digest as the log keeps it."""

    position: int
    hash: str
    taken_at: str
    signature: str | None
    public_key: str | None


class ChainedRecorder(Protocol):
    """What the audit needs of a recorder, on every backend."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]: ...

    def max_notification_id(self) -> int | None: ...

    def select_stored(self, after: int, limit: int) -> Sequence[Notification]:
        """Stored events after ``after`` as stored, whatever was written into the row.

        Unlike ``select_notifications``, a value of the wrong type (text in a blob
        column, an id that is not a UUID) is returned as found rather than raising,
        so that verification reports the row instead of stopping.
        """
        ...

    def scan_events(self, after: int, limit: int) -> Sequence[StoredRow]:
        """What ``select_stored`` returns, as plain tuples, for reading the log fast.

        (position, originator id as text, version, topic, state), one query per call.
        The id is the store's own text of it (the hex on SQLite, the canonical form on
        PostgreSQL); everything else as ``select_stored`` has it.
        """
        ...

    def scan_links(self, after: int, limit: int) -> Sequence[LinkRow]:
        """What ``select_links`` returns, as (position, previous, digest, hash) tuples."""
        ...

    def chain_head(self) -> Link | None:
        """The last link, or None for an empty store."""
        ...

    def select_links(self, after: int, limit: int) -> list[Link]:
        """Links after ``after``, in position order."""
        ...

    def link_at(self, position: int) -> Link | None:
        """The link at ``position``, if any."""
        ...

    def position_of_digest(self, digest: str) -> int | None:
        """Where an event with this digest was chained (a slow scan: for reports only)."""
        ...

    def chain_started(self) -> tuple[str, int] | None:
        """When the chain was started (UTC ISO) and how many events it chained at once then."""
        ...

    def append_digest(
        self,
        position: int,
        hash_: str,
        taken_at: str,
        signature: str | None,
        public_key: str | None,
    ) -> None:
        """Add a digest to the digest log (once per position)."""
        ...

    def select_digests(
        self, after: int, limit: int
    ) -> list[tuple[int, str, str, str | None, str | None]]:
        """Digest log entries (position, hash, taken at, signature, public key) after ``after``."""
        ...

    def person_key(self, subject: UUID) -> bytes | bool | None:
        """The wrapped key; None if there is none yet; False if it was destroyed."""
        ...

    def add_person_key(self, subject: UUID, wrapped: bytes, created_at: str) -> None:
        """Store a new person key, unless one (or its tombstone) exists already."""
        ...

    def add_person_keys(self, keys: Sequence[tuple[UUID, bytes, str]]) -> None:
        """Store new person keys (subject, wrapped, created at) in one transaction."""
        ...

    def destroy_person_key(self, subject: UUID, destroyed_at: str) -> bool:
        """Overwrite the key; True if there was a live key to destroy."""
        ...
