"""Public notices (公示): list the payouts awaiting notice, print them, open their windows.

A notice lists the payouts of one region and period that are still ``requested``: those
are the payouts whose PAYOUT-NOTICE window has never opened. Issuing it records the
notice (what it listed, masked as posted, and the SHA-256 of its PDF and XLSX) and starts
the notice of every listed payout, in one transaction. A payout in any other state is
not listed but reported: on notice or held already (its window is open: it is not opened
twice), or past notice (approved, rejected, paid...). Issuing the same list again finds
nothing left to list and is refused (409 NOTICE-EMPTY).

A payment batch has its own notice (发放结果公示), of what it pays: its payouts are past
notice, so it opens no window, and issuing it again answers the same notice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from disburse.domain.batch import PaymentBatch
from disburse.domain.errors import ConflictError, InvalidInputError
from disburse.domain.fund import Fund
from disburse.domain.identity import mask_name
from disburse.domain.notice import (
    NoticeKind,
    PublicNotice,
    notice_id_for,
    notice_id_for_batch,
    notice_window,
)
from disburse.domain.organisation import Organisation
from disburse.domain.payout import Payout, PayoutStatus
from disburse.domain.person import Person
from disburse.domain.regions import check_region_code, region_scope, within
from disburse.printing.notice import NoticeDocument, NoticeLine
from disburse.printing.pdf import render_pdf
from disburse.printing.xlsx import render_xlsx

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import date

    from disburse.access.context import Context
    from disburse.application.policy import Policy
    from disburse.persistence.batching import Changes
    from disburse.persistence.store import LedgerStore

#: The formats a notice is printed in, and how.
RENDERERS: Final[dict[str, Callable[[NoticeDocument], bytes]]] = {
    "pdf": render_pdf,
    "xlsx": render_xlsx,
}
_PERIOD = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$")
DEFAULT_TITLE: Final = "补贴发放公示"
DEFAULT_BATCH_TITLE: Final = "补贴发放结果公示"
#: A batch's notice lists its payouts sent to the bank or paid (recovered ones were paid).
PAID_OR_SENT: Final = frozenset(
    {
        PayoutStatus.BATCHED,
        PayoutStatus.PAID,
        PayoutStatus.RECOVERY_ORDERED,
        PayoutStatus.RECOVERED,
    }
)


def check_period(period: str) -> str:
    """A month (YYYY-MM, stipends) or a year (YYYY, grants and applications): NOTICE-PERIOD."""
    if not _PERIOD.fullmatch(period):
        raise InvalidInputError("NOTICE-PERIOD", "a period is YYYY-MM or YYYY", "period")
    return period


@dataclass(frozen=True)
class Skipped:
    """A payout of the region and period that the notice does not list, and why."""

    payout_id: UUID
    status: PayoutStatus
    rule_id: str
    detail: str


@dataclass(frozen=True)
class Issued:
    """The notice issued, and the payouts it left out."""

    notice: PublicNotice
    skipped: tuple[Skipped, ...]
    created: bool = True


class Notices:
    """Issue public notices and print them again, as they were posted."""

    def __init__(self, store: LedgerStore, policy: Policy, today: Callable[[], date]) -> None:
        self._store = store
        self._policy = policy
        self._today = today

    def get(self, notice_id: UUID) -> PublicNotice:
        """The notice, or ``NotFoundError`` (NOTICE-NOT-FOUND)."""
        return self._store.load(PublicNotice, notice_id, "notice", copy=False)

    def issue(
        self,
        ctx: Context,
        *,
        region_code: str,
        period: str,
        candidates: Sequence[UUID],
        contact: str,
        days: int | None = None,
        title: str | None = None,
    ) -> Issued:
        """List the ``candidates`` still awaiting notice, record the notice, open their windows.

        ``candidates`` are the payouts of the region and period (the caller finds them in
        the queue view); each is decided from its own events, so a view behind the log
        lists nothing twice. ``days`` defaults to the catalogue's ``notice_days`` for the
        region today; NOTICE-DAYS if neither says.
        """
        check_region_code(region_code)
        check_period(period)
        scope = region_scope(region_code)
        days = self._days(region_code, days)
        starts_on, ends_on = notice_window(self._today(), days)

        def decide(changes: Changes) -> Issued:
            listed: list[tuple[Payout, NoticeLine]] = []
            skipped: list[Skipped] = []
            for payout_id in dict.fromkeys(candidates):
                payout = self._store.load(Payout, payout_id, "payout")
                line = _why_not(payout, scope, period) or self._line(payout)
                if isinstance(line, Skipped):
                    skipped.append(line)
                else:
                    listed.append((payout, line))
            if not listed:
                raise ConflictError(
                    "NOTICE-EMPTY",
                    f"no payout of {period} in {region_code} awaits notice "
                    f"({len(skipped)} found in another state)",
                    "period",
                )
            document = NoticeDocument(
                notice_id=notice_id_for(region_code, period, [p.id for p, _ in listed]),
                title=title or DEFAULT_TITLE,
                region_code=region_code,
                period=period,
                starts_on=starts_on,
                ends_on=ends_on,
                contact=contact,
                lines=tuple(line for _, line in listed),
            )
            notice = _record(ctx, document)
            why = ctx.meta(f"public notice {notice.id}").because("PAYOUT-NOTICE")
            for payout, _ in listed:
                payout.start_notice(starts_on=starts_on, days=days, meta=why)
            changes.add(*(payout for payout, _ in listed), notice)
            return Issued(notice, tuple(skipped))

        return self._store.transact(decide)

    def issue_for_batch(
        self,
        ctx: Context,
        batch_id: UUID,
        *,
        contact: str,
        days: int | None = None,
        title: str | None = None,
    ) -> Issued:
        """The notice of what a payment batch pays (发放结果公示); once per batch.

        Lists the batch's payouts that are batched or paid (a failed or re-issued one is
        reported); they are past notice, so no window opens and objections go to the
        contact printed. Issuing it again answers the notice already issued
        (``created`` False), whatever the options.
        """
        existing = self._store.find(PublicNotice, notice_id_for_batch(batch_id))
        if existing is not None:
            return Issued(existing, (), created=False)
        batch = self._store.load(PaymentBatch, batch_id, "batch", copy=False)
        region_code = self._store.load(Fund, batch.fund_id, "fund", copy=False).region_code
        days = self._days(region_code, days)
        starts_on, ends_on = notice_window(self._today(), days)

        def decide(changes: Changes) -> Issued:
            listed: list[NoticeLine] = []
            skipped: list[Skipped] = []
            periods: set[str] = set()
            for payout_id in batch.lines:
                payout = self._store.load(Payout, UUID(payout_id), "payout", copy=False)
                line: NoticeLine | Skipped = Skipped(
                    payout.id, payout.status, "PAYOUT-STATE", f"now {payout.status.value}"
                )
                if payout.status in PAID_OR_SENT and payout.batch_id == batch.id:
                    line = self._line(payout)
                if isinstance(line, Skipped):
                    skipped.append(line)
                else:
                    listed.append(line)
                    periods.add(payout.period)
            document = NoticeDocument(
                notice_id=notice_id_for_batch(batch.id),
                title=title or DEFAULT_BATCH_TITLE,
                region_code=region_code,
                period="、".join(sorted(periods)),
                starts_on=starts_on,
                ends_on=ends_on,
                contact=contact,
                lines=tuple(listed),
                kind=NoticeKind.PAYMENT,
                batch_id=batch.id,
            )
            notice = _record(ctx, document)
            changes.add(notice)
            return Issued(notice, tuple(skipped))

        return self._store.transact(decide)

    def _days(self, region_code: str, days: int | None) -> int:
        """The days asked for, or the catalogue's ``notice_days`` here today (NOTICE-DAYS)."""
        if days is not None:
            return days
        found = self._policy.in_force(region_code, self._today()).payouts.notice_days
        if found is None:
            raise InvalidInputError(
                "NOTICE-DAYS",
                "the catalogue in force sets no notice_days here; say how many days",
                "days",
            )
        return found

    def document(self, notice: PublicNotice) -> NoticeDocument:
        """What the notice showed, from its ``Issued`` event."""
        return NoticeDocument(
            notice_id=notice.id,
            title=notice.title,
            region_code=notice.region_code,
            period=notice.period,
            starts_on=notice.starts_on,
            ends_on=notice.ends_on,
            contact=notice.contact,
            kind=notice.kind,
            batch_id=notice.batch_id,
            lines=tuple(
                NoticeLine(
                    payout_id=UUID(str(line["payout_id"])),
                    name=str(line["name"]),
                    resident_id=str(line["resident_id"]),
                    programme=str(line["programme"]),
                    amount_fen=int(line["amount_fen"]),
                )
                for line in notice.lines
            ),
        )

    def print(self, notice: PublicNotice, file_format: str) -> bytes:
        """The file as posted: printed again from the notice's lines (NOTICE-FORMAT)."""
        render = RENDERERS.get(file_format)
        if render is None:
            known = ", ".join(RENDERERS)
            raise InvalidInputError(
                "NOTICE-FORMAT", f"{file_format!r} is not a notice format ({known})", "format"
            )
        return render(self.document(notice))

    def _line(self, payout: Payout) -> NoticeLine | Skipped:
        """The payee as the public sees them: a person masked, an organisation by name.

        A person whose identity was erased cannot be named (PERSON-ERASED).
        """
        person = self._store.read(Person, payout.beneficiary_id)  # only read: not copied
        if person is not None and person.is_erased:
            return Skipped(
                payout.id, payout.status, "PERSON-ERASED", "the person's identity was erased"
            )
        if person is not None:
            name, resident_id = mask_name(person.name), person.resident_id_masked
        else:
            payee = self._store.load(
                Organisation, payout.beneficiary_id, "organisation", copy=False
            )
            name, resident_id = payee.name, payee.credit_code
        return NoticeLine(
            payout_id=payout.id,
            name=name,
            resident_id=resident_id,
            programme=payout.programme,
            amount_fen=payout.amount_fen,
        )


def _why_not(payout: Payout, scope: str, period: str) -> Skipped | None:
    """Why a candidate is not listed: outside the region or period, or not awaiting notice."""
    if not within(payout.region_code, scope):
        return Skipped(payout.id, payout.status, "REGION-SCOPE", "outside the notice's region")
    if payout.period != period:
        return Skipped(payout.id, payout.status, "NOTICE-PERIOD", f"paid for {payout.period}")
    if payout.status is PayoutStatus.REQUESTED:
        return None
    if payout.status in {PayoutStatus.ON_NOTICE, PayoutStatus.HELD}:
        ends = payout.notice_ends_on.isoformat() if payout.notice_ends_on else "?"
        return Skipped(payout.id, payout.status, "PAYOUT-NOTICE", f"on notice until {ends}")
    return Skipped(payout.id, payout.status, "PAYOUT-STATE", f"already {payout.status.value}")


def _record(ctx: Context, document: NoticeDocument) -> PublicNotice:
    """The notice of ``document``, with the digest of each file printed from it."""
    return PublicNotice.issue(
        region_code=document.region_code,
        period=document.period,
        title=document.title,
        contact=document.contact,
        starts_on=document.starts_on,
        ends_on=document.ends_on,
        lines=[_stored(line) for line in document.lines],
        sha256={name: _sha256(render(document)) for name, render in RENDERERS.items()},
        meta=ctx.meta(),
        batch_id=document.batch_id,
    )


def _stored(line: NoticeLine) -> dict[str, Any]:
    return {
        "payout_id": str(line.payout_id),
        "name": line.name,
        "resident_id": line.resident_id,
        "programme": line.programme,
        "amount_fen": line.amount_fen,
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
