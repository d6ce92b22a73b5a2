"""Event recorders that chain every event they insert, in the inserting transaction.

The library's SQLite, PostgreSQL and in-memory application recorders, each extended to
write one :class:`~disburse.persistence.chain.Link` per event in the same transaction as the
event (so an event never exists without its link, nor a link without its event), and to
keep two more tables beside the events: the digest log and the per-person keys that
personal data is sealed with (destroying one is how a person's identity is erased).

Writers are already serialised by the recorders (PostgreSQL locks the events table,
SQLite allows one writer), so reading the chain head inside the transaction is safe.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, PersistenceError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from disburse.persistence.chain import Link, extend

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class _ChainNotWritten(BaseException):
    """The links could not be written: the inserting transaction must roll back."""


#: How many events the backfill of an unchained store reads at a time.
_BACKFILL_PAGE = 5000


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

    def destroy_person_key(self, subject: UUID, destroyed_at: str) -> bool:
        """Overwrite the key; True if there was a live key to destroy."""
        ...


class _SQLChain(ABC):
    """The chain, digest log and key tables, in SQL shared by SQLite and PostgreSQL."""

    chain_table: str
    digests_table: str
    keys_table: str
    meta_table: str
    placeholder: str

    def _sql(self, text: str) -> str:
        return text.replace("%s", self.placeholder)

    @abstractmethod
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """Rows of a query, run by the backend in a transaction of its own."""

    @abstractmethod
    def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement in a committed transaction of its own; the rows it changed."""

    @property
    def _head_query(self) -> str:
        return (
            f"SELECT position, previous, digest, hash FROM {self.chain_table} "
            "ORDER BY position DESC LIMIT 1"
        )

    def _table_statements(self) -> list[str]:
        blob = "BLOB" if self.placeholder == "?" else "BYTEA"
        return [
            f"CREATE TABLE IF NOT EXISTS {self.chain_table} (position BIGINT PRIMARY KEY, "
            "previous BIGINT NOT NULL, digest TEXT NOT NULL, hash TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.digests_table} (position BIGINT PRIMARY KEY, "
            "hash TEXT NOT NULL, taken_at TEXT NOT NULL, signature TEXT, public_key TEXT)",
            f"CREATE TABLE IF NOT EXISTS {self.keys_table} (subject TEXT PRIMARY KEY, "
            f"wrapped {blob}, created_at TEXT NOT NULL, destroyed_at TEXT)",
            f"CREATE TABLE IF NOT EXISTS {self.meta_table} (id INTEGER PRIMARY KEY, "
            "started_at TEXT NOT NULL, backfilled BIGINT NOT NULL)",
        ]

    def _start_chain(
        self, cursor: Cursor, page_after: Callable[[int], Sequence[Notification]]
    ) -> None:
        """Once per store, inside a locked transaction: record when the chain started.

        A store written before the chain existed has its events chained then, once. A
        chain emptied later is never rebuilt: ``verify`` reports every event it lost.
        """
        cursor.execute(f"SELECT started_at FROM {self.meta_table}")
        if cursor.fetchone() is not None:
            return
        cursor.execute(f"SELECT COUNT(*) AS n FROM {self.chain_table}")
        backfilled, after = 0, 0
        if not cursor.fetchone()["n"]:
            while rows := page_after(after):
                self._chain_in(cursor, [n.id for n in rows], rows)
                backfilled += len(rows)
                after = rows[-1].id
        cursor.execute(
            self._sql(f"INSERT INTO {self.meta_table} VALUES (1, %s, %s)"),
            (datetime.now(UTC).isoformat(timespec="seconds"), backfilled),
        )

    def chain_started(self) -> tuple[str, int] | None:
        rows = self._read(f"SELECT started_at, backfilled FROM {self.meta_table}")
        return (rows[0]["started_at"], int(rows[0]["backfilled"])) if rows else None

    def _chain_in(self, cursor: Cursor, ids: Sequence[int], events: Sequence[StoredEvent]) -> None:
        """Write the links of events just inserted at ``ids``, in the same transaction."""
        if not events:
            return
        cursor.execute(self._head_query)
        row = cursor.fetchone()
        head = _link(row) if row is not None else None
        links = extend(
            head,
            [
                (position, e.originator_id, e.originator_version, e.topic, e.state)
                for position, e in zip(ids, events, strict=True)
            ],
        )
        cursor.executemany(
            self._sql(f"INSERT INTO {self.chain_table} VALUES (%s, %s, %s, %s)"),
            [(k.position, k.previous, k.digest, k.hash) for k in links],
        )

    def chain_head(self) -> Link | None:
        rows = self._read(self._head_query)
        return _link(rows[0]) if rows else None

    def select_links(self, after: int, limit: int) -> list[Link]:
        rows = self._read(
            self._sql(
                f"SELECT position, previous, digest, hash FROM {self.chain_table} "
                "WHERE position > %s ORDER BY position LIMIT %s"
            ),
            (after, limit),
        )
        return [_link(r) for r in rows]

    def link_at(self, position: int) -> Link | None:
        rows = self._read(
            self._sql(
                f"SELECT position, previous, digest, hash FROM {self.chain_table} "
                "WHERE position = %s"
            ),
            (position,),
        )
        return _link(rows[0]) if rows else None

    def position_of_digest(self, digest: str) -> int | None:
        rows = self._read(
            self._sql(
                f"SELECT position FROM {self.chain_table} WHERE digest = %s "
                "ORDER BY position LIMIT 1"
            ),
            (digest,),
        )
        return int(rows[0]["position"]) if rows else None

    def append_digest(
        self,
        position: int,
        hash_: str,
        taken_at: str,
        signature: str | None,
        public_key: str | None,
    ) -> None:
        self._write(
            self._sql(
                f"INSERT INTO {self.digests_table} VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (position) DO NOTHING"
            ),
            (position, hash_, taken_at, signature, public_key),
        )

    def select_digests(
        self, after: int, limit: int
    ) -> list[tuple[int, str, str, str | None, str | None]]:
        rows = self._read(
            self._sql(
                "SELECT position, hash, taken_at, signature, public_key FROM "
                f"{self.digests_table} WHERE position > %s ORDER BY position LIMIT %s"
            ),
            (after, limit),
        )
        return [
            (int(r["position"]), r["hash"], r["taken_at"], r["signature"], r["public_key"])
            for r in rows
        ]

    def person_key(self, subject: UUID) -> bytes | bool | None:
        rows = self._read(
            self._sql(f"SELECT wrapped FROM {self.keys_table} WHERE subject = %s"), (str(subject),)
        )
        if not rows:
            return None
        wrapped = rows[0]["wrapped"]
        return False if wrapped is None else bytes(wrapped)

    def add_person_key(self, subject: UUID, wrapped: bytes, created_at: str) -> None:
        self._write(
            self._sql(
                f"INSERT INTO {self.keys_table} (subject, wrapped, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (subject) DO NOTHING"
            ),
            (str(subject), wrapped, created_at),
        )

    def destroy_person_key(self, subject: UUID, destroyed_at: str) -> bool:
        # A tombstone is kept (subject, when) so the key is never created again.
        inserted = self._write(
            self._sql(
                f"INSERT INTO {self.keys_table} (subject, wrapped, created_at, destroyed_at) "
                "VALUES (%s, NULL, %s, %s) ON CONFLICT (subject) DO NOTHING"
            ),
            (str(subject), destroyed_at, destroyed_at),
        )
        updated = self._write(
            self._sql(
                f"UPDATE {self.keys_table} SET wrapped = NULL, destroyed_at = %s "
                "WHERE subject = %s AND wrapped IS NOT NULL"
            ),
            (destroyed_at, str(subject)),
        )
        return bool(updated) or bool(inserted)


def _link(row: Any) -> Link:
    return Link(int(row["position"]), int(row["previous"]), row["digest"], row["hash"])


class ChainedSQLiteRecorder(_SQLChain, SQLiteApplicationRecorder):
    """SQLite events with their chain (tables ``ledger_chain``, ``ledger_digests``...)."""

    chain_table = "ledger_chain"
    digests_table = "ledger_digests"
    keys_table = "ledger_person_keys"
    meta_table = "ledger_chain_meta"
    placeholder = "?"

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self._table_statements()]

    def create_table(self) -> None:
        super().create_table()
        self._backfill()

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None  # noqa: S101 - the application recorder returns positions
        self._chain_in(c, ids, stored_events)
        return ids

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, tuple(params))
            return list(c.fetchall())

    def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        with self.datastore.transaction(commit=True) as c:
            c.execute(sql, tuple(params))
            c.execute("SELECT changes()")
            return int(c.fetchone()[0])

    def select_stored(self, after: int, limit: int) -> Sequence[Notification]:
        rows = self._read(
            "SELECT rowid, CAST(originator_id AS TEXT) AS originator_id, originator_version,"
            " CAST(topic AS BLOB) AS topic, CAST(state AS BLOB) AS state"
            f" FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after, limit),
        )
        return [
            Notification(
                id=r["rowid"],
                originator_id=r["originator_id"],
                originator_version=r["originator_version"],
                topic=bytes(r["topic"]).decode("utf-8", "replace"),
                state=bytes(r["state"]),
            )
            for r in rows
        ]

    def _backfill(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            # A write first, so this transaction holds the write lock before it reads.
            c.execute(f"DELETE FROM {self.chain_table} WHERE 0")

            def page_after(after: int) -> list[Notification]:
                c.execute(
                    f"SELECT rowid, * FROM {self.events_table_name} WHERE rowid > ? "
                    "ORDER BY rowid LIMIT ?",
                    (after, _BACKFILL_PAGE),
                )
                return [
                    Notification(
                        id=r["rowid"],
                        originator_id=UUID(r["originator_id"]),
                        originator_version=r["originator_version"],
                        topic=r["topic"],
                        state=r["state"],
                    )
                    for r in c.fetchall()
                ]

            self._start_chain(c, page_after)


class ChainedPostgresRecorder(_SQLChain, PostgresApplicationRecorder):
    """PostgreSQL events with their chain (``<schema>.ledger_chain``, ...)."""

    placeholder = "%s"

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = self.datastore.schema

        def qualified(name: str) -> str:
            return SQL("{}.{}").format(Identifier(schema), Identifier(name)).as_string()

        self.chain_table = qualified("ledger_chain")
        self.digests_table = qualified("ledger_digests")
        self.keys_table = qualified("ledger_person_keys")
        self.meta_table = qualified("ledger_chain_meta")
        self.sql_create_statements.extend(SQL(s).format() for s in self._table_statements())

    def create_table(self) -> None:
        super().create_table()
        self._backfill()

    def select_stored(self, after: int, limit: int) -> Sequence[Notification]:
        found: Sequence[Notification] = self.select_notifications(
            after, limit, inclusive_of_start=False
        )
        return found

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        try:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
        except _ChainNotWritten as aborted:
            raise PersistenceError(f"the events were not stored: {aborted.__cause__}") from None
        return ids

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert ids is not None  # noqa: S101 - the application recorder returns positions
        try:
            self._chain_in(curs, ids, stored_events)
        except Exception as error:
            # The library catches Exception inside its transaction block and commits what
            # was inserted; this escapes that block, so the events roll back with it.
            raise _ChainNotWritten from error
        return ids

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(sql.encode(), tuple(params))
            return list(curs.fetchall())

    def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.encode(), tuple(params))
            return int(curs.rowcount)

    def _backfill(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            self._start_chain(
                curs,
                lambda after: self.select_notifications(
                    after, _BACKFILL_PAGE, inclusive_of_start=False
                ),
            )


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

    def destroy_person_key(self, subject: UUID, destroyed_at: str) -> bool:  # noqa: ARG002
        with self._keys_lock:
            live = self._keys.get(subject, b"") is not None
            self._keys[subject] = None
            return live
