"""Views that stopped on one event, and the events an operator told a view to pass over.

A view that cannot apply an event (a handler bug, text its tables cannot hold) stops just
before it: the stall is kept in ``view_stalls`` with the event's position and type, so
``/readyz``, ``disburse project status`` and every worker see it, while the other views go
on. The way out is a fix (the worker retries the event on every round) or a skip the
operator gives with a reason: ``view_skips`` keeps it for good (a rebuild passes over the
same events again), and nothing else is ever left out of a view.

These tables describe the views; they are not views themselves, so a rebuild keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from disburse.readside.db import Row, Tx, ViewDB

DDL = (
    "CREATE TABLE IF NOT EXISTS view_stalls (view_name TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL, event_type TEXT NOT NULL, error TEXT NOT NULL,"
    " since TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS view_skips (view_name TEXT NOT NULL,"
    " position BIGINT NOT NULL, event_type TEXT NOT NULL, error TEXT NOT NULL,"
    " reason TEXT NOT NULL, skipped_by TEXT NOT NULL, skipped_at TEXT NOT NULL,"
    " PRIMARY KEY (view_name, position))",
)
#: Longest error text kept (the type and message of the exception).
ERROR_CHARS = 500
log = structlog.get_logger("disburse.readside")


class SkipRefusedError(ValueError):
    """The operator asked to skip an event the view is not stalled on."""


@dataclass(frozen=True)
class Stall:
    """A view stopped before the event at ``position``, which it could not apply."""

    view: str
    position: int
    event_type: str
    error: str
    since: str

    @classmethod
    def from_row(cls, row: Row) -> Stall:
        """A stall as stored."""
        return cls(
            view=row["view_name"],
            position=int(row["position"]),
            event_type=row["event_type"],
            error=row["error"],
            since=row["since"],
        )


@dataclass(frozen=True)
class Skip:
    """An event an operator told a view to pass over, and why."""

    view: str
    position: int
    event_type: str
    error: str
    reason: str
    skipped_by: str
    skipped_at: str

    @classmethod
    def from_row(cls, row: Row) -> Skip:
        """A skip as stored."""
        return cls(
            view=row["view_name"],
            position=int(row["position"]),
            event_type=row["event_type"],
            error=row["error"],
            reason=row["reason"],
            skipped_by=row["skipped_by"],
            skipped_at=row["skipped_at"],
        )


def describe(error: BaseException) -> str:
    """``Type: message``, cut to :data:`ERROR_CHARS`."""
    return f"{type(error).__name__}: {error}"[:ERROR_CHARS]


def stalls(tx: Tx) -> dict[str, Stall]:
    """Every stalled view's stall, by view name."""
    rows = tx.all("SELECT * FROM view_stalls ORDER BY view_name")
    return {row["view_name"]: Stall.from_row(row) for row in rows}


def skips(tx: Tx, view: str | None = None) -> list[Skip]:
    """The skips given (of one view, or all), in view and log order."""
    if view is None:
        rows = tx.all("SELECT * FROM view_skips ORDER BY view_name, position")
    else:
        rows = tx.all(
            "SELECT * FROM view_skips WHERE view_name = :v ORDER BY position", {"v": view}
        )
    return [Skip.from_row(row) for row in rows]


def record_stall(tx: Tx, stall: Stall) -> None:
    """Keep (or replace) a view's stall."""
    tx.execute(
        "INSERT INTO view_stalls (view_name, position, event_type, error, since)"
        " VALUES (:v, :p, :t, :e, :s) ON CONFLICT (view_name) DO UPDATE SET"
        " position = excluded.position, event_type = excluded.event_type,"
        " error = excluded.error, since = excluded.since",
        {
            "v": stall.view,
            "p": stall.position,
            "t": stall.event_type,
            "e": stall.error,
            "s": stall.since,
        },
    )


def clear_stall(tx: Tx, view: str) -> int:
    """Forget a view's stall (it moved past it); returns 1 if there was one."""
    return tx.execute("DELETE FROM view_stalls WHERE view_name = :v", {"v": view})


def copy_skip(tx: Tx, skip: Skip) -> None:
    """Keep a skip given elsewhere (a view rebuilt beside the live one passes over it too)."""
    tx.execute(
        "INSERT INTO view_skips (view_name, position, event_type, error, reason, skipped_by,"
        " skipped_at) VALUES (:v, :p, :t, :e, :r, :by, :at) ON CONFLICT DO NOTHING",
        {
            "v": skip.view,
            "p": skip.position,
            "t": skip.event_type,
            "e": skip.error,
            "r": skip.reason,
            "by": skip.skipped_by,
            "at": skip.skipped_at,
        },
    )


def record_skip(tx: Tx, view: str, position: int, *, reason: str, by: str, at: str) -> Skip:
    """Turn the view's stall at ``position`` into a skip, or refuse if it is not stalled there."""
    row = tx.one("SELECT * FROM view_stalls WHERE view_name = :v", {"v": view})
    stall = None if row is None else Stall.from_row(row)
    if stall is None or stall.position != position:
        where = "is not stalled" if stall is None else f"is stalled at position {stall.position}"
        raise SkipRefusedError(
            f"view {view} {where}; only the event a view is stalled on can be skipped"
        )
    if not reason.strip():
        raise SkipRefusedError("a skip needs a reason")
    skip = Skip(view, position, stall.event_type, stall.error, reason, by, at)
    tx.execute(
        "INSERT INTO view_skips (view_name, position, event_type, error, reason, skipped_by,"
        " skipped_at) VALUES (:v, :p, :t, :e, :r, :by, :at)",
        {
            "v": view,
            "p": position,
            "t": skip.event_type,
            "e": skip.error,
            "r": reason,
            "by": by,
            "at": at,
        },
    )
    clear_stall(tx, view)
    return skip


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StallBook:
    """Stalls and skips as one worker keeps them: in the tables, and in its logs once each."""

    def __init__(self, db: ViewDB) -> None:
        self.db = db
        self._reported: set[tuple[str, int, str]] = set()

    def stalls(self) -> dict[str, Stall]:
        """Every stalled view's stall, by view name."""
        with self.db.read() as tx:
            return stalls(tx)

    def skips(self, view: str | None = None) -> list[Skip]:
        """The skips given (of one view, or all)."""
        with self.db.read() as tx:
            return skips(tx, view)

    def skip(self, view: str, position: int, *, reason: str, by: str) -> Skip:
        """Turn the view's stall at ``position`` into a skip (``SkipRefusedError`` if not)."""
        with self.db.transaction() as tx:
            skip = record_skip(tx, view, position, reason=reason, by=by, at=_now())
        log.warning(
            "view_event_skipped",
            view=view,
            position=position,
            event_type=skip.event_type,
            reason=reason,
            skipped_by=by,
        )
        return skip

    def stalled(
        self,
        view: str,
        position: int,
        event_type: str,
        error: Exception,
        known: dict[str, Stall],
    ) -> None:
        """Keep a view's stall (in ``known`` too) and log it, unless it is known already."""
        reason = describe(error)
        previous = known.get(view)
        if previous is None or (previous.position, previous.error) != (position, reason):
            known[view] = Stall(view, position, event_type, reason, _now())
            with self.db.transaction() as tx:
                record_stall(tx, known[view])
        if (view, position, reason) not in self._reported:
            self._reported.add((view, position, reason))
            log.error(
                "view_stalled", view=view, position=position, event_type=event_type, error=reason
            )

    def resumed(self, view: str, known: dict[str, Stall]) -> None:
        """Forget a view's stall once it applied the event (if it had one)."""
        stall = known.pop(view, None)
        if stall is not None:
            with self.db.transaction() as tx:
                clear_stall(tx, view)
            log.info(
                "view_resumed", view=view, position=stall.position, event_type=stall.event_type
            )
