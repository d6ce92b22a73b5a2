"""Questions discipline inspectors ask of the audit trail: what happened to X, what did Y do."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from disburse.domain.regions import check_region_scope

if TYPE_CHECKING:
    from collections.abc import Iterable

    from disburse.readside.db import Row, ViewDB

DEFAULT_LIMIT = 1000
#: Entities for inspectors only: the API's bookkeeping (clients, their keys, their
#: recorded requests), console accounts and their sign-ins, and review samples (which
#: payouts will be checked is not for those checked to read). The feed leaves them out;
#: the trails show them to inspectors.
INSPECTORS_ONLY = (
    "RecordedRequest",
    "ApiClient",
    "ClientDirectory",
    "AuditSample",
    "UserAccount",
    "UserDirectory",
    "SignInFailures",
    "ConsoleSession",
    "CodeUse",
)
_NOT_FOR_THE_FEED = ", ".join(f"'{name}'" for name in INSPECTORS_ONLY)
_COLUMNS = (
    "e.position, e.entity_id, e.entity_type, e.version, e.event_type, e.recorded_at,"
    " e.actor_id, e.role, e.client_id, e.request_id, e.reason, e.rule_ids,"
    " e.policy_version, e.payload, e.region_code"
)


@dataclass(frozen=True)
class AuditEntry:
    """One event of the log as an inspector sees it (personal data removed from ``payload``).

    ``via`` says why the event is in an entity's trail: ``"originator"`` for the entity's
    own events, else the payload field naming the entity (``beneficiary_id``, ``lines``...).
    It is None in an actor's trail.
    """

    position: int
    entity_id: str
    entity_type: str
    version: int
    event_type: str
    recorded_at: datetime
    actor_id: str
    role: str
    client_id: str
    request_id: str
    reason: str | None
    rule_ids: tuple[str, ...]
    policy_version: str | None
    payload: dict[str, Any]
    region_code: str = ""
    via: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> AuditEntry:
        """From a row of ``audit_events`` (with ``via`` when read through ``audit_links``)."""
        return cls(
            position=int(row["position"]),
            entity_id=row["entity_id"],
            entity_type=row["entity_type"],
            version=int(row["version"]),
            event_type=row["event_type"],
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
            actor_id=row["actor_id"],
            role=row["role"],
            client_id=row["client_id"],
            request_id=row["request_id"],
            reason=row["reason"],
            rule_ids=tuple(json.loads(row["rule_ids"])),
            policy_version=row["policy_version"],
            payload=json.loads(row["payload"]),
            region_code=row["region_code"],
            via=row.get("via"),
        )


def bound(value: date | datetime, *, end: bool = False) -> str:
    """A time bound as stored ``recorded_at`` text, for comparing as text.

    ``since`` (``end=False``) is inclusive: a date means the start of that day. ``until``
    (``end=True``) is returned as an exclusive bound: a date means the end of that day, a
    datetime is kept inclusive (one microsecond, the stored precision, is added). Dates
    are UTC days; naive datetimes are taken as UTC.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if end:
            moment += timedelta(microseconds=1)
    else:
        moment = datetime.combine(value + timedelta(days=1) if end else value, time.min, UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


#: Events of entities within a region prefix, and events of entities with no region
#: (the policy catalogue, alert decisions): those are everyone's.
_SCOPED = "(e.region_code LIKE :scope OR e.region_code = '')"


def _scope_pattern(scope: str) -> str:
    """A LIKE pattern for a region prefix (validated: digits only, so no wildcards)."""
    check_region_scope(scope, "region")
    return f"{scope}%"


class AuditQueries:
    """Reads of the audit view, in log order, paged by position."""

    def __init__(self, db: ViewDB) -> None:
        self.db = db

    def trail(
        self,
        entity_id: UUID | str,
        *,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
        event_types: Iterable[str] | None = None,
        limit: int = DEFAULT_LIMIT,
        after_position: int = 0,
        scope: str | None = None,
    ) -> list[AuditEntry]:
        """Events of an entity and events of others that name it (see ``AuditEntry.via``).

        At most ``limit`` entries after ``after_position``; for the next page, pass the
        position of the last entry. An id that is not a UUID names no entity: no entries.
        """
        key = str(entity_id).strip()
        try:
            key = str(UUID(key))
        except ValueError:
            return []
        return self._select(
            f"SELECT {_COLUMNS}, l.via FROM audit_links l"
            " JOIN audit_events e ON e.position = l.position WHERE l.entity_id = :key",
            key,
            since=since,
            until=until,
            event_types=event_types,
            limit=limit,
            after_position=after_position,
            scope=scope,
        )

    def by_actor(
        self,
        actor_id: str,
        *,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
        event_types: Iterable[str] | None = None,
        limit: int = DEFAULT_LIMIT,
        after_position: int = 0,
        scope: str | None = None,
    ) -> list[AuditEntry]:
        """Everything one actor (a user, a client's service account, ``system``) recorded."""
        return self._select(
            f"SELECT {_COLUMNS} FROM audit_events e WHERE e.actor_id = :key",
            actor_id,
            since=since,
            until=until,
            event_types=event_types,
            limit=limit,
            after_position=after_position,
            scope=scope,
        )

    def in_region(
        self,
        region: str,
        *,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
        event_types: Iterable[str] | None = None,
        limit: int = DEFAULT_LIMIT,
        after_position: int = 0,
        scope: str | None = None,
    ) -> list[AuditEntry]:
        """Events of the entities within a region prefix (2, 4 or 6 digits), in log order.

        Events of entities with no region (the policy catalogue, alert decisions) are not
        any region's and are left out; ``""`` selects every event. ``scope`` narrows it as
        in :meth:`trail` (the events of a wider region outside it are left out).
        """
        return self._select(
            f"SELECT {_COLUMNS} FROM audit_events e WHERE e.region_code LIKE :key",
            _scope_pattern(region),
            since=since,
            until=until,
            event_types=event_types,
            limit=limit,
            after_position=after_position,
            scope=scope,
        )

    def feed(
        self, *, after_position: int = 0, limit: int = DEFAULT_LIMIT, scope: str = ""
    ) -> list[AuditEntry]:
        """The log in order, personal data removed: what other systems follow.

        The API's own bookkeeping (clients, recorded requests) is left out, and so are
        review samples (which payouts inspectors will check is not for those checked to
        read); inspectors see both in the audit trail.
        """
        rows = self.feed_rows(after_position=after_position, limit=limit, scope=scope)
        return [AuditEntry.from_row(row) for row in rows]

    def feed_rows(self, *, after_position: int = 0, limit: int, scope: str = "") -> list[Row]:
        """What :meth:`feed` reads, as the view's rows (``payload``, ``rule_ids``: JSON text)."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        with self.db.read() as tx:
            return tx.all(
                f"SELECT {_COLUMNS} FROM audit_events e WHERE e.position > :after AND {_SCOPED}"
                f" AND e.entity_type NOT IN ({_NOT_FOR_THE_FEED})"
                " ORDER BY e.position LIMIT :limit",
                {"after": after_position, "limit": limit, "scope": _scope_pattern(scope)},
            )

    def trail_rows(
        self, entity_id: UUID | str, *, after_position: int, limit: int, scope: str
    ) -> list[Row]:
        """What :meth:`trail` reads for one page, as the view's rows (with ``via``)."""
        key = str(entity_id).strip()
        try:
            key = str(UUID(key))
        except ValueError:
            return []
        return self._rows(
            f"SELECT {_COLUMNS}, l.via FROM audit_links l"
            " JOIN audit_events e ON e.position = l.position WHERE l.entity_id = :key",
            key,
            since=None,
            until=None,
            event_types=None,
            limit=limit,
            after_position=after_position,
            scope=scope,
        )

    def actor_rows(
        self, actor_id: str, *, after_position: int, limit: int, scope: str
    ) -> list[Row]:
        """What :meth:`by_actor` reads for one page, as the view's rows."""
        return self._rows(
            f"SELECT {_COLUMNS} FROM audit_events e WHERE e.actor_id = :key",
            actor_id,
            since=None,
            until=None,
            event_types=None,
            limit=limit,
            after_position=after_position,
            scope=scope,
        )

    def region_of(self, entity_id: str) -> str | None:
        """The region the view learnt for an entity (``""`` if none), None if unknown."""
        with self.db.read() as tx:
            row = tx.one(
                "SELECT region_code FROM audit_regions WHERE entity_id = :e", {"e": entity_id}
            )
        return None if row is None else str(row["region_code"])

    def _select(
        self,
        query: str,
        key: str,
        *,
        since: date | datetime | None,
        until: date | datetime | None,
        event_types: Iterable[str] | None,
        limit: int,
        after_position: int,
        scope: str | None = None,
    ) -> list[AuditEntry]:
        rows = self._rows(
            query,
            key,
            since=since,
            until=until,
            event_types=event_types,
            limit=limit,
            after_position=after_position,
            scope=scope,
        )
        return [AuditEntry.from_row(row) for row in rows]

    def _rows(
        self,
        query: str,
        key: str,
        *,
        since: date | datetime | None,
        until: date | datetime | None,
        event_types: Iterable[str] | None,
        limit: int,
        after_position: int,
        scope: str | None = None,
    ) -> list[Row]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if after_position < 0:
            raise ValueError(f"after_position cannot be negative ({after_position})")
        params: dict[str, object] = {"key": key, "after": after_position, "limit": limit}
        conditions = ["e.position > :after"]
        if since is not None:
            conditions.append("e.recorded_at >= :since")
            params["since"] = bound(since)
        if until is not None:
            conditions.append("e.recorded_at < :until")
            params["until"] = bound(until, end=True)
        if scope is not None:
            conditions.append(_SCOPED)
            params["scope"] = _scope_pattern(scope)
        if event_types is not None:
            types = sorted({event_types} if isinstance(event_types, str) else set(event_types))
            if not types:
                return []
            names = [f"t{i}" for i in range(len(types))]
            conditions.append(f"e.event_type IN ({', '.join(f':{n}' for n in names)})")
            params.update(zip(names, types, strict=True))
        statement = f"{query} AND {' AND '.join(conditions)} ORDER BY e.position LIMIT :limit"
        with self.db.read() as tx:
            return tx.all(statement, params)
