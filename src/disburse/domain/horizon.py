"""How far ahead a fact that has already happened may be dated (DATE-HORIZON)."""

from __future__ import annotations

from datetime import date, timedelta

from disburse.domain.errors import InvalidInputError

RULE = "DATE-HORIZON"
#: Grace past the ledger's today, for clocks, time zones and a month's paperwork.
HORIZON_DAYS = 31


def horizon(today: date) -> date:
    """The last day a past fact may carry: ``today`` plus ``HORIZON_DAYS``."""
    return today + timedelta(days=HORIZON_DAYS)


def check_happened(day: date, today: date, field: str) -> None:
    """DATE-HORIZON: ``day`` (a death, a month's first day) is not beyond the horizon."""
    if day > horizon(today):
        raise InvalidInputError(
            RULE,
            f"{day.isoformat()} is more than {HORIZON_DAYS} days after today "
            f"({today.isoformat()}): a fact that has happened cannot be dated so late",
            field=field,
        )
