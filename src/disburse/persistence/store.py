"""The event-sourced application: persistence, transcoding and atomic saves."""

from __future__ import annotations

import base64
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

from disburse.domain.errors import ConflictError, NotFoundError, PreconditionFailedError
from disburse.domain.meta import Meta
from disburse.domain.text import RULE, TextError, unstorable
from disburse.persistence.recorders import ChainedPOPORecorder, ChainedRecorder
from disburse.persistence.sealing import PersonKeys, SealingMapper

if TYPE_CHECKING:
    from collections.abc import Iterator

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

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


class Changes:
    """The aggregates one command changed; saved together in one transaction."""

    def __init__(self) -> None:
        self.aggregates: list[Aggregate] = []

    def add(self, *aggregates: Aggregate) -> None:
        """Include these aggregates' new events in the atomic save."""
        self.aggregates.extend(aggregates)


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

    def __init__(self, env: EnvType | None = None) -> None:
        """Open the store; personal fields are sealed under per-person keys if a wrap key is set."""
        register_moved_topics()
        super().__init__(env=env)
        wrap = self.env.get(self.PERSON_KEY_WRAP)
        self.person_keys = PersonKeys(self.chained, base64.b64decode(wrap)) if wrap else None
        assert isinstance(self.mapper, SealingMapper)  # noqa: S101 - built by construct_mapper
        self.mapper.keys = self.person_keys

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
        try:
            aggregate: Any = self.repository.get(aggregate_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            return None
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
        return super()._record(processing_event)

    def transact(self, decide: Callable[[Changes], R], *, retry: bool = True) -> R:
        """Run ``decide`` and save what it changed, all or nothing.

        If another writer changed one of the same aggregates first, ``decide`` runs once
        more on fresh state: a command that is still allowed then succeeds, one that is
        not raises its rule error. A second conflict is reported as ``ConflictError``.
        """
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
                    raise ConflictError(
                        "CONCURRENT-CHANGE",
                        "another command changed the same records at the same time; "
                        "reload and try again",
                    ) from None
                continue
            if rider is not None:
                _rider.set(None)
            if recordings:
                _last_written.set(max(r.notification.id for r in recordings))
                with self._counter_lock:
                    LedgerStore.events_written += len(recordings)
            return result
        raise AssertionError("unreachable")  # pragma: no cover
