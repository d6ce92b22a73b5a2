"""Calendar days as instants: where a local day starts and ends, for days a query may name.

A day asked about (as-of, an evidence pack's ``from``/``to``) is a calendar day in the
service's time zone; the views compare UTC instants. A day's start and end exist as
instants in every time zone only between :data:`FIRST_DAY` and :data:`LAST_DAY`
(``datetime`` holds the years 1 to 9999, and a zone may be hours either side of UTC).
Every conversion goes through here and refuses a day outside that range with
``DATE-RANGE`` (an ``InvalidInputError`` naming the field), instead of overflowing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from disburse.domain.errors import InvalidInputError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

RULE: Final = "DATE-RANGE"
#: The first and last days whose start and end are instants in any time zone.
FIRST_DAY: Final = date(1, 1, 2)
LAST_DAY: Final = date(9999, 12, 30)


def check_day(day: date, field: str = "date") -> date:
    """``day`` if it lies between :data:`FIRST_DAY` and :data:`LAST_DAY`, else ``DATE-RANGE``."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInputError(
            RULE,
            f"{day.isoformat()} is out of range: a day is from {FIRST_DAY.isoformat()} "
            f"to {LAST_DAY.isoformat()}",
            field=field,
        )
    return day


def start_of_day(day: date, zone: ZoneInfo, field: str = "date") -> datetime:
    """The first instant of ``day`` in ``zone`` (its midnight), in UTC."""
    return _midnight(check_day(day, field), zone)


def end_of_day(day: date, zone: ZoneInfo, field: str = "date") -> datetime:
    """The first instant after ``day`` in ``zone`` (the midnight that ends it), in UTC."""
    return _midnight(check_day(day, field) + timedelta(days=1), zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
