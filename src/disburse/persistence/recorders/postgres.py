"""PostgreSQL events with their chain, written under the events table's lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from disburse.persistence.recorders.sql import BACKFILL_PAGE, SQLChain

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventsourcing.persistence import Notification, StoredEvent

    from disburse.persistence.chain import StoredRow


class _ChainNotWritten(BaseException):
    """The links could not be written: the inserting transaction must roll back."""


class ChainedPostgresRecorder(SQLChain, PostgresApplicationRecorder):
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
        self.schema_table = qualified("ledger_schema")
        self.events_table = qualified(self.events_table_name)
        self.sql_create_statements.extend(SQL(s).format() for s in self._table_statements())

    def create_table(self) -> None:
        super().create_table()
        self._backfill()
        self._upgrade_schema()

    def select_stored(self, after: int, limit: int) -> Sequence[Notification]:
        found: Sequence[Notification] = self.select_notifications(
            after, limit, inclusive_of_start=False
        )
        return found

    def scan_events(self, after: int, limit: int) -> list[StoredRow]:
        # The uuid column's text is its canonical form, as str(UUID) spells it.
        return self._tuples(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            f"FROM {self.events_table} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s",
            (after, limit),
        )

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

    def _tuples(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(sql.encode(), tuple(params))
            return list(curs.fetchall())

    def _write(self, sql: str, params: Sequence[object] = ()) -> int:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(sql.encode(), tuple(params))
            return int(curs.rowcount)

    def _write_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(sql.encode(), [tuple(row) for row in rows])

    def _backfill(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            self._start_chain(
                curs,
                lambda after: self.select_notifications(
                    after, BACKFILL_PAGE, inclusive_of_start=False
                ),
            )
