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

import json
import re
from functools import lru_cache
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
from disburse.readside.redact import public_payload

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

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


class AuditView(View):
    """Every event of the log, with its metadata, public payload and the entities it names.

    Unlike other views it reads every event type, including those of aggregates added
    later: :meth:`process` records each event before dispatching to any ``@handles``
    method, and :meth:`handled` lists every event type of the registered aggregates.
    """

    name = "audit"
    tables = ("audit_events", "audit_links", "audit_regions")
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
    #: ``audit_regions`` as this transaction has read and written it: see :meth:`_known`.
    _regions: tuple[Tx, dict[str, str | None]] | None = None

    @classmethod
    def handled(cls) -> frozenset[str]:
        """Every event type of the registered aggregates (the view records them all)."""
        return frozenset(_all_event_types()) | super().handled()

    def process(self, tx: Tx, event: Any, where: Position) -> None:
        """Record the event and link it to the entities it names, whatever its type."""
        self._record(tx, event, where)
        super().process(tx, event, where)

    @handles("Person.IdentityErased")
    def _identity_erased(self, tx: Tx, event: Any, where: Position) -> None:
        """The masked identity already shown for the person's events is erased too."""
        for name, fields in IDENTITY_FIELDS.items():
            rows = tx.all(
                "SELECT position, payload FROM audit_events"
                " WHERE entity_id = :e AND event_type = :t",
                {"e": str(event.originator_id), "t": name},
            )
            for row in rows:
                payload = json.loads(row["payload"])
                payload.update({f: ERASED for f in fields if f in payload})
                tx.write(
                    "UPDATE audit_events SET payload = :payload WHERE position = :p",
                    {"payload": dumps(payload), "p": row["position"]},
                )

    def drop(self, tx: Tx) -> None:
        """Drop the tables, and forget the regions learnt in this transaction with them."""
        self._regions = None
        super().drop(tx)

    def _record(self, tx: Tx, event: Any, where: Position) -> None:
        name = event_type(event)
        entity = str(event.originator_id)
        payload = public_payload(event)
        meta = getattr(event, "meta", None)  # every domain event has it; be safe regardless
        related = links(name, entity, payload)
        # A review sample names its region itself; a nationwide one ("") belongs to none,
        # not to the region of the first payout it picked.
        nationwide = name.startswith("AuditSample.") and not payload.get("region_code")
        region = "" if nationwide else self._region(tx, entity, payload, related)
        rule_ids = [] if meta is None else list(meta.rule_ids)
        tx.write(
            "INSERT INTO audit_events (position, entity_id, entity_type, version, event_type,"
            " recorded_at, actor_id, role, client_id, request_id, reason, rule_ids,"
            " policy_version, payload, region_code) VALUES (:position, :entity, :entity_type,"
            " :version, :event_type, :at, :actor, :role, :client, :request, :reason, :rule_ids,"
            " :policy_version, :payload, :region)",
            {
                "position": where.position,
                "entity": entity,
                "entity_type": name.partition(".")[0],
                "version": event.originator_version,
                "event_type": name,
                "at": where.at,
                "actor": "" if meta is None else meta.actor_id,
                "role": "" if meta is None else str(meta.role),
                "client": "" if meta is None else meta.client_id,
                "request": "" if meta is None else meta.request_id,
                "reason": None if meta is None else meta.reason,
                "rule_ids": _encode(rule_ids) if rule_ids else "[]",
                "policy_version": None if meta is None else meta.policy_version,
                "payload": _encode(payload),
                "region": region,
            },
        )
        params: dict[str, object] = {"p": where.position}
        for number, (entity_id, via) in enumerate(related.items()):
            params[f"e{number}"], params[f"v{number}"] = entity_id, via
        tx.write(_insert_links(len(related)), params)

    def _region(
        self, tx: Tx, entity_id: str, payload: Mapping[str, object], related: dict[str, str]
    ) -> str:
        """The region of the event's entity, learnt once and kept (``""`` if it has none).

        An entity's region is the ``region_code`` or ``home_region`` of its first event that
        states one, else the region of the first entity it names that has one (a grant is
        its person's, a batch its fund's, a reservation its holder's).
        """
        known = self._known(tx)
        region = self._region_of(tx, known, entity_id)
        if region is not None:
            return region
        stated = payload.get("region_code") or payload.get("home_region")
        region = stated if isinstance(stated, str) else ""
        if not region:
            for other in related:
                if other == entity_id:
                    continue
                region = self._region_of(tx, known, other) or ""
                if region:
                    break
        if region:
            tx.write(
                "INSERT INTO audit_regions (entity_id, region_code) VALUES (:e, :r)",
                {"e": entity_id, "r": region},
            )
            known[entity_id] = region
        return region

    def _known(self, tx: Tx) -> dict[str, str | None]:
        """``audit_regions`` as read and written in this transaction (a new one starts empty).

        Only this transaction's own reads and writes are kept, and only while it lasts, so
        a rolled-back batch or another worker's rows cannot leave it stale.
        """
        cached = self._regions
        if cached is None or cached[0] is not tx:
            cached = (tx, {})
            self._regions = cached
        return cached[1]

    @staticmethod
    def _region_of(tx: Tx, known: dict[str, str | None], entity_id: str) -> str | None:
        """The region kept for an entity, or None if it has none yet."""
        if entity_id in known:
            return known[entity_id]
        row = tx.one("SELECT region_code FROM audit_regions WHERE entity_id = :e", {"e": entity_id})
        region = None if row is None else str(row["region_code"])
        known[entity_id] = region
        return region


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


@lru_cache(maxsize=64)
def _insert_links(count: int) -> str:
    """One statement inserting an event's ``count`` links (``:p``, ``:e0``, ``:v0``, ...)."""
    rows = ", ".join(f"(:e{n}, :p, :v{n})" for n in range(count))
    return f"INSERT INTO audit_links (entity_id, position, via) VALUES {rows}"


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
