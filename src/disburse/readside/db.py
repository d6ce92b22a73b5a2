"""Where the views live: the same SQLite file or PostgreSQL schema as the events.

Views are written in one SQL dialect that both backends accept (``TEXT``, ``BIGINT``,
``INSERT ... ON CONFLICT``), with named parameters (``:name``) that are always bound,
never formatted into the text. For PostgreSQL they are rewritten once to ``%(name)s``.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import threading
import uuid
from contextlib import contextmanager, suppress
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from disburse.domain.text import readable

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    import psycopg

    from disburse.settings import Settings, StoreUrl

Row = dict[str, Any]
#: What a view cannot store as text: NUL (PostgreSQL text refuses it) and surrogate code
#: points (not Unicode scalar values: neither SQLite nor PostgreSQL can encode them).
_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
SQLITE_LOCK_TIMEOUT_S = 30.0


@lru_cache(maxsize=512)
def to_pyformat(statement: str) -> str:
    """``:name`` parameters as psycopg's ``%(name)s`` (and literal ``%`` escaped)."""
    return _NAMED.sub(r"%(\1)s", statement.replace("%", "%%"))


def _bound(params: Mapping[str, object] | None) -> dict[str, object]:
    """Parameters as bound: every text made readable (NUL and lone surrogates as U+FFFD)."""
    return {
        key: readable(value) if isinstance(value, str) else value
        for key, value in (params or {}).items()
    }


def _bound_many(rows: Sequence[Mapping[str, object]]) -> Sequence[Mapping[str, object]]:
    """Many rows of parameters as bound: all their texts checked at once, mended if need be."""
    values = chain.from_iterable(row.values() for row in rows)
    texts = "".join([v for v in values if type(v) is str])
    if readable(texts) == texts:
        return rows  # the common case: nothing to replace, checked in one pass
    return [_bound(row) for row in rows]


@lru_cache(maxsize=256)
def _insert(table: str, columns: tuple[str, ...]) -> str:
    """``INSERT`` of one row, with a ``:column`` parameter per column."""
    values = ", ".join(f":{c}" for c in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"


class Tx(Protocol):
    """One transaction (or one read) on the view database."""

    #: What views keep for the batch this transaction applies (see ``View.begin``): it
    #: lives and dies with the transaction, so a rolled-back batch leaves nothing behind.
    memo: dict[str, Any]

    def execute(self, statement: str, params: Mapping[str, object] | None = None) -> int:
        """Run a statement; returns the number of rows it changed."""
        ...

    def write(self, statement: str, params: Mapping[str, object] | None = None) -> None:
        """Run a statement whose row count nobody needs.

        In a pipelined transaction (PostgreSQL) it is sent without waiting for the
        server; its error, if any, is raised by a later read or by the commit, and the
        whole transaction is rolled back.
        """
        ...

    def write_many(self, statement: str, rows: Sequence[Mapping[str, object]]) -> None:
        """Run one statement once per row of parameters (``executemany``), in order.

        Like :meth:`write`, pipelined on PostgreSQL: its error surfaces by the commit.
        """
        ...

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, object]]
    ) -> None:
        """Add ``rows`` (each with a value per column) to ``table``.

        In as few statements as the backend does best: ``executemany`` on SQLite,
        ``COPY`` on PostgreSQL (``executemany`` in a pipelined transaction, where COPY
        cannot run).
        """
        ...

    def all(self, statement: str, params: Mapping[str, object] | None = None) -> list[Row]:
        """Rows of a query, as dicts."""
        ...

    def one(self, statement: str, params: Mapping[str, object] | None = None) -> Row | None:
        """The first row of a query, or None."""
        ...


class _SQLiteTx:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.memo: dict[str, Any] = {}

    def execute(self, statement: str, params: Mapping[str, object] | None = None) -> int:
        return self.connection.execute(statement, _bound(params)).rowcount

    def write(self, statement: str, params: Mapping[str, object] | None = None) -> None:
        self.connection.execute(statement, _bound(params))

    def write_many(self, statement: str, rows: Sequence[Mapping[str, object]]) -> None:
        if rows:
            self.connection.executemany(statement, _bound_many(rows))

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, object]]
    ) -> None:
        self.write_many(_insert(table, tuple(columns)), rows)

    def all(self, statement: str, params: Mapping[str, object] | None = None) -> list[Row]:
        cursor = self.connection.execute(statement, _bound(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, statement: str, params: Mapping[str, object] | None = None) -> Row | None:
        rows = self.all(statement, params)
        return rows[0] if rows else None


class _PostgresTx:
    def __init__(
        self, connection: psycopg.Connection[Row], pipeline: psycopg.Pipeline | None = None
    ) -> None:
        self.connection = connection
        self.pipeline = pipeline
        self.memo: dict[str, Any] = {}

    def execute(self, statement: str, params: Mapping[str, object] | None = None) -> int:
        cursor = self.connection.execute(to_pyformat(statement), _bound(params))
        if self.pipeline is not None:
            self.pipeline.sync()  # the count is known only once the server has answered
        return cursor.rowcount

    def write(self, statement: str, params: Mapping[str, object] | None = None) -> None:
        self.connection.execute(to_pyformat(statement), _bound(params))

    def write_many(self, statement: str, rows: Sequence[Mapping[str, object]]) -> None:
        if rows:
            self.connection.cursor().executemany(to_pyformat(statement), _bound_many(rows))

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, object]]
    ) -> None:
        if not rows:
            return
        if self.pipeline is not None:  # COPY cannot run in a pipeline
            self.write_many(_insert(table, tuple(columns)), rows)
            return
        names = ", ".join(columns)
        with self.connection.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in _bound_many(rows):
                copy.write_row([row[column] for column in columns])

    def all(self, statement: str, params: Mapping[str, object] | None = None) -> list[Row]:
        return self.connection.execute(to_pyformat(statement), _bound(params)).fetchall()

    def one(self, statement: str, params: Mapping[str, object] | None = None) -> Row | None:
        return self.connection.execute(to_pyformat(statement), _bound(params)).fetchone()


class ViewDB:
    """Connections to the view tables, opened from the same settings as the store."""

    def __init__(self, store: StoreUrl, settings: Settings, *, durable: bool = True) -> None:
        """``durable=False`` for a scratch place: commits do not wait for the disk.

        A crash loses what a scratch place holds, which nobody reads before the swap
        copies it, in a durable transaction, into the live tables.
        """
        self.dialect: Literal["sqlite", "postgres"] = (
            "postgres" if store.kind == "postgres" else "sqlite"
        )
        self._local = threading.local()
        self._lock = threading.RLock()
        self._memory: sqlite3.Connection | None = None
        self._pool: ConnectionPool[psycopg.Connection[Row]] | None = None
        self._path = str(store.path) if store.kind == "sqlite" else None
        self._store, self._settings = store, settings
        self._opened: list[sqlite3.Connection] = []
        self._durable = durable
        if store.kind == "memory":
            self._memory = self._sqlite(":memory:")
        elif store.kind == "postgres":
            server = ([f"search_path={store.schema}"] if store.schema else []) + (
                [] if durable else ["synchronous_commit=off"]
            )
            options = " ".join(f"-c {setting}" for setting in server) or None
            conninfo = make_conninfo(
                host=store.host,
                port=store.port,
                dbname=store.dbname,
                user=store.user,
                password=store.password or None,
                connect_timeout=settings.postgres_connect_timeout,
                options=options,
            )
            self._pool = ConnectionPool(
                conninfo,
                min_size=1,
                max_size=settings.postgres_pool_size,
                kwargs={"row_factory": dict_row, "autocommit": True},
                open=True,
                name="disburse-views",
            )

    @staticmethod
    def _sqlite(path: str) -> sqlite3.Connection:
        connection = sqlite3.connect(
            path, timeout=SQLITE_LOCK_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA busy_timeout = 30000")
        return connection

    def _sqlite_connection(self) -> sqlite3.Connection:
        if self._memory is not None:
            return self._memory
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            assert self._path is not None  # noqa: S101 - set for SQLite stores
            connection = self._sqlite(self._path)
            if not self._durable:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = OFF")
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    @contextmanager
    def transaction(self, *, pipelined: bool = False) -> Iterator[Tx]:
        """A write transaction: everything inside commits together or not at all.

        ``pipelined`` (PostgreSQL): :meth:`Tx.write` statements are sent without waiting
        for each answer, so a batch of view writes costs a few round trips, not one each.
        """
        if self._pool is not None:
            with self._pool.connection() as connection, connection.transaction():
                if not pipelined:
                    yield _PostgresTx(connection)
                    return
                with connection.pipeline() as pipeline:
                    yield _PostgresTx(connection, pipeline)
            return
        with self._lock if self._memory is not None else _nolock():
            lite = self._sqlite_connection()
            lite.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteTx(lite)
                lite.execute("COMMIT")
            except BaseException:
                if lite.in_transaction:
                    lite.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A consistent read (one snapshot for every query inside)."""
        if self._pool is not None:
            with self._pool.connection() as connection, connection.transaction():
                connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield _PostgresTx(connection)
            return
        with self._lock if self._memory is not None else _nolock():
            lite = self._sqlite_connection()
            lite.execute("BEGIN")
            try:
                yield _SQLiteTx(lite)
            finally:
                lite.execute("ROLLBACK")

    @contextmanager
    def scratch(self) -> Iterator[ViewDB | None]:
        """An empty place beside this one to build views in, removed afterwards.

        A SQLite file next to the store's, or a PostgreSQL schema next to the store's.
        None for a memory store (there is nowhere beside it).
        """
        tag = uuid.uuid4().hex[:10]
        if self._pool is not None:
            schema = f"{self._store.schema or 'public'}_rebuild_{tag}"
            with self._pool.connection() as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
            scratch = ViewDB(
                dataclasses.replace(self._store, schema=schema), self._settings, durable=False
            )
            try:
                yield scratch
            finally:
                scratch.close()
                with self._pool.connection() as connection:
                    connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            return
        if self._path is None:
            yield None
            return
        live = Path(self._path)
        path = live.with_name(f"{live.name}.rebuild-{tag}")
        scratch = ViewDB(dataclasses.replace(self._store, path=path), self._settings, durable=False)
        try:
            yield scratch
        finally:
            scratch.close()
            for leftover in (path, *(Path(f"{path}-{end}") for end in ("journal", "wal", "shm"))):
                with suppress(FileNotFoundError):
                    leftover.unlink()

    @contextmanager
    def swapping(self, scratch: ViewDB) -> Iterator[tuple[Tx, str]]:
        """A write transaction that can read ``scratch``'s tables as ``<name>.table``.

        Everything written inside commits at once: readers see the old tables until the
        commit and the new ones after it (SQLite readers keep their snapshot meanwhile;
        PostgreSQL readers of a table being replaced wait for the commit).
        """
        if self._pool is not None:
            with self.transaction() as tx:
                yield tx, f'"{scratch._store.schema}"'
            return
        lite = self._sqlite_connection()
        lite.execute("ATTACH DATABASE ? AS scratch", (scratch._path,))
        try:
            with self.transaction() as tx:
                yield tx, "scratch"
        finally:
            lite.execute("DETACH DATABASE scratch")

    def close(self) -> None:
        """Close every connection this object opened."""
        if self._pool is not None:
            self._pool.close()
        if self._memory is not None:
            self._memory.close()
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()


@contextmanager
def _nolock() -> Iterator[None]:
    yield
