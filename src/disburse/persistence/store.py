"""The event-sourced application: persistence, transcoding and atomic saves.

Over 400 lines: every way a command is saved (alone, in a group of concurrent requests,
in chunks of a bulk run) shares the same retry and position rules, kept in one place;
the unit of work itself is in :mod:`disburse.persistence.batching`.
"""

from __future__ import annotations

import base64
import contextvars
import importlib
import threading
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Recording,
    Transcoding,
)
from eventsourcing.popo import POPOFactory
from eventsourcing.utils import Environment, EnvType, register_topic

from disburse.domain.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PreconditionFailedError,
)
from disburse.domain.meta import Meta
from disburse.domain.text import RULE, TextError, unstorable
from disburse.persistence.batching import (
    CHUNK,
    Changes,
    GroupCommit,
    Outcome,
    Request,
    Unit,
    current_unit,
    decide_in,
)
from disburse.persistence.recorders import ChainedPOPORecorder, ChainedRecorder
from disburse.persistence.sealing import PersonKeys, SealingMapper, sealed_fields

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")
T = TypeVar("T")

#: Position in the log of the last event this context (thread, request) saved.
_last_written: ContextVar[int] = ContextVar("disburse_last_written", default=0)
#: Versions the caller expects aggregates to be at (HTTP ``If-Match``), checked on load.
_expected: ContextVar[dict[UUID, int] | None] = ContextVar("disburse_expected", default=None)
#: Builds one more aggregate from a command's result, saved in the same transaction
#: (the API's record of an idempotent request). Used once, by the next successful save.
Rider = Callable[[Any], Aggregate]
_rider: ContextVar[Rider | None] = ContextVar("disburse_rider", default=None)


class DateAsISO(Transcoding):
    """``datetime.date`` as ``YYYY-MM-DD`` (not transcoded by the library by default)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        """ISO date."""
        return obj.isoformat()

    def decode(self, data: str) -> date:
        """From ISO date."""
        return date.fromisoformat(data)


class MetaAsDict(Transcoding):
    """Event metadata (who, why, which rule, which request)."""

    type = Meta
    name = "meta"

    def encode(self, obj: Meta) -> dict[str, object]:
        """As a JSON object."""
        return obj.as_dict()

    def decode(self, data: dict[str, object]) -> Meta:
        """From a JSON object."""
        return Meta.from_dict(data)


#: Modules whose aggregates moved after events naming them were stored. A stored topic
#: (``module:Class.Event``) never changes, so each old module name resolves to the new one.
#: Names, not imports: the store is below the packages these aggregates live in.
MOVED_MODULES = {
    "disburse.domain.client": "disburse.access.client",  # stored topic
    "disburse.domain.request": "disburse.access.request",  # stored topic
}


def register_moved_topics() -> None:
    """Let stored events name the modules their aggregates lived in when they were written."""
    for old, new in MOVED_MODULES.items():
        register_topic(old, importlib.import_module(new))


class LedgerStore(Application[UUID]):
    """The ledger's event store. Configured only by the env its builder passes."""

    name = "ledger"
    log_section_size = 1000
    #: The env key holding the base64 key that wraps the per-person keys.
    PERSON_KEY_WRAP = "PERSON_KEY_WRAP"
    #: The env key that turns group commit off ("n") for this store.
    GROUP_COMMIT = "GROUP_COMMIT"

    def __init__(self, env: EnvType | None = None) -> None:
        """Open the store; personal fields are sealed under per-person keys if a wrap key is set."""
        register_moved_topics()
        super().__init__(env=env)
        wrap = self.env.get(self.PERSON_KEY_WRAP)
        self.person_keys = PersonKeys(self.chained, base64.b64decode(wrap)) if wrap else None
        assert isinstance(self.mapper, SealingMapper)  # noqa: S101 - built by construct_mapper
        self.mapper.keys = self.person_keys
        #: Concurrent callers' commands are committed together (``DISBURSE_GROUP_COMMIT``).
        self.group_commit = self.env.get(self.GROUP_COMMIT, "y") == "y"
        self.groups = GroupCommit(self._commit_group)
        #: Items per transaction of :meth:`transact_each`.
        self.chunk_size = CHUNK

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper (cipher, compressor) with personal fields sealed per person."""
        base = super().construct_mapper()
        return SealingMapper(base.transcoder, compressor=base.compressor, cipher=base.cipher)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given env: settings are the single source of configuration."""
        return Environment(name, dict(env or {}))

    def construct_recorder(self) -> ApplicationRecorder:
        """A recorder that chains every event (the env names it for SQLite and PostgreSQL)."""
        if isinstance(self.factory, POPOFactory):
            return ChainedPOPORecorder()
        return super().construct_recorder()

    @property
    def chained(self) -> ChainedRecorder:
        """The recorder, with its hash chain, digest log and person keys."""
        recorder: Any = self.recorder
        return recorder  # type: ignore[no-any-return]

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings plus dates and event metadata."""
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(MetaAsDict())

    _counter_lock = threading.Lock()
    events_written = 0  # by this process, for metrics

    @staticmethod
    @contextmanager
    def expecting(versions: dict[UUID, int]) -> Iterator[None]:
        """Commands in this block refuse to act on these aggregates at other versions."""
        token = _expected.set(versions)
        try:
            yield
        finally:
            _expected.reset(token)

    @staticmethod
    @contextmanager
    def riding(rider: Rider) -> Iterator[None]:
        """The next successful save in this block also saves ``rider(result)``."""
        token = _rider.set(rider)
        try:
            yield
        finally:
            _rider.reset(token)

    @staticmethod
    def rider_pending() -> bool:
        """Whether the rider set by :meth:`riding` has not been saved yet."""
        return _rider.get() is not None

    @staticmethod
    def forget_last_written() -> None:
        """Start a new request: nothing written yet in this context."""
        _last_written.set(0)

    @staticmethod
    def last_written() -> int:
        """Position of the last event saved in this context (0 if none): what to wait for."""
        return _last_written.get()

    def load(self, cls: type[A], aggregate_id: UUID, what: str, *, copy: bool = True) -> A:
        """The aggregate, or ``NotFoundError`` naming ``what`` was not found.

        ``copy=False``: only to read, as :meth:`read`.
        """
        found = self._get(cls, aggregate_id, copy=copy)
        if found is None:
            raise NotFoundError(
                f"{what.upper()}-NOT-FOUND", f"no {what} {aggregate_id}", field=f"{what}_id"
            )
        return found

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate, or None if there is none of that type with that id.

        A private copy, for a command to change and save.
        """
        return self._get(cls, aggregate_id, copy=True)

    def read(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate as the cache holds it, not copied: only to read, never to change.

        It costs the new events since the last read, not a copy of the whole aggregate;
        a command that changes an aggregate loads it with :meth:`find` or :meth:`load`.
        """
        return self._get(cls, aggregate_id, copy=False)

    def _get(self, cls: type[A], aggregate_id: UUID, *, copy: bool) -> A | None:
        unit = current_unit.get()
        aggregate: Any = None if unit is None else unit.lookup(aggregate_id, copy_it=copy)
        if aggregate is None:
            try:
                aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=copy)
            except AggregateNotFoundError:
                return None
            if unit is not None:
                unit.loaded(aggregate, copied=copy)
        if not isinstance(aggregate, cls):
            return None
        expected = (_expected.get() or {}).get(aggregate_id)
        if expected is not None and aggregate.version != expected:
            raise PreconditionFailedError(
                "IF-MATCH",
                f"{aggregate_id} is at version {aggregate.version}, not {expected}: "
                "reload it and decide again",
                "If-Match",
            )
        return aggregate

    def update(
        self, cls: type[A], aggregate_id: UUID, what: str, command: Callable[[A, Changes], None]
    ) -> None:
        """Load one aggregate, run ``command`` on it, and save it with whatever else it changed."""

        def decide(changes: Changes) -> None:
            aggregate = self.load(cls, aggregate_id, what)
            command(aggregate, changes)
            changes.add(aggregate)

        self.transact(decide)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Store the events, after refusing text no view could store (TEXT-INVALID).

        The API, imports and CLI clean text first; this is the last check on every path.
        """
        for event in processing_event.events:
            found = unstorable(event.__dict__, type(event).__qualname__)
            if found is not None:
                where, why = found
                field = where.rpartition(".")[2]
                raise TextError(RULE, f"{where}: {why}", field)
        if self.person_keys is not None and len(processing_event.events) > 1:
            # the keys of a chunk's new people in one transaction, not one each
            self.person_keys.prepare(
                event.originator_id for event in processing_event.events if sealed_fields(event)
            )
        return super()._record(processing_event)

    def transact(self, decide: Callable[[Changes], R], *, retry: bool = True) -> R:
        """Run ``decide`` and save what it changed, all or nothing.

        If another writer changed one of the same aggregates first, ``decide`` runs once
        more on fresh state: a command that is still allowed then succeeds, one that is
        not raises its rule error. A second conflict is reported as ``ConflictError``.

        Inside a unit (a chunk of :meth:`transact_each`, a group) the command is part of
        the unit's current item. With group commit on, commands of concurrent callers are
        committed in one transaction, each still deciding and failing on its own.
        """
        unit = current_unit.get()
        changes = None if unit is None else unit.changes
        if changes is not None:
            return decide(changes)
        if not (self.group_commit and retry):
            return self._transact_alone(decide, retry=retry)
        outcome = self.groups.run(Request(decide, contextvars.copy_context()))
        if outcome.error is not None:
            raise outcome.error
        if _rider.get() is not None:
            _rider.set(None)  # saved with the group
        if outcome.position:
            _last_written.set(outcome.position)
        return outcome.result  # type: ignore[return-value]

    def _transact_alone(self, decide: Callable[[Changes], R], *, retry: bool = True) -> R:
        attempts = 2 if retry else 1
        for attempt in range(1, attempts + 1):
            changes = Changes()
            result = decide(changes)
            rider = _rider.get()
            if rider is not None:
                changes.add(rider(result))
            try:
                recordings = self.save(*changes.aggregates)
            except IntegrityError:
                if attempt == attempts:
                    raise _conflict() from None
                continue
            if rider is not None:
                _rider.set(None)
            if recordings:
                self._wrote(recordings)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _wrote(self, recordings: Sequence[Recording[UUID]]) -> int:
        position = max(r.notification.id for r in recordings)
        _last_written.set(position)
        with self._counter_lock:
            LedgerStore.events_written += len(recordings)
        return position

    def _save_unit(self, unit: Unit) -> int:
        """Save every event the unit's items decided, in one transaction: the position."""
        if not unit.events:
            return 0
        recordings = self.save(*unit.events)  # events in item order, as one transaction
        return self._wrote(recordings) if recordings else 0

    def _decide_unit(
        self, deciders: Sequence[Callable[[Unit], Any]]
    ) -> tuple[Unit, list[Outcome[Any]]]:
        unit = Unit()
        outcomes: list[Outcome[Any]] = []
        for run in deciders:
            try:
                outcomes.append(Outcome(result=run(unit)))
            except Exception as error:  # noqa: BLE001 - the item's own outcome
                outcomes.append(Outcome(error=error))
        return unit, outcomes

    def _commit_unit(
        self,
        deciders: Sequence[Callable[[Unit], Any]],
        check: Callable[[list[Outcome[Any]]], None] = lambda _: None,
    ) -> tuple[list[Outcome[Any]], int] | None:
        """Decide the items and save them at once: their outcomes and the position.

        A save that meets another writer's change is decided again once on fresh state;
        None after a second conflict (the caller then commits the items one by one).
        ``check`` sees the outcomes before the save and may stop it by raising.
        """
        for _attempt in range(2):
            unit, outcomes = self._decide_unit(deciders)
            check(outcomes)
            try:
                position = self._save_unit(unit)
            except IntegrityError:
                continue
            return outcomes, position
        return None

    def _commit_group(self, group: list[Request[Any]]) -> None:
        """Decide every request of the group, commit them at once, give each its outcome.

        A save that meets another writer's change is decided again once on fresh state;
        a second conflict commits the requests one by one, so a conflict fails alone.
        """

        def decider(request: Request[Any]) -> Callable[[Unit], Any]:
            rider = request.context.get(_rider)
            return lambda unit: request.context.run(decide_in, unit, request.decide, rider)

        committed = self._commit_unit([decider(r) for r in group])
        if committed is not None:
            outcomes, position = committed
            for request, outcome in zip(group, outcomes, strict=True):
                outcome.position = position if outcome.error is None else 0
                request.outcome, request.done = outcome, True
            return
        for request in group:  # one by one, each with its own retry
            try:
                result = request.context.run(self._transact_alone, request.decide)
                position = request.context.get(_last_written, 0)
                request.outcome = Outcome(result=result, position=position)
            except Exception as error:  # noqa: BLE001 - the request's own outcome
                request.outcome = Outcome(error=error)
            request.done = True

    def transact_each(
        self,
        items: Iterable[T],
        decide: Callable[[T, Changes], R],
        *,
        chunk: int | None = None,
    ) -> Iterator[tuple[T, R | None, DomainError | None]]:
        """Decide ``decide(item, changes)`` for each item, ``chunk`` items per transaction.

        ``chunk`` defaults to :attr:`chunk_size`.

        Yields each item with its result or its refusal (a ``DomainError``), in order, once
        its chunk is saved. A refused item writes nothing and fails no other; a later item
        sees what earlier ones decided. Any other error stops the run: the chunk it is in
        is not saved, earlier chunks are. A chunk that meets another writer's change twice
        is committed item by item.
        """
        size = chunk or self.chunk_size
        pending: list[T] = []
        for item in items:
            pending.append(item)
            if len(pending) >= size:
                yield from self._chunk(pending, decide)
                pending = []
        if pending:
            yield from self._chunk(pending, decide)

    def _chunk(
        self, items: list[T], decide: Callable[[T, Changes], R]
    ) -> Iterator[tuple[T, R | None, DomainError | None]]:
        def decider(item: T) -> Callable[[Unit], R]:
            return lambda unit: decide_in(unit, lambda changes: decide(item, changes), None)

        def unexpected(outcomes: list[Outcome[Any]]) -> None:
            for outcome in outcomes:
                if outcome.error is not None and not isinstance(outcome.error, DomainError):
                    raise outcome.error  # a bug, not a refusal: the chunk is not saved

        committed = self._commit_unit([decider(item) for item in items], unexpected)
        if committed is not None:
            outcomes = committed[0]
        else:  # one by one, each with its own retry
            outcomes = [self._alone(item, decide) for item in items]
        for item, outcome in zip(items, outcomes, strict=True):
            refused = outcome.error
            yield item, outcome.result, refused if isinstance(refused, DomainError) else None

    def _alone(self, item: T, decide: Callable[[T, Changes], R]) -> Outcome[R]:
        def command(changes: Changes) -> R:
            return decide(item, changes)

        try:
            return Outcome(result=self._transact_alone(command))
        except DomainError as error:
            return Outcome(error=error)


def _conflict() -> ConflictError:
    return ConflictError(
        "CONCURRENT-CHANGE",
        "another command changed the same records at the same time; reload and try again",
    )
