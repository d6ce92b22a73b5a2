"""What every view is: a name, its tables, and handlers for the events it reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import UUID

from disburse.access import client, request, user
from disburse.domain import (
    alert,
    batch,
    catalogue,
    fund,
    grant,
    organisation,
    payout,
    person,
    post,
    reservation,
    sample,
    site,
    subsidy,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from disburse.readside.db import Tx

F = TypeVar("F", bound="Callable[..., None]")

#: The aggregates whose events views may handle, by class name.
AGGREGATES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        person.Person,
        fund.Fund,
        payout.Payout,
        post.Post,
        site.Site,
        batch.PaymentBatch,
        grant.TransportGrant,
        subsidy.SubsidyApplication,
        organisation.Organisation,
        catalogue.PolicyCatalogue,
        reservation.Reservation,
        alert.AlertCase,
        client.ApiClient,
        client.ClientDirectory,
        request.RecordedRequest,
        sample.AuditSample,
        user.UserAccount,
        user.UserDirectory,
        user.SignInFailures,
        user.ConsoleSession,
        user.CodeUse,
    )
}


def register_aggregate(cls: type) -> None:
    """Let views handle the events of another aggregate (kept by its own module)."""
    AGGREGATES[cls.__name__] = cls


def event_type(event: object) -> str:
    """``Aggregate.Event``: the qualified name views dispatch on (e.g. ``Payout.Approved``)."""
    return type(event).__qualname__


def resolve_event_type(name: str) -> type:
    """The event class named ``Aggregate.Event``; ``LookupError`` if there is none."""
    aggregate_name, _, event_name = name.partition(".")
    aggregate = AGGREGATES.get(aggregate_name)
    found = getattr(aggregate, event_name, None) if aggregate is not None else None
    if not isinstance(found, type):
        raise LookupError(f"no event class {name}")  # noqa: TRY004 - a name, not a type, is wrong
    return found


def handles(*names: str) -> Callable[[F], F]:
    """Mark a view method as the handler of the named events (``Aggregate.Event``)."""

    def mark(method: F) -> F:
        method.__dict__["handles"] = names
        return method

    return mark


@dataclass(frozen=True)
class Position:
    """Where an event stands in the log, and when it was recorded."""

    position: int
    recorded_at: datetime

    @cached_property
    def at(self) -> str:
        """ISO timestamp (UTC) for storing in a view (worked out once: every view stores it)."""
        return self.recorded_at.astimezone(UTC).isoformat(timespec="microseconds")


class View:
    """A read model: rows in its own tables, advanced batch by batch from the log.

    For each batch the projector calls :meth:`begin`, then :meth:`process` for every
    event in order, then :meth:`flush`, all in one transaction.

    Handlers are deterministic functions of the events (no clock, no randomness), so
    a rebuilt view equals the live one row for row.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    schema: ClassVar[tuple[str, ...]]
    #: The view's definition: raise it whenever its tables or what its handlers write
    #: change. A store whose view was built by another version rebuilds it when the
    #: views are opened (``view_versions``), instead of serving a stale view.
    version: ClassVar[int] = 1
    #: Whether the projector pipelines the view's transactions on PostgreSQL (``Tx.write``
    #: sent without waiting). A view that writes a batch at its end (``flush``) gains
    #: nothing from it, and ``COPY`` (``Tx.insert_many``) cannot run in a pipeline.
    pipelined: ClassVar[bool] = True
    _handlers: ClassVar[dict[str, str]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                for name in getattr(value, "handles", ()):
                    found[name] = attribute
        cls._handlers = found

    @classmethod
    def handled(cls) -> frozenset[str]:
        """The event types this view reads."""
        return frozenset(cls._handlers)

    def begin(self, tx: Tx, batch: Sequence[tuple[Any, Position]]) -> None:
        """A batch starts: ``batch`` is every event :meth:`process` will be given, in order.

        A view that applies batches set-based reads here, in one query per table, the rows
        the batch will touch, and keeps its state for the batch in ``tx.memo``. The
        default keeps nothing: each event is written as it is processed.
        """

    def flush(self, tx: Tx) -> None:
        """The batch's events are processed: write what :meth:`begin` kept, a statement a table.

        Called inside the batch's transaction, before the commit; a failure here rolls
        the batch back like a failing event (the projector then applies it event by
        event, so the stall still names the event).
        """

    def process(self, tx: Tx, event: Any, where: Position) -> None:
        """Apply one event (events this view does not read change nothing)."""
        method = self._handlers.get(event_type(event))
        if method is not None:
            getattr(self, method)(tx, event, where)

    def drop(self, tx: Tx) -> None:
        """Drop this view's tables (a rebuild creates them again)."""
        for table in self.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def create(self, tx: Tx, *, indexes: bool = True) -> None:
        """Create this view's tables (and, unless told not to, their indexes) if missing.

        Tables about to be filled in bulk (a rebuild's swap) get their indexes after the
        rows: one sorted build per index instead of an insert into each per row.
        """
        for statement in self.schema:
            if indexes or not statement.startswith("CREATE INDEX"):
                tx.execute(statement)


def jsonable(value: object) -> object:
    """Event values as JSON: UUIDs and dates as text, enums as their values."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def dumps(value: object) -> str:
    """Compact, key-sorted JSON (stable text, so rebuilt rows compare equal)."""
    return json.dumps(jsonable(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
