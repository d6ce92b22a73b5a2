"""SQLite events with their chain: the one writer links each event as it inserts it."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Notification, OperationalError
from eventsourcing.sqlite import SQLiteApplicationRecorder

from disburse.persistence.recorders.sql import BACKFILL_PAGE, SQLChain

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import StoredEvent

    from disburse.persistence.chain import StoredRow


class ChainedSQLiteRecorder(SQLChain, SQLiteApplicationRecorder):
    """SQLite events with their chain (tables ``ledger_chain``, ``ledger_digests``...)."""

    chain_table = "ledger_chain"
    digests_table = "ledger_digests"
    keys_table = "ledger_person_keys"
    meta_table = "ledger_chain_meta"
    schema_table = "ledger_schema"
    placeholder = "?"

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self._table_statements()]

    def create_table(self) -> None:
        super().create_table()
        self._backfill()
        self._upgrade_schema()

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

    def _tuples(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.sqlite_cursor.row_factory = None
            c.execute(sql, tuple(params))
            return list(c.fetchall())

    def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        with self.datastore.transaction(commit=True) as c:
            c.execute(sql, tuple(params))
            c.execute("SELECT changes()")
            return int(c.fetchone()[0])

    def _write_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.executemany(sql, [tuple(row) for row in rows])

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

    def scan_events(self, after: int, limit: int) -> list[StoredRow]:
        try:
            return self._tuples(
                "SELECT rowid, CAST(originator_id AS TEXT), originator_version,"
                " CAST(topic AS TEXT), CAST(state AS BLOB)"
                f" FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, limit),
            )
        except (sqlite3.OperationalError, OperationalError):
            # A topic that is not UTF-8 text (written around the library): read the page
            # as select_stored does, which shows such a topic with replacement characters.
            return [
                (n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
                for n in self.select_stored(after, limit)
            ]

    def _backfill(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            # A write first, so this transaction holds the write lock before it reads.
            c.execute(f"DELETE FROM {self.chain_table} WHERE 0")

            def page_after(after: int) -> list[Notification]:
                c.execute(
                    f"SELECT rowid, * FROM {self.events_table_name} WHERE rowid > ? "
                    "ORDER BY rowid LIMIT ?",
                    (after, BACKFILL_PAGE),
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
