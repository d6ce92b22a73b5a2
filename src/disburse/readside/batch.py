"""A batch's rows in memory: each read once, changed in memory, written once per table.

A view that applies a batch set-based keeps, for that batch only, the rows its handlers
read and change (:class:`Rows`), the rows they add (:meth:`Table.insert`: ``executemany``
on SQLite, ``COPY`` on PostgreSQL) and the writes it still sends as statements
(:class:`Writes`). Rows are read once, the whole batch's keys in one query where the view
can name them up front (``View.begin``), changed in memory by every event of the batch
that touches them, and written when the batch ends (``View.flush``): the changed rows
deleted by key, then the new and changed rows inserted together. A later event of the
batch therefore reads what an earlier one changed, as if each had been written at once.

The state lives in the transaction (``Tx.memo``), never in the view: a batch that fails
rolls back and takes its state with it, and two projectors sharing a view (a rebuild
beside the live one) never see each other's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from disburse.readside.db import Row, Tx

#: Keys per ``IN (...)`` list: well inside both backends' limits on bound parameters.
CHUNK = 500


#: A comma between two column definitions (not one inside a ``PRIMARY KEY (a, b)``).
_BETWEEN_COLUMNS = re.compile(r",(?![^()]*\))")


def columns(definitions: str) -> tuple[str, ...]:
    """The column names of a ``CREATE TABLE``'s definitions (``name TYPE ..., ...``)."""
    names = (part.split()[0] for part in _BETWEEN_COLUMNS.split(definitions))
    return tuple(name for name in names if name not in {"PRIMARY", "UNIQUE"})


class DuplicateRowError(Exception):
    """A batch inserts a row whose key its table already has (as the database would refuse)."""


@dataclass(frozen=True)
class Table:
    """A view table: its name, its key columns and all its columns (the key's first)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]

    def insert(self, tx: Tx, rows: Sequence[Mapping[str, object]]) -> None:
        """Add whole rows, in as few statements as the backend allows (``Tx.insert_many``)."""
        if rows:
            tx.insert_many(self.name, self.columns, rows)

    def delete_sql(self, count: int) -> str:
        """``DELETE`` of ``count`` rows by key (``:k0_0``, ``:k0_1``, ... the key's columns)."""
        if len(self.key) == 1:
            keys = ", ".join(f":k{n}_0" for n in range(count))
            return f"DELETE FROM {self.name} WHERE {self.key[0]} IN ({keys})"
        rows = ", ".join(
            "(" + ", ".join(f":k{n}_{i}" for i in range(len(self.key))) + ")" for n in range(count)
        )
        return f"DELETE FROM {self.name} WHERE ({', '.join(self.key)}) IN (VALUES {rows})"

    def select_sql(self, column: str, count: int) -> str:
        """The rows whose ``column`` is one of ``count`` values (``:k0``, ``:k1``, ...)."""
        values = ", ".join(f":k{n}" for n in range(count))
        return f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {column} IN ({values})"

    def key_of(self, row: Mapping[str, object]) -> tuple[object, ...]:
        """The key of a row, as :class:`Rows` files it."""
        return tuple(row[c] for c in self.key)


class Rows:
    """One table's rows as a batch has read and changed them, written by :meth:`flush`.

    ``get`` reads a row the batch has not seen yet (or finds it absent) and keeps it;
    ``load`` reads many at once. ``insert`` and ``update`` change only the memory.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        #: Every key the batch has seen: its row, or None when the table has none.
        self._rows: dict[tuple[object, ...], Row | None] = {}
        self._new: dict[tuple[object, ...], None] = {}
        self._changed: dict[tuple[object, ...], None] = {}

    def load(self, tx: Tx, column: str, values: Iterable[object]) -> None:
        """Read every row whose ``column`` is one of ``values``, in one query per chunk.

        When ``column`` is the whole key, a value with no row is kept as absent, so
        asking for it later reads nothing.
        """
        whole_key = self.table.key == (column,)
        wanted = list(dict.fromkeys(v for v in values if not whole_key or (v,) not in self._rows))
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            params = {f"k{n}": value for n, value in enumerate(chunk)}
            for row in tx.all(self.table.select_sql(column, len(chunk)), params):
                self._rows.setdefault(self.table.key_of(row), row)
            if whole_key:
                for value in chunk:
                    self._rows.setdefault((value,), None)

    def present(self) -> Iterator[Row]:
        """Every row the batch has read or added so far."""
        return (row for row in self._rows.values() if row is not None)

    def get(self, tx: Tx, *key: object) -> Row | None:
        """The row with ``key`` as the batch has it so far (None if there is none)."""
        if key not in self._rows:
            if len(key) == 1:
                self.load(tx, self.table.key[0], key)
            else:
                where = " AND ".join(f"{c} = :k{n}" for n, c in enumerate(self.table.key))
                found = tx.one(
                    f"SELECT {', '.join(self.table.columns)} FROM {self.table.name} WHERE {where}",
                    {f"k{n}": value for n, value in enumerate(key)},
                )
                self._rows[key] = found
        return self._rows[key]

    def insert(self, row: Row) -> None:
        """Add a row (written at the end as an ``INSERT``, so a key the table has fails)."""
        key = self.table.key_of(row)
        if self._rows.get(key) is not None:
            raise DuplicateRowError(f"{self.table.name} already has a row {key}")
        self._rows[key] = row
        self._new[key] = None

    def update(self, tx: Tx, *key: object, **changes: object) -> Row | None:
        """Change the row with ``key``; returns it changed (None, changing nothing, if absent)."""
        row = self.get(tx, *key)
        if row is not None:
            row.update(changes)
            if key not in self._new:
                self._changed[key] = None
        return row

    def flush(self, tx: Tx) -> None:
        """Write the batch's rows: the changed ones deleted by key, then all inserted at once.

        One ``DELETE`` (per :data:`CHUNK` keys) and one ``Tx.insert_many`` per table,
        rather than an ``UPDATE`` per row: on PostgreSQL that is one ``COPY``.
        """
        rows, changed = self._rows, list(self._changed)
        for start in range(0, len(changed), CHUNK):
            chunk = changed[start : start + CHUNK]
            params = {f"k{n}_{i}": v for n, key in enumerate(chunk) for i, v in enumerate(key)}
            tx.write(self.table.delete_sql(len(chunk)), params)
        self.table.insert(tx, [_present(rows[k]) for k in (*self._new, *changed)])
        self._new.clear()
        self._changed.clear()


class Writes:
    """Statements kept in order per table and sent as one ``executemany`` per run.

    Writes to different tables commute (views have no triggers or foreign keys), so
    each table keeps its own order; consecutive writes of one statement to a table are
    sent together. For write-only handlers: nothing reads what is still queued.
    """

    def __init__(self) -> None:
        self._queues: dict[str, list[tuple[str, list[Mapping[str, object]]]]] = {}

    def add(self, table: str, statement: str, params: Mapping[str, object]) -> None:
        """Queue one statement on ``table``."""
        queue = self._queues.setdefault(table, [])
        if queue and queue[-1][0] == statement:
            queue[-1][1].append(params)
        else:
            queue.append((statement, [params]))

    def flush(self, tx: Tx) -> None:
        """Send every queued statement, table by table, each run in one ``executemany``."""
        for queue in self._queues.values():
            for statement, rows in queue:
                tx.write_many(statement, rows)
        self._queues.clear()


def _present(row: Row | None) -> Mapping[str, Any]:
    if row is None:  # pragma: no cover - new and changed keys always have a row
        raise LookupError("a written row went missing")
    return row
