"""Many commands, one transaction: chunks of a bulk run, and group commit of concurrent requests.

A :class:`Unit` decides commands one after another and saves all their events at once.
Each command (an *item*) works on private copies of the aggregates it loads:

- an aggregate an earlier item of the unit changed is copied from that item's result,
  so later items see earlier ones (a fund's totals, a reservation just taken);
- an item that raises leaves nothing behind: its copies are dropped, so an aggregate is
  never half-written and a refused item never fails the others;
- the events are saved in item order, each item's in the order it added its aggregates,
  exactly as if every item had been saved by itself, one after another.

:class:`GroupCommit` is the leader/follower queue that turns requests arriving together into
one unit: the thread that gets the lead takes every request waiting, decides them all,
commits once and hands each caller its own outcome. A request that finds no one waiting
leads at once, so at low load nobody waits for anybody.
"""

from __future__ import annotations

import copy
import threading
from contextlib import contextmanager
from contextvars import Context, ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from disburse.domain.errors import ConflictError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from uuid import UUID

    from eventsourcing.domain import Aggregate, DomainEventProtocol

R = TypeVar("R")
#: Items per transaction in bulk runs (``LedgerStore.transact_each``, file imports).
CHUNK = 250


class Changes:
    """The aggregates one command changed; saved together in one transaction."""

    def __init__(self) -> None:
        self.aggregates: list[Aggregate] = []

    def add(self, *aggregates: Aggregate) -> None:
        """Include these aggregates' new events in the atomic save."""
        self.aggregates.extend(aggregates)


@dataclass
class _Item:
    """One command being decided inside a unit: the private copies it took."""

    changes: Changes = field(default_factory=Changes)
    copies: dict[UUID, Aggregate] = field(default_factory=dict)


class Unit:
    """Items decided one after another, saved in one transaction."""

    def __init__(self) -> None:
        self.working: dict[UUID, Aggregate] = {}  # as the unit's items left them
        self.events: list[DomainEventProtocol[UUID]] = []  # in the order they are saved
        self.reads: dict[UUID, Aggregate] = {}  # read (not changed) by the unit's items
        self._item: _Item | None = None

    def lookup(self, aggregate_id: UUID, *, copy_it: bool) -> Aggregate | None:
        """The aggregate as this unit holds it (None if the store must load it).

        A command's load returns the item's own copy, taken from what earlier items
        left; a read returns that state uncopied.
        """
        item = self._item
        if item is None:
            return None
        found = item.copies.get(aggregate_id)
        if found is not None:
            return found
        held = self.working.get(aggregate_id)
        if not copy_it:  # read once per unit, not once per item
            return held if held is not None else self.reads.get(aggregate_id)
        if held is None:
            return None
        mine = copy.deepcopy(held)
        item.copies[aggregate_id] = mine
        return mine

    def loaded(self, aggregate: Aggregate, *, copied: bool) -> None:
        """The store loaded an aggregate for the current item.

        A private copy stays the item's; an aggregate only read is read again by the
        unit's later items without asking the store (the unit is saved as one
        transaction, so its reads are of one moment anyway).
        """
        if self._item is None:
            return
        if copied:
            self._item.copies[aggregate.id] = aggregate
        else:
            self.reads[aggregate.id] = aggregate

    @property
    def changes(self) -> Changes | None:
        """The current item's changes (a nested ``transact`` adds to them)."""
        return None if self._item is None else self._item.changes

    def decide(self, decide: Callable[[Changes], R], rider: Callable[[R], Aggregate] | None) -> R:
        """Decide one item; keep its events if it succeeds, drop everything it did if not."""
        item = _Item()
        self._item = item
        try:
            result = decide(item.changes)
            if rider is not None:
                item.changes.add(rider(result))
            events: list[DomainEventProtocol[UUID]] = []
            done: dict[UUID, Aggregate] = {}
            for aggregate in item.changes.aggregates:
                if done.get(aggregate.id) is aggregate:
                    continue
                pending = aggregate.collect_events()
                if (
                    pending
                    and pending[0].originator_version == type(aggregate).INITIAL_VERSION
                    and aggregate.id in self.working
                ):
                    raise ConflictError(
                        "CONCURRENT-CHANGE",
                        "another command created the same record at the same time; "
                        "reload and try again",
                    )
                done[aggregate.id] = aggregate
                events.extend(pending)
        finally:
            self._item = None
        self.working.update(done)
        self.events.extend(events)
        return result


#: The unit the current context decides its commands in (None: each command saves itself).
current_unit: ContextVar[Unit | None] = ContextVar("disburse_unit", default=None)


def decide_in(
    unit: Unit, decide: Callable[[Changes], R], rider: Callable[[R], Aggregate] | None
) -> R:
    """Decide one item of ``unit`` with the unit visible to the store's loads."""
    token = current_unit.set(unit)
    try:
        return unit.decide(decide, rider)
    finally:
        current_unit.reset(token)


@dataclass
class Outcome(Generic[R]):
    """What one item came to: its result or its error, and where its events were saved."""

    result: R | None = None
    error: BaseException | None = None
    position: int = 0


@dataclass
class Request(Generic[R]):
    """One caller's command waiting to be committed with others."""

    decide: Callable[[Changes], R]
    context: Context
    done: bool = False
    outcome: Outcome[R] = field(default_factory=Outcome)


class GroupCommit:
    """Commits the commands of concurrent callers together, each with its own outcome."""

    def __init__(self, commit: Callable[[list[Request[Any]]], None]) -> None:
        self._commit = commit
        self._waiting: list[Request[Any]] = []
        self._queue = threading.Lock()
        self._lead = threading.Lock()
        self.groups = 0  # groups committed, and requests in them, for metrics and benchmarks
        self.requests = 0

    @property
    def waiting(self) -> int:
        """Requests queued for the next group."""
        with self._queue:
            return len(self._waiting)

    @contextmanager
    def held(self) -> Iterator[None]:
        """No group commits in this block: requests queue and go as one group after it."""
        with self._lead:
            yield

    def run(self, request: Request[R]) -> Outcome[R]:
        """Queue ``request``; lead a group if no one has taken it yet; return its outcome."""
        with self._queue:
            self._waiting.append(request)
        with self._lead:
            if not request.done:
                with self._queue:
                    group, self._waiting = self._waiting, []
                try:
                    self._commit(group)
                except BaseException as error:  # handed to every caller of the group
                    failure = error if isinstance(error, Exception) else _interrupted()
                    for each in group:
                        if not each.done:
                            each.outcome, each.done = Outcome(error=failure), True
                    if failure is not error:
                        raise
                self.groups += 1
                self.requests += len(group)
        if not request.done:  # never left without an answer, even by a failed leader
            return Outcome(error=_interrupted())
        return request.outcome


def _interrupted() -> Exception:
    return RuntimeError("the transaction this command was part of was interrupted")
