"""Events as an older release stored them: text that today's input checks refuse.

``planted`` swaps placeholder texts for raw ones in every event saved inside it, just
before the mapper stores the event, so nothing on the way in (API, application or
domain checks) sees the raw text. What lands in the log is what a client could once
send: a lone surrogate in a name, a NUL in a reason.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any

from disburse.domain.person import LabourCapacity, PovertyStatus
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from uuid import UUID

    from disburse.application.ledger import Ledger

#: A lone surrogate in a person's name (valid JSON: ``"\ud800abc"``).
SURROGATE_NAME = "\ud800abc"
#: A NUL in a fund top-up's reason (PostgreSQL text cannot hold it).
NUL_REASON = "supplement\x00approved"
_NAME, _REASON = "占位姓名", "占位理由"


def _swap(value: Any, swaps: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return swaps.get(value, value)
    if is_dataclass(value) and not isinstance(value, type):
        changed = {x.name: _swap(getattr(value, x.name), swaps) for x in fields(value)}
        return replace(value, **changed)
    return value


@contextmanager
def planted(
    ledger: Ledger, swaps: Mapping[str, str], *, without: tuple[str, ...] = ()
) -> Iterator[None]:
    """Events saved inside are stored with each placeholder text (key) swapped for its value.

    Fields named in ``without`` are left out of the stored events altogether.
    """
    mapper = ledger.store.mapper
    to_stored = mapper.to_stored_event

    def swapping(event: Any) -> Any:
        for name, value in list(vars(event).items()):
            if name in without:
                vars(event).pop(name)
            else:
                object.__setattr__(event, name, _swap(value, swaps))
        return to_stored(event)

    mapper.to_stored_event = swapping  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        del mapper.to_stored_event


def poison(ledger: Ledger) -> tuple[UUID, UUID]:
    """The issue's two cases: a lone surrogate in a person's name, a NUL in a top-up reason.

    Returns the person's id and the fund's id.
    """
    fund = f.county(ledger).fund_id
    with planted(ledger, {_NAME: SURROGATE_NAME, _REASON: NUL_REASON}):
        person = ledger.people.register(
            f.clerk(),
            resident_id=f.resident_id(),
            name=_NAME,
            home_region=f.COUNTY,
            poverty_status=PovertyStatus.LIFTED,
            labour_capacity=LabourCapacity.WEAK,
            household_id="H-000001",
            bank_account="6222020200000001",
        ).person_id
        ledger.funds.top_up(f.finance(), fund, amount_fen=1_000, reason=_REASON)
    return person, fund


def unreadable_registration(ledger: Ledger) -> int:
    """A person registered without a household: the alerts view cannot apply the event.

    Returns the event's position in the log.
    """
    with planted(ledger, {}, without=("household_id",)):
        f.register(ledger)
    return ledger.store.last_written()


def undecodable_registration(ledger: Ledger) -> int:
    """A person registration whose stored state no longer reads back (a damaged row).

    Returns the event's position in the log.
    """
    mapper = ledger.store.mapper
    to_stored = mapper.to_stored_event

    def damaged(event: Any) -> Any:
        return replace(to_stored(event), state=b"\xff not an event")

    mapper.to_stored_event = damaged  # type: ignore[method-assign,assignment]
    try:
        f.register(ledger)
    finally:
        del mapper.to_stored_event
    return ledger.store.last_written()
