"""Calendar months ("YYYY-MM") as a small value type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Self

from disburse.domain.errors import InvalidInputError

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
RULE = "MONTH-FORMAT"
_MONTHS_PER_YEAR = 12


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month. Ordered; ``str(m)`` is ``"YYYY-MM"``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= _MONTHS_PER_YEAR) or not (1900 <= self.year <= 9999):  # noqa: PLR2004
            raise InvalidInputError(RULE, f"{self.year}-{self.month:02d} is not a month")

    @classmethod
    def parse(cls, text: str, field: str = "month") -> Self:
        """Parse ``"YYYY-MM"``; raise ``InvalidInputError`` naming ``field`` if malformed."""
        match = _MONTH.fullmatch(text)
        if not match:
            raise InvalidInputError(RULE, f"{text!r} is not a month (YYYY-MM)", field=field)
        try:
            return cls(int(match[1]), int(match[2]))
        except InvalidInputError as error:
            raise InvalidInputError(RULE, error.message, field=field) from None

    @classmethod
    def of(cls, day: date) -> Self:
        """The month containing ``day``."""
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        """The first day of the month."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The last day of the month."""
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Month:
        """The following month."""
        if self.month == _MONTHS_PER_YEAR:
            return Month(self.year + 1, 1)
        return Month(self.year, self.month + 1)

    def plus(self, months: int) -> Month:
        """The month ``months`` later (or earlier, if negative)."""
        index = self.year * _MONTHS_PER_YEAR + self.month - 1 + months
        return Month(index // _MONTHS_PER_YEAR, index % _MONTHS_PER_YEAR + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later, clamped to the month's last day."""
    target = Month.of(day).plus(months)
    return target.first_day.replace(day=min(day.day, target.last_day.day))
