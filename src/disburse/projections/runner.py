"""The projector: reads the event log in order and advances each view exactly once.

Each batch of events is applied to a view in one transaction that also moves the view's
position forward with a compare-and-set. A crash rolls the whole batch back; a restart
resumes after the last committed position; a second worker racing for the same batch
finds the position moved and applies nothing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from disburse.projections.base import Position

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from eventsourcing.application import Application
    from eventsourcing.persistence import Notification

    from disburse.projections.base import View
    from disburse.projections.db import Tx, ViewDB

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS view_positions ("
    " view_name TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL)"
)
DEFAULT_BATCH = 500
log = structlog.get_logger("disburse.projections")


class ViewLagError(TimeoutError):
    """A view did not reach the requested position within the timeout."""

    rule_id = "VIEW-LAG"

    def __init__(self, view: str, reached: int, wanted: int, timeout: float) -> None:
        super().__init__(
            f"view {view} reached position {reached}, not {wanted}, within {timeout:g} s"
        )
        self.view, self.reached, self.wanted = view, reached, wanted


@dataclass(frozen=True)
class ViewStatus:
    """One view's position against the head of the log."""

    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        """Events recorded but not yet in the view."""
        return max(self.head - self.position, 0)


class _Overtaken(Exception):  # noqa: N818 - control flow, never escapes
    """Another worker advanced the view first."""


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
        self._work = threading.Lock()

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
            for view in self.views.values():
                view.create(tx)
                tx.execute(
                    "INSERT INTO view_positions (view_name, position) VALUES (:v, 0) "
                    "ON CONFLICT (view_name) DO NOTHING",
                    {"v": view.name},
                )

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
        """Positions and lag of every view."""
        head = self.head()
        return [ViewStatus(name, pos, head) for name, pos in sorted(self.positions().items())]

    # -- processing -------------------------------------------------------------------------

    def catch_up(
        self,
        *,
        until: int | None = None,
        names: Iterable[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Apply every event after each view's position (up to ``until``); returns how many.

        ``progress(done, total)`` is called after every batch.
        """
        chosen = [self.view(n) for n in names] if names is not None else list(self.views.values())
        done = 0
        with self._work:
            target = self.head() if until is None else until
            positions = self.positions()
            start = min((positions[v.name] for v in chosen), default=target)
            total = max(target - start, 0)
            while True:
                positions = self.positions()
                lowest = min((positions[v.name] for v in chosen), default=target)
                if lowest >= target:
                    break
                batch = self.store.recorder.select_notifications(
                    start=lowest, limit=self.batch_size, stop=target, inclusive_of_start=False
                )
                if not batch:
                    break
                events = [(n, self.store.mapper.to_domain_event(n)) for n in batch]
                for view in chosen:
                    self.apply(view, positions[view.name], events)
                done = batch[-1].id - start
                if progress is not None:
                    progress(min(done, total), total)
        return done

    def apply(self, view: View, position: int, events: list[tuple[Notification, Any]]) -> bool:
        """Apply the events after ``position`` to a view that is still at ``position``.

        Returns False, changing nothing, when the view has moved on (another worker, or a
        replay of positions already applied): each event is applied exactly once.
        """
        pending = [(n, e) for n, e in events if n.id > position]
        if not pending:
            return False
        try:
            with self.db.transaction() as tx:
                self._advance(tx, view.name, position, pending[-1][0].id)
                for notification, event in pending:
                    view.process(tx, event, Position(notification.id, event.timestamp))
        except _Overtaken:
            return False  # another worker applied these events; the next round reads it
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
        """Drop the named views (all by default) and rebuild them from the start of the log."""
        chosen = [self.view(n) for n in names] if names is not None else list(self.views.values())
        with self._work, self.db.transaction() as tx:
            tx.execute(POSITIONS_DDL)
            for view in chosen:
                view.drop(tx)
                view.create(tx)
                tx.execute(
                    "INSERT INTO view_positions (view_name, position) VALUES (:v, 0) "
                    "ON CONFLICT (view_name) DO UPDATE SET position = 0",
                    {"v": view.name},
                )
        return self.catch_up(names=[v.name for v in chosen], progress=progress)

    def wait(self, position: int, *, timeout: float = 5.0, poll: float = 0.02) -> None:
        """Block until every view has applied ``position`` (read-your-writes).

        Raises :class:`ViewLagError` naming the slowest view when the timeout passes.
        """
        deadline = time.monotonic() + timeout
        while True:
            positions = self.positions()
            slowest = min(positions, key=positions.__getitem__, default=None)
            if slowest is None or positions[slowest] >= position:
                return
            if time.monotonic() >= deadline:
                raise ViewLagError(slowest, positions[slowest], position, timeout)
            time.sleep(poll)

    def run(
        self,
        stop: threading.Event,
        *,
        interval: float = 0.2,
        names: Iterable[str] | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        """Follow the log until ``stop`` is set, polling every ``interval`` seconds when idle.

        A failing batch (a locked database, a lost connection, a bug in a handler) was
        rolled back whole; the worker logs it, keeps it as :attr:`last_error`, waits
        (doubling up to ``max_backoff``) and tries again rather than dying silently.
        """
        backoff = interval
        while not stop.is_set():
            try:
                applied = self.catch_up(names=names)
            except Exception as error:  # noqa: BLE001 - a worker outlives any one failed batch
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("projection_batch_failed", error=self.last_error, retry_in=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            self.last_error = None
            backoff = interval
            if applied == 0:
                stop.wait(interval)


class BackgroundProjector:
    """Runs a projector in a daemon thread inside the service (the SQLite default)."""

    def __init__(self, projector: Projector, *, interval: float = 0.2) -> None:
        self.projector = projector
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start following the log."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.projector.run,
                args=(self._stop,),
                kwargs={"interval": self.interval},
                name="disburse-projector",
                daemon=True,
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
