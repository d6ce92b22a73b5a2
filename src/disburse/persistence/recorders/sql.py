"""The chain, the digest log and the person keys in SQL, shared by SQLite and PostgreSQL."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError

from disburse.persistence.chain import Link, extend

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from uuid import UUID

    from eventsourcing.persistence import Notification, StoredEvent

    from disburse.persistence.chain import LinkRow
    from disburse.persistence.recorders.protocol import Cursor

#: The version of the ledger's own tables (chain, digests, person keys, chain meta and
#: ``ledger_schema`` itself). Raise it with a step in :data:`UPGRADES` when they change.
LEDGER_SCHEMA = 1
#: The statements that take the tables from version ``n`` to ``n + 1``, per backend.
UPGRADES: dict[int, Callable[[SQLChain], list[str]]] = {}
_LEDGER = "ledger"

#: How many events the backfill of an unchained store reads at a time.
BACKFILL_PAGE = 5000


class SQLChain(ABC):
    """The chain, digest log and key tables, in SQL shared by SQLite and PostgreSQL."""

    chain_table: str
    digests_table: str
    keys_table: str
    meta_table: str
    schema_table: str
    placeholder: str
    #: The version the ledger's tables had when this recorder opened them (None: unversioned).
    schema_upgraded_from: int | None = LEDGER_SCHEMA

    def _sql(self, text: str) -> str:
        return text.replace("%s", self.placeholder)

    @abstractmethod
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """Rows of a query, run by the backend in a transaction of its own."""

    @abstractmethod
    def _tuples(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """Rows of a query as plain tuples (no row objects: for reading many rows fast)."""

    @abstractmethod
    def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        """Run a statement in a committed transaction of its own; the rows it changed."""

    @abstractmethod
    def _write_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Run a statement once per row, all in one committed transaction."""

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
            f"CREATE TABLE IF NOT EXISTS {self.schema_table} (component TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL, recorded_at TEXT NOT NULL)",
        ]

    def schema_version(self) -> int | None:
        """The version of the ledger's own tables this store was last opened by."""
        rows = self._read(
            self._sql(f"SELECT version FROM {self.schema_table} WHERE component = %s"), (_LEDGER,)
        )
        return int(rows[0]["version"]) if rows else None

    def _upgrade_schema(self) -> None:
        """Bring the ledger's own tables to :data:`LEDGER_SCHEMA`, or refuse a newer store.

        A store written before its tables had a version holds version 1's tables.
        """
        found = self.schema_version()
        if found is not None and found > LEDGER_SCHEMA:
            msg = (
                f"this store's tables are version {found}, written by a newer disburse; "
                f"this release knows version {LEDGER_SCHEMA}: upgrade disburse, never downgrade"
            )
            raise PersistenceError(msg)
        version = 1 if found is None else found
        self.schema_upgraded_from = found if found != LEDGER_SCHEMA else LEDGER_SCHEMA
        while version < LEDGER_SCHEMA:
            for statement in UPGRADES[version](self):
                self._write(statement)
            version += 1
        if found != version:
            now = datetime.now(UTC).isoformat(timespec="seconds")
            self._write(
                self._sql(
                    f"INSERT INTO {self.schema_table} (component, version, recorded_at) "
                    "VALUES (%s, %s, %s) ON CONFLICT (component) DO UPDATE "
                    "SET version = excluded.version, recorded_at = excluded.recorded_at"
                ),
                (_LEDGER, version, now),
            )

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
        head = link_of(row) if row is not None else None
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
        return link_of(rows[0]) if rows else None

    def select_links(self, after: int, limit: int) -> list[Link]:
        rows = self._read(
            self._sql(
                f"SELECT position, previous, digest, hash FROM {self.chain_table} "
                "WHERE position > %s ORDER BY position LIMIT %s"
            ),
            (after, limit),
        )
        return [link_of(r) for r in rows]

    def scan_links(self, after: int, limit: int) -> list[LinkRow]:
        return self._tuples(
            self._sql(
                f"SELECT position, previous, digest, hash FROM {self.chain_table} "
                "WHERE position > %s ORDER BY position LIMIT %s"
            ),
            (after, limit),
        )

    def link_at(self, position: int) -> Link | None:
        rows = self._read(
            self._sql(
                f"SELECT position, previous, digest, hash FROM {self.chain_table} "
                "WHERE position = %s"
            ),
            (position,),
        )
        return link_of(rows[0]) if rows else None

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
        self.add_person_keys([(subject, wrapped, created_at)])

    def add_person_keys(self, keys: Sequence[tuple[UUID, bytes, str]]) -> None:
        self._write_many(
            self._sql(
                f"INSERT INTO {self.keys_table} (subject, wrapped, created_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (subject) DO NOTHING"
            ),
            [(str(subject), wrapped, created_at) for subject, wrapped, created_at in keys],
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


def link_of(row: Any) -> Link:
    """A chain link from a row of the chain table."""
    return Link(int(row["position"]), int(row["previous"]), row["digest"], row["hash"])
