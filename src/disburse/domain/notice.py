"""Public notices (公示): the list of payouts posted for the public, and what was posted.

Issuing a notice opens the PAYOUT-NOTICE window of each payout it lists (``Payout
.start_notice``, in the same transaction); the notice itself records what it listed,
masked as posted, and the SHA-256 of each file printed from it, so an inspector can
later prove what the public saw.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import InvalidInputError
from disburse.domain.meta import Meta

NOTICE_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e011")
#: A notice runs as long as a catalogue's ``notice_days`` may (PayoutRules): 1 to 60 days.
MIN_DAYS, MAX_DAYS = 1, 60


def notice_id_for(region_code: str, period: str, payout_ids: list[UUID]) -> UUID:
    """The same payouts of the same region and period name the same notice."""
    listed = ",".join(sorted(str(p) for p in payout_ids))
    return uuid.uuid5(NOTICE_NAMESPACE, f"{region_code}:{period}:{listed}")


def notice_window(starts_on: date, days: int) -> tuple[date, date]:
    """The first and last day of a notice of ``days`` days (NOTICE-DAYS: 1 to 60)."""
    if isinstance(days, bool) or not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidInputError(
            "NOTICE-DAYS", f"a notice runs {MIN_DAYS} to {MAX_DAYS} days", "days"
        )
    return starts_on, starts_on + timedelta(days=days - 1)


class PublicNotice(Aggregate):
    """One posted list: its region and period, window, contact, lines and file digests."""

    @staticmethod
    def create_id(region_code: str, period: str, payout_ids: list[UUID]) -> UUID:
        """Deterministic: issuing the same list again names the same notice."""
        return notice_id_for(region_code, period, payout_ids)

    @event("Issued")
    def __init__(
        self,
        *,
        region_code: str,
        period: str,
        payout_ids: list[UUID],
        title: str,
        contact: str,
        starts_on: date,
        ends_on: date,
        lines: list[dict[str, Any]],
        count: int,
        total_fen: int,
        sha256: dict[str, str],
        meta: Meta,
    ) -> None:
        self.region_code = region_code
        self.period = period
        self.title = title
        self.contact = contact
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.lines = lines  # as posted: payout_id, name, resident_id (masked), programme, fen
        self.count = count
        self.total_fen = total_fen
        self.sha256 = sha256  # file format -> SHA-256 (hex) of the file printed
        self.issued_by = meta.actor_id

    @classmethod
    def issue(
        cls,
        *,
        region_code: str,
        period: str,
        title: str,
        contact: str,
        starts_on: date,
        ends_on: date,
        lines: list[dict[str, Any]],
        sha256: dict[str, str],
        meta: Meta,
    ) -> PublicNotice:
        """Record a notice of at least one line (NOTICE-EMPTY), posted by finance."""
        meta.require_finance("issue public notices")
        if not lines:
            raise InvalidInputError(
                "NOTICE-EMPTY", f"no payout of {period} in {region_code} awaits notice", "period"
            )
        if not contact.strip():
            raise InvalidInputError(
                "NOTICE-CONTACT", "a notice says where to object (a contact)", "contact"
            )
        payout_ids = [UUID(str(line["payout_id"])) for line in lines]
        return cls(
            region_code=region_code,
            period=period,
            payout_ids=payout_ids,
            title=title,
            contact=contact,
            starts_on=starts_on,
            ends_on=ends_on,
            lines=lines,
            count=len(lines),
            total_fen=sum(int(line["amount_fen"]) for line in lines),
            sha256=sha256,
            meta=meta.because("PAYOUT-NOTICE"),
        )
