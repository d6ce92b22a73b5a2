"""Days as instants (``disburse.audit.days``): every day in range has a start and an end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from disburse.audit.days import FIRST_DAY, LAST_DAY, end_of_day, start_of_day
from disburse.domain.errors import InvalidInputError

#: The zones furthest ahead of and behind UTC.
ZONES = [ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12"), ZoneInfo("Asia/Shanghai")]


@pytest.mark.parametrize("zone", ZONES, ids=str)
def test_the_first_and_last_days_in_range_start_and_end_in_every_zone(zone: ZoneInfo) -> None:
    assert start_of_day(FIRST_DAY, zone).tzinfo == UTC
    assert end_of_day(LAST_DAY, zone) > start_of_day(LAST_DAY, zone)
    assert end_of_day(date(2024, 3, 31), ZoneInfo("Asia/Shanghai")) == datetime(
        2024, 3, 31, 16, tzinfo=UTC
    )


@pytest.mark.parametrize("zone", ZONES, ids=str)
@pytest.mark.parametrize("day", [date.min, date.max], ids=str)
def test_a_day_beyond_the_range_is_date_range_naming_the_field_not_an_overflow(
    zone: ZoneInfo, day: date
) -> None:
    for convert in (start_of_day, end_of_day):
        with pytest.raises(InvalidInputError) as refused:
            convert(day, zone, "query.from")
        assert (refused.value.rule_id, refused.value.field) == ("DATE-RANGE", "query.from")
