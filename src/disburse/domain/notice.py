"""Public notices (公示): the list of payouts posted for the public, and what was posted.

A notice before payment (拟发放公示) lists a region's payouts of one period that await
notice, and issuing it opens the PAYOUT-NOTICE window of each (``Payout.start_notice``,
in the same transaction). A notice of a payment batch (发放结果公示) lists what the batch
pays: those payouts are past notice, so it opens nothing. Either records what it listed,
masked as posted, and the SHA-256 of each file printed from it, so an inspector can
later prove what the public saw.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from disburse.domain.errors import ConflictError, InvalidInputError
from disburse.domain.meta import Meta

NOTICE_NAMESPACE = uuid.UUID("8f6c1f0e-3a51-4f55-9a0e-6c1f52a8e011")
#: A notice runs as long as a catalogue's ``notice_days`` may (PayoutRules): 1 to 60 days.
MIN_DAYS, MAX_DAYS = 1, 60


class NoticeKind(StrEnum):
    """What a notice announces."""

    BEFORE_PAYMENT = "before_payment"  # 拟发放公示: opens the payouts' notice windows
    PAYMENT = "payment"  # 发放结果公示: what a payment batch pays


def notice_id_for(region_code: str, period: str, payout_ids: list[UUID]) -> UUID:
    """The same payouts of the same region and period name the same notice."""
    listed = ",".join(sorted(str(p) for p in payout_ids))
    return uuid.uuid5(NOTICE_NAMESPACE, f"{region_code}:{period}:{listed}")


def notice_id_for_batch(batch_id: UUID) -> UUID:
    """A payment batch has at most one notice."""
    return uuid.uuid5(NOTICE_NAMESPACE, f"batch:{batch_id}")


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
    def create_id(
        region_code: str, period: str, payout_ids: list[UUID], batch_id: UUID | None
    ) -> UUID:
        """Deterministic: the same list again, or the same batch, names the same notice."""
        if batch_id is not None:
            return notice_id_for_batch(batch_id)
        return notice_id_for(region_code, period, payout_ids)

    @event("Issued")
    def __init__(
        self,
        *,
        kind: NoticeKind,
        batch_id: UUID | None,
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
        self.kind = NoticeKind(kind)
        self.batch_id = batch_id
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
        batch_id: UUID | None = None,
    ) -> PublicNotice:
        """Record a notice of at least one line (NOTICE-EMPTY), posted by finance.

        With ``batch_id``, the notice of that payment batch (NoticeKind.PAYMENT).
        """
        meta.require_finance("issue public notices")
        if not lines:
            raise ConflictError(
                "NOTICE-EMPTY", f"no payout of {period} in {region_code} to list", "period"
            )
        if not contact.strip():
            raise InvalidInputError(
                "NOTICE-CONTACT", "a notice says where to object (a contact)", "contact"
            )
        payout_ids = [UUID(str(line["payout_id"])) for line in lines]
        kind = NoticeKind.BEFORE_PAYMENT if batch_id is None else NoticeKind.PAYMENT
        return cls(
            kind=kind,
            batch_id=batch_id,
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
            meta=meta.because("PAYOUT-NOTICE") if batch_id is None else meta,
        )
