"""The projector: reads the event log in order and advances each view exactly once.

Each batch of events is applied to a view in one transaction that also moves the view's
position forward with a compare-and-set. A crash rolls the whole batch back; a restart
resumes after the last committed position; a second worker racing for the same batch
finds the position moved and applies nothing.

Over 400 lines on purpose: set-up, catch-up, the per-event stall and the rebuild share
one lock and one position protocol; split, each would need the others' invariants.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
import structlog

from disburse.readside import stalls as book
from disburse.readside.base import Position, event_type

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from eventsourcing.application import Application
    from eventsourcing.persistence import Notification

    from disburse.readside.base import View
    from disburse.readside.db import Tx, ViewDB
    from disburse.readside.stalls import Skip, Stall

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS view_positions ("
    " view_name TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL)"
)
log = structlog.get_logger("disburse.readside")

#: The version of each view's definition its tables were built by (``View.version``).
VERSIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS view_versions ("
    " view_name TEXT PRIMARY KEY,"
    " version INTEGER NOT NULL)"
)
DEFAULT_BATCH = 500
#: Failures of the database itself (locked, unreachable, a lost connection): every view
#: would fail alike, so the batch is retried later instead of blamed on an event.
TRANSIENT = (sqlite3.OperationalError, psycopg.OperationalError, psycopg.InterfaceError)


class ViewLagError(TimeoutError):
    """A view did not reach the requested position within the timeout."""

    rule_id = "VIEW-LAG"

    def __init__(
        self, view: str, reached: int, wanted: int, timeout: float, stall: Stall | None = None
    ) -> None:
        if stall is None:
            message = f"view {view} reached position {reached}, not {wanted}, within {timeout:g} s"
        else:
            message = (
                f"view {view} is stalled on the event at position {stall.position} "
                f"({stall.event_type}): it reached position {reached}, not {wanted}"
            )
        super().__init__(message)
        self.view, self.reached, self.wanted, self.stall = view, reached, wanted, stall


@dataclass(frozen=True)
class ViewStatus:
    """One view's position against the head of the log."""

    name: str
    position: int
    head: int
    stall: Stall | None = None

    @property
    def lag(self) -> int:
        """Events recorded but not yet in the view."""
        return max(self.head - self.position, 0)


class _Overtaken(Exception):  # noqa: N818 - control flow, never escapes
    """Another worker advanced the view first."""


@dataclass(frozen=True)
class Undecodable:
    """A stored event that cannot be read back; only views that read its type fail on it."""

    event_type: str
    error: Exception


class Projector:
    """Keeps a set of views up to date with the ledger's log."""

    def __init__(
        self,
        store: Application[Any],
        db: ViewDB,
        views: Sequence[View],
        *,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.store = store
        self.db = db
        self.views = {view.name: view for view in views}
        self.batch_size = batch_size
        self.last_error: str | None = None
        #: Views rebuilt by ``setup`` because their definition changed: name -> (was, now).
        self.upgraded: dict[str, tuple[int, int]] = {}
        self._work = threading.Lock()
        self.book = book.StallBook(db)
        #: The positions of the batch being applied, made once for all the views.
        self._positions: dict[int, Position] = {}

    # -- set-up and status ------------------------------------------------------------------

    def setup(self, *, attempts: int = 3) -> None:
        """Create the view tables and position rows that do not exist yet.

        Two processes starting at once on a new PostgreSQL schema can collide inside
        ``CREATE TABLE IF NOT EXISTS``; the loser tries again and finds the tables.
        """
        for attempt in range(1, attempts + 1):
            try:
                self._create()
            except Exception:  # retried; the last failure is raised
                if attempt == attempts:
                    raise
                time.sleep(0.1 * attempt)
            else:
                return

    def _create(self) -> None:
        with self.db.transaction() as tx:
            tx.execute(POSITIONS_DDL)
            tx.execute(VERSIONS_DDL)
            for statement in book.DDL:
                tx.execute(statement)
            built = {
                row["view_name"]: int(row["version"])
                for row in tx.all("SELECT view_name, version FROM view_versions")
            }
            started = {row["view_name"] for row in tx.all("SELECT view_name FROM view_positions")}
            for view in self.views.values():
                # a view built before views had versions was built by version 1
                was = built.get(view.name, 1 if view.name in started else view.version)
                if was != view.version:
                    self.upgraded[view.name] = (was, view.version)
                    self._reset(tx, view)
                    log.info("view_upgraded", view=view.name, was=was, version=view.version)
                view.create(tx)
                tx.execute(
                    "INSERT INTO view_positions (view_name, position) VALUES (:v, 0) "
                    "ON CONFLICT (view_name) DO NOTHING",
                    {"v": view.name},
                )
                self._built_by(tx, view)

    @staticmethod
    def _reset(tx: Tx, view: View, position: int = 0, *, indexes: bool = True) -> None:
        """Drop the view and start it again, empty, at ``position`` (the log's beginning)."""
        book.clear_stall(tx, view.name)
        view.drop(tx)
        view.create(tx, indexes=indexes)
        tx.execute(
            "INSERT INTO view_positions (view_name, position) VALUES (:v, :p) "
            "ON CONFLICT (view_name) DO UPDATE SET position = excluded.position",
            {"v": view.name, "p": position},
        )

    @staticmethod
    def _built_by(tx: Tx, view: View) -> None:
        """Record that the view's tables were built by its current definition."""
        tx.execute(
            "INSERT INTO view_versions (view_name, version) VALUES (:v, :n) "
            "ON CONFLICT (view_name) DO UPDATE SET version = excluded.version",
            {"v": view.name, "n": view.version},
        )

    def versions(self) -> dict[str, int]:
        """The version each view's tables were built by."""
        with self.db.read() as tx:
            rows = tx.all("SELECT view_name, version FROM view_versions")
        return {row["view_name"]: int(row["version"]) for row in rows}

    def view(self, name: str) -> View:
        """The view called ``name``; ``KeyError`` listing the known names otherwise."""
        try:
            return self.views[name]
        except KeyError:
            raise KeyError(f"no view {name!r}; views: {', '.join(sorted(self.views))}") from None

    def head(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        return self.store.recorder.max_notification_id() or 0

    def positions(self) -> dict[str, int]:
        """Each view's last applied position."""
        with self.db.read() as tx:
            rows = tx.all("SELECT view_name, position FROM view_positions")
        known = {row["view_name"]: int(row["position"]) for row in rows}
        return {name: known.get(name, 0) for name in self.views}

    def status(self) -> list[ViewStatus]:
        """Positions, lag and stall of every view."""
        head = self.head()
        stalled = self.stalls()
        return [
            ViewStatus(name, pos, head, stalled.get(name))
            for name, pos in sorted(self.positions().items())
        ]

    def stalls(self) -> dict[str, Stall]:
        """The views stopped on an event they cannot apply, by name."""
        return {k: v for k, v in self.book.stalls().items() if k in self.views}

    def skips(self, name: str | None = None) -> list[Skip]:
        """The events operators told views to pass over (of one view, or all)."""
        return self.book.skips(name)

    def skip(self, name: str, position: int, *, reason: str, by: str) -> Skip:
        """Pass over the event a view is stalled on, keeping who did it and why for good.

        Refused (``SkipRefusedError``) unless the view is stalled at ``position``.
        """
        self.view(name)
        with self._work:
            return self.book.skip(name, position, reason=reason, by=by)

    # -- processing -------------------------------------------------------------------------

    def catch_up(
        self,
        *,
        until: int | None = None,
        names: Iterable[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Apply every event after each view's position (up to ``until``); returns how many.

        A view that cannot apply an event stops just before it (a stall, kept and logged
        as ``view_stalled``) and is tried again on the next call; the others go on.
        ``progress(done, total)`` is called after every batch.
        """
        chosen = [self.view(n) for n in names] if names is not None else list(self.views.values())
        done = 0
        with self._work:
            target = self.head() if until is None else until
            stalled, skips = self.book.stalls(), self.book.skips()
            skipped = {
                v.name: frozenset(s.position for s in skips if s.view == v.name) for v in chosen
            }
            positions = self.positions()
            start = min((positions[v.name] for v in chosen), default=target)
            total = max(target - start, 0)
            active = list(chosen)
            while active:
                positions = self.positions()
                lowest = min(positions[v.name] for v in active)
                if lowest >= target:
                    break
                batch = self.store.recorder.select_notifications(
                    start=lowest, limit=self.batch_size, stop=target, inclusive_of_start=False
                )
                if not batch:
                    break
                events = [(n, self._decode(n)) for n in batch]
                self._positions = {}
                for view in list(active):
                    if not self._apply_or_stall(
                        view, positions[view.name], events, skipped[view.name], stalled
                    ):
                        active.remove(view)
                done = batch[-1].id - start
                if progress is not None:
                    progress(min(done, total), total)
        return done

    def _decode(self, notification: Notification) -> Any:
        try:
            return self.store.mapper.to_domain_event(notification)
        except Exception as error:  # noqa: BLE001 - blamed on the views that read it
            return Undecodable(notification.topic.partition(":")[2], error)

    def apply(
        self,
        view: View,
        position: int,
        events: list[tuple[Notification, Any]],
        skipped: frozenset[int] = frozenset(),
    ) -> bool:
        """Apply the events after ``position`` to a view that is still at ``position``.

        Returns False, changing nothing, when the view has moved on (another worker, or a
        replay of positions already applied): each event is applied exactly once. Events
        at ``skipped`` positions (operators' skips) move the position on and nothing else.
        The view is told where the batch begins and ends (``View.begin``, ``View.flush``),
        so it can read the batch's rows at once and write them a statement per table.
        """
        pending = [(n, e) for n, e in events if n.id > position]
        if not pending:
            return False
        try:
            with self.db.transaction(pipelined=view.pipelined) as tx:
                self._advance(tx, view.name, position, pending[-1][0].id)
                batch: list[tuple[Any, Position]] = []
                for notification, event in pending:
                    if notification.id in skipped:
                        continue
                    if isinstance(event, Undecodable):
                        if event.event_type in view.handled():
                            raise event.error
                        continue
                    where = self._positions.get(notification.id)
                    if where is None:
                        where = Position(notification.id, event.timestamp)
                        self._positions[notification.id] = where
                    batch.append((event, where))
                view.begin(tx, batch)
                for event, where in batch:
                    view.process(tx, event, where)
                view.flush(tx)
        except _Overtaken:
            return False  # another worker applied these events; the next round reads it
        return True

    def _apply_or_stall(
        self,
        view: View,
        position: int,
        events: list[tuple[Notification, Any]],
        skipped: frozenset[int],
        stalled: dict[str, Stall],
    ) -> bool:
        """Apply a batch; if it fails, apply it event by event up to the one that fails.

        Returns False when the view stalled on an event (kept in ``stalled``).
        """
        try:
            moved = self.apply(view, position, events, skipped)
        except TRANSIENT:
            raise
        except Exception:  # noqa: BLE001 - one event must not stop every view
            moved = False
            for notification, event in events:
                if notification.id <= position:
                    continue
                try:
                    moved = self.apply(view, position, [(notification, event)], skipped)
                except TRANSIENT:
                    raise
                except Exception as error:  # noqa: BLE001 - kept as the view's stall
                    kind = event.event_type if isinstance(event, Undecodable) else event_type(event)
                    self.book.stalled(view.name, notification.id, kind, error, stalled)
                    return False
                if not moved:
                    break  # another worker is applying this view
                position = notification.id
        stall = stalled.get(view.name)
        if moved and stall is not None and events[-1][0].id >= stall.position:
            self.book.resumed(view.name, stalled)
        return True

    @staticmethod
    def _advance(tx: Tx, name: str, old: int, new: int) -> None:
        changed = tx.execute(
            "UPDATE view_positions SET position = :new WHERE view_name = :v AND position = :old",
            {"v": name, "old": old, "new": new},
        )
        if changed != 1:
            raise _Overtaken

    def rebuild(
        self,
        names: Iterable[str] | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Rebuild the named views (all by default) from the start of the log.

        Without downtime: the views are built afresh beside the live ones (``ViewDB.scratch``)
        while the live ones keep answering and keep up; then, under the projector's lock,
        the fresh ones catch up with what was recorded meanwhile and replace the live ones
        in one transaction. Queries see the old views until that commit and the rebuilt
        ones after it. A memory store is rebuilt in place. Returns the events applied.
        """
        chosen = [self.view(n) for n in names] if names is not None else list(self.views.values())
        with self.db.scratch() as scratch:
            if scratch is None:
                return self._rebuild_in_place(chosen, progress)
            fresh = Projector(self.store, scratch, chosen, batch_size=self.batch_size)
            fresh.setup()
            with scratch.transaction() as tx:
                for skip in self.book.skips():
                    if skip.view in fresh.views:
                        book.copy_skip(tx, skip)
            done = fresh.catch_up(progress=progress)
            with self._work:
                done += fresh.catch_up()  # what was recorded while it was built
                self._swap(scratch, fresh)
        log.info("views_rebuilt", views=[v.name for v in chosen], events=done)
        return done

    def _swap(self, scratch: ViewDB, fresh: Projector) -> None:
        """Replace the live views by the fresh ones, with their positions and stalls."""
        positions, stalled = fresh.positions(), fresh.stalls()
        with self.db.swapping(scratch) as (tx, source):
            for view in fresh.views.values():
                self._reset(tx, view, positions[view.name], indexes=False)
                for table in view.tables:
                    tx.execute(f"INSERT INTO {table} SELECT * FROM {source}.{table}")
                view.create(tx)  # the indexes, once the rows are in
                self._built_by(tx, view)
                if view.name in stalled:
                    book.record_stall(tx, stalled[view.name])

    def _rebuild_in_place(
        self, chosen: list[View], progress: Callable[[int, int], None] | None
    ) -> int:
        with self._work, self.db.transaction() as tx:
            tx.execute(POSITIONS_DDL)
            for statement in book.DDL:
                tx.execute(statement)
            for view in chosen:
                self._reset(tx, view)
        return self.catch_up(names=[v.name for v in chosen], progress=progress)

    def wait(
        self,
        position: int,
        *,
        timeout: float = 5.0,
        poll: float = 0.02,
        names: Iterable[str] | None = None,
    ) -> None:
        """Block until every view (or the named ones) has applied ``position``.

        Raises :class:`ViewLagError` naming the slowest view when the timeout passes, and
        at once when that view is stalled on an event at or before ``position``.
        """
        chosen = [self.view(n).name for n in names] if names else list(self.views)
        deadline = time.monotonic() + timeout
        checked = False
        while True:
            positions = self.positions()
            behind = {n: positions[n] for n in chosen if positions[n] < position}
            if not behind:
                return
            slowest = min(behind, key=behind.__getitem__)
            if not checked:
                checked = True
                stalled = self.stalls()
                blocked = [s for n, s in stalled.items() if n in behind and s.position <= position]
                if blocked:
                    stall = blocked[0]
                    raise ViewLagError(stall.view, behind[stall.view], position, 0, stall)
            if time.monotonic() >= deadline:
                raise ViewLagError(slowest, behind[slowest], position, timeout)
            time.sleep(poll)
