"""Time travel: an entity as it stood at the end of a day, and balances as of that day.

An entity's state is rebuilt from its own events recorded before the end of the day (in
the configured time zone), so it is exactly what the ledger held then, whatever came
after. A fund's or a region's balances come from the balance view's postings recorded
before that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from disburse.audit.days import end_of_day
from disburse.domain.errors import InvalidInputError, NotFoundError
from disburse.domain.regions import region_scope
from disburse.readside.redact import identified_fields, public_fields

if TYPE_CHECKING:
    from collections.abc import Iterable
    from zoneinfo import ZoneInfo

    from disburse.persistence.store import LedgerStore
    from disburse.readside.balance_queries import BalanceQueries, FundBalance, RegionBalance

__all__ = [  # end_of_day: where an as-of cut falls, looked up here (tests set the cut)
    "EntityAsOf",
    "end_of_day",
    "entity_as_of",
    "parse_target",
    "region_as_of",
    "utc_text",
]


def utc_text(moment: datetime) -> str:
    """As the views store times: UTC ISO 8601 with microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class EntityAsOf:
    """An entity as it stood at ``cut``."""

    entity_id: UUID
    entity_type: str
    day: date
    cut: datetime
    version: int
    recorded_at: datetime  # when its last event up to then was recorded
    state: dict[str, object]
    later_events: int  # how many of its events came after the cut
    balances: FundBalance | None = None


def entity_as_of(
    store: LedgerStore,
    balances: BalanceQueries,
    entity_id: UUID,
    day: date,
    zone: ZoneInfo,
    *,
    full_identity: bool,
) -> EntityAsOf:
    """The entity at the end of ``day``; ``NotFoundError`` if it did not exist yet.

    A day whose end is no instant (before year 1 or after 9999) is ``DATE-RANGE``.
    """
    cut = end_of_day(day, zone)
    aggregate: Any = None
    recorded_at: datetime | None = None
    later = 0
    events = cast("Iterable[Any]", store.events.get(entity_id))
    for event in events:  # in version order: rebuild from the ones before the cut
        if event.timestamp < cut:
            aggregate, recorded_at = event.mutate(aggregate), event.timestamp
        else:
            later += 1
    if aggregate is None or recorded_at is None:
        raise NotFoundError(
            "ENTITY-NOT-FOUND",
            f"no entity {entity_id} existed at the end of {day.isoformat()}",
            field="entity_id",
        )
    version = aggregate.version
    kind = type(aggregate).__name__
    fields = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
    state = identified_fields(fields) if full_identity else public_fields(kind, fields)
    fund = balances.fund(str(entity_id), until=utc_text(cut)) if kind == "Fund" else None
    return EntityAsOf(
        entity_id=entity_id,
        entity_type=kind,
        day=day,
        cut=cut,
        version=version,
        recorded_at=recorded_at,
        state=state,
        later_events=later,
        balances=fund,
    )


def region_as_of(balances: BalanceQueries, code: str, day: date, zone: ZoneInfo) -> RegionBalance:
    """Every fund's balances inside a region scope at the end of ``day``."""
    return balances.region(code, until=utc_text(end_of_day(day, zone)))


def parse_target(text: str) -> UUID | str:
    """An entity id (UUID) or a region scope (2/4/6 digits); ``InvalidInputError`` if neither."""
    try:
        return UUID(text)
    except ValueError:
        pass
    if text.strip():
        try:
            return region_scope(text)
        except InvalidInputError:
            pass
    raise InvalidInputError(
        "AS-OF-TARGET",
        f"{text!r} is neither an entity id (UUID) nor a region code (2, 4 or 6 digits)",
        field="entity_id",
    )
