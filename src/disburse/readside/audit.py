"""The audit trail: every event of the log, who did it, why, and what it touched.

One row per event (``audit_events``) with its metadata and its public payload (personal
data removed, see :mod:`disburse.readside.redact`), and links (``audit_links``) from
every entity an event concerns to the event: its originator, every UUID in a payload
field named ``*_id`` or ``*_ids``, and the payouts of a payment batch. An entity's trail
therefore includes what other entities recorded about it: a person's trail holds their
appointments and the payouts to them; a payout's trail holds its fund postings and the
batches it went out in. Read it with :class:`disburse.readside.audit_queries.AuditQueries`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import CanInitAggregate, DomainEvent

from disburse.domain.person import ERASED, IDENTITY_FIELDS
from disburse.readside.base import (
    AGGREGATES,
    Position,
    View,
    dumps,
    event_type,
    handles,
    jsonable,
)
from disburse.readside.batch import Rows, Table
from disburse.readside.redact import public_payload

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from disburse.readside.db import Tx

ORIGINATOR = "originator"
#: Events whose payload field maps payout ids (as keys) to amounts.
_PAYOUT_KEYED = {"PaymentBatch.Released": "lines"}
#: What :func:`disburse.readside.base.dumps` writes, for values already JSON-ready (a
#: public payload): the same text without converting them again or a new encoder per call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=jsonable
)
#: A UUID as ``str(UUID(...))`` writes it, which it therefore already is.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


_EVENTS = Table(
    "audit_events",
    ("position",),
    (
        "position",
        "entity_id",
        "entity_type",
        "version",
        "event_type",
        "recorded_at",
        "actor_id",
        "role",
        "client_id",
        "request_id",
        "reason",
        "rule_ids",
        "policy_version",
        "payload",
        "region_code",
    ),
)
_LINKS = Table("audit_links", ("entity_id", "position"), ("entity_id", "position", "via"))
_REGIONS = Table("audit_regions", ("entity_id",), ("entity_id", "region_code"))


@dataclasses.dataclass
class _Batch:
    """What the audit view keeps while it applies one batch (see :mod:`.batch`)."""

    regions: Rows
    #: Each event's type, entity, public payload and links, by position, from ``begin``.
    prepared: dict[int, tuple[str, str, dict[str, object], dict[str, str]]]
    events: list[dict[str, object]] = dataclasses.field(default_factory=list)
    links: list[dict[str, object]] = dataclasses.field(default_factory=list)


class AuditView(View):
    """Every event of the log, with its metadata, public payload and the entities it names.

    Unlike other views it reads every event type, including those of aggregates added
    later: :meth:`process` records each event before dispatching to any ``@handles``
    method, and :meth:`handled` lists every event type of the registered aggregates.

    A batch is applied set-based: :meth:`begin` works out every event's links and reads
    the regions of all the entities they name in one query; the events, links and new
    regions are appended in memory and written by :meth:`flush`, one ``executemany``
    per table.
    """

    name = "audit"
    tables = ("audit_events", "audit_links", "audit_regions")
    pipelined = False  # a batch is written at its end, by COPY on PostgreSQL
    schema: ClassVar[tuple[str, ...]] = (
        "CREATE TABLE IF NOT EXISTS audit_events ("
        " position BIGINT PRIMARY KEY, entity_id TEXT NOT NULL, entity_type TEXT NOT NULL,"
        " version BIGINT NOT NULL, event_type TEXT NOT NULL, recorded_at TEXT NOT NULL,"
        " actor_id TEXT NOT NULL, role TEXT NOT NULL, client_id TEXT NOT NULL,"
        " request_id TEXT NOT NULL, reason TEXT, rule_ids TEXT NOT NULL,"
        " policy_version TEXT, payload TEXT NOT NULL, region_code TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor_id, position)",
        "CREATE INDEX IF NOT EXISTS audit_events_region ON audit_events (region_code, position)",
        "CREATE TABLE IF NOT EXISTS audit_regions ("
        " entity_id TEXT PRIMARY KEY, region_code TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS audit_links ("
        " entity_id TEXT NOT NULL, position BIGINT NOT NULL, via TEXT NOT NULL,"
        " PRIMARY KEY (entity_id, position))",
    )

    @classmethod
    def handled(cls) -> frozenset[str]:
        """Every event type of the registered aggregates (the view records them all)."""
        return frozenset(_all_event_types()) | super().handled()

    def begin(self, tx: Tx, batch: Sequence[tuple[Any, Position]]) -> None:
        """Work out each event's links, and read the regions of every entity they name."""
        state = _Batch(Rows(_REGIONS), {})
        named: dict[str, None] = {}
        for event, where in batch:
            prepared = _prepare(event)
            state.prepared[where.position] = prepared
            named.update(dict.fromkeys(prepared[3]))
        state.regions.load(tx, "entity_id", named)
        tx.memo[self.name] = state

    def flush(self, tx: Tx) -> None:
        """Write the batch's events, links and new regions: one statement per table."""
        state = self._batch(tx)
        _EVENTS.insert(tx, state.events)
        _LINKS.insert(tx, state.links)
        state.regions.flush(tx)
        del tx.memo[self.name]

    def process(self, tx: Tx, event: Any, where: Position) -> None:
        """Record the event and link it to the entities it names, whatever its type."""
        self._record(tx, event, where)
        super().process(tx, event, where)

    @handles("Person.IdentityErased")
    def _identity_erased(self, tx: Tx, event: Any, where: Position) -> None:
        """The masked identity already shown for the person's events is erased too."""
        entity = str(event.originator_id)
        for name, fields in IDENTITY_FIELDS.items():
            for row in self._batch(tx).events:  # this batch's, not written yet
                if row["entity_id"] == entity and row["event_type"] == name:
                    row["payload"] = _erased(str(row["payload"]), fields)
            rows = tx.all(
                "SELECT position, payload FROM audit_events"
                " WHERE entity_id = :e AND event_type = :t",
                {"e": entity, "t": name},
            )
            for row in rows:
                tx.write(
                    "UPDATE audit_events SET payload = :payload WHERE position = :p",
                    {"payload": _erased(str(row["payload"]), fields), "p": row["position"]},
                )

    def _batch(self, tx: Tx) -> _Batch:
        state: _Batch = tx.memo[self.name]
        return state

    def _record(self, tx: Tx, event: Any, where: Position) -> None:
        state = self._batch(tx)
        prepared = state.prepared.pop(where.position, None) or _prepare(event)
        name, entity, payload, related = prepared
        meta = getattr(event, "meta", None)  # every domain event has it; be safe regardless
        # A review sample names its region itself; a nationwide one ("") belongs to none,
        # not to the region of the first payout it picked.
        nationwide = name.startswith("AuditSample.") and not payload.get("region_code")
        region = "" if nationwide else self._region(tx, state.regions, entity, payload, related)
        rule_ids = [] if meta is None else list(meta.rule_ids)
        state.events.append(
            {
                "position": where.position,
                "entity_id": entity,
                "entity_type": name.partition(".")[0],
                "version": event.originator_version,
                "event_type": name,
                "recorded_at": where.at,
                "actor_id": "" if meta is None else meta.actor_id,
                "role": "" if meta is None else str(meta.role),
                "client_id": "" if meta is None else meta.client_id,
                "request_id": "" if meta is None else meta.request_id,
                "reason": None if meta is None else meta.reason,
                "rule_ids": _encode(rule_ids) if rule_ids else "[]",
                "policy_version": None if meta is None else meta.policy_version,
                "payload": _encode(payload),
                "region_code": region,
            }
        )
        state.links.extend(
            {"entity_id": entity_id, "position": where.position, "via": via}
            for entity_id, via in related.items()
        )

    @staticmethod
    def _region(
        tx: Tx,
        known: Rows,
        entity_id: str,
        payload: Mapping[str, object],
        related: dict[str, str],
    ) -> str:
        """The region of the event's entity, learnt once and kept (``""`` if it has none).

        An entity's region is the ``region_code`` or ``home_region`` of its first event that
        states one, else the region of the first entity it names that has one (a grant is
        its person's, a batch its fund's, a reservation its holder's).
        """
        row = known.get(tx, entity_id)
        if row is not None:
            return str(row["region_code"])
        stated = payload.get("region_code") or payload.get("home_region")
        region = stated if isinstance(stated, str) else ""
        if not region:
            for other in related:
                if other == entity_id:
                    continue
                found = known.get(tx, other)
                region = "" if found is None else str(found["region_code"])
                if region:
                    break
        if region:
            known.insert({"entity_id": entity_id, "region_code": region})
        return region


def _prepare(event: Any) -> tuple[str, str, dict[str, object], dict[str, str]]:
    """An event's type, entity, public payload and the entities it names."""
    name = event_type(event)
    entity = str(event.originator_id)
    payload = public_payload(event)
    return name, entity, payload, links(name, entity, payload)


def _erased(payload: str, fields: Iterable[str]) -> str:
    """A stored payload with the identity ``fields`` it has replaced by the erasure mark."""
    document = json.loads(payload)
    document.update({f: ERASED for f in fields if f in document})
    return dumps(document)


def links(name: str, originator_id: object, payload: Mapping[str, object]) -> dict[str, str]:
    """The entities an event concerns, each with the field that names it (first one wins).

    The originator comes first, then every UUID in a payload field named ``*_id`` or
    ``*_ids`` and the payout ids keying a batch's ``lines``, in field order.
    """
    found = {str(originator_id): ORIGINATOR}
    for field, value in payload.items():
        if field.endswith("_id"):
            candidates: list[object] = [value]
        elif field.endswith("_ids") and isinstance(value, list):
            candidates = value
        elif _PAYOUT_KEYED.get(name) == field and isinstance(value, dict):
            candidates = list(value)
        else:
            continue
        for candidate in candidates:
            entity_id = _uuid(candidate)
            if entity_id is not None:
                found.setdefault(entity_id, field)
    return found


def _encode(value: object) -> str:
    """``dumps(value)`` for a value already JSON-ready."""
    return _ENCODER.encode(value)


def _uuid(value: object) -> str | None:
    """The canonical text of a UUID given as text, or None if ``value`` is not one."""
    if not isinstance(value, str):
        return None
    if _CANONICAL_UUID.fullmatch(value):
        return value
    try:
        return str(UUID(value))
    except ValueError:
        return None


def _all_event_types() -> Iterator[str]:
    """``Aggregate.Event`` names of every registered aggregate's events.

    Leaves out the ``Event`` base class, and the library's default ``Created`` where the
    aggregate declares its own creation event (e.g. ``Person.Registered``).
    """
    for aggregate_name, aggregate in AGGREGATES.items():
        events = {
            attribute: value
            for attribute, value in vars(aggregate).items()
            if isinstance(value, type) and issubclass(value, DomainEvent)
        }
        own_creation = any(
            issubclass(cls, CanInitAggregate) and attribute != "Created"
            for attribute, cls in events.items()
        )
        for attribute in events:
            if attribute == "Event" or (attribute == "Created" and own_creation):
                continue
            yield f"{aggregate_name}.{attribute}"
