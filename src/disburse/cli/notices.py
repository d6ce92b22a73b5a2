"""``disburse notice``: issue a public notice (公示) of a region's payouts and print it."""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 - typer reads annotations at runtime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer
from rich.console import Console

from disburse.application.notices import check_period
from disburse.cli.common import errors, opened, operator_context, refused, text_option
from disburse.domain.errors import DomainError, InvalidInputError
from disburse.domain.meta import Role
from disburse.domain.money import yuan
from disburse.domain.notice import MAX_DAYS, MIN_DAYS
from disburse.domain.regions import check_region_code
from disburse.domain.text import TextKind
from disburse.printing.capitals import capitals

if TYPE_CHECKING:
    from disburse.application.notices import Issued

console = Console()
FORMATS = {".pdf": "pdf", ".xlsx": "xlsx"}


def notice(
    period: Annotated[
        str | None, typer.Argument(help="The period paid for: YYYY-MM (or YYYY).")
    ] = None,
    *,
    out: Annotated[Path, typer.Option(help="The file to write: NAME.pdf or NAME.xlsx.")],
    region: Annotated[
        str | None, typer.Option(help="The 6-digit code of the region noticed (with PERIOD).")
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(help="Instead: the payment batch whose payouts the notice lists."),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            min=MIN_DAYS,
            max=MAX_DAYS,
            help="How long the notice runs (default: the catalogue's notice_days).",
        ),
    ] = None,
    contact: Annotated[
        str | None,
        typer.Option(
            help="Where to object (default: DISBURSE_NOTICE_CONTACT).",
            callback=text_option(TextKind.LABEL),
        ),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option(
            help="The notice's title, e.g. XX县乡村公益性岗位补贴发放公示.",
            callback=text_option(TextKind.NAME),
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Issue the public notice of the region's payouts of PERIOD that await it, as finance.

    Lists the payouts still requested, masked (张*三, 2202**********0018), opens their
    notice window (PAYOUT-NOTICE) from today, and writes the notice to --out. Payouts on
    notice or past it are reported, not listed; with none left, NOTICE-EMPTY (exit 1).
    With --batch instead, the notice of what that payment batch pays (发放结果公示): it
    opens no window, and a second run writes the notice already issued.
    """
    if (batch is None) == (period is None or region is None):
        raise typer.BadParameter("name PERIOD and --region, or --batch")
    try:
        batch_id = None if batch is None else _uuid(batch)
        if period is not None and region is not None:
            check_period(period)
            check_region_code(region, "region")
        file_format = _format(out)
    except DomainError as error:
        raise refused(error) from None
    with opened() as system:
        where = contact or system.settings.notice_contact
        if not where:
            errors.print(
                "[red]refused[/red] NOTICE-CONTACT (contact): say where to object "
                "(--contact or DISBURSE_NOTICE_CONTACT)"
            )
            raise typer.Exit(1)
        notices = system.ledger.notices
        ctx = operator_context(Role.FINANCE)
        try:
            if batch_id is not None:
                issued = notices.issue_for_batch(
                    ctx, batch_id, contact=where, days=days, title=title
                )
            else:
                assert period is not None  # noqa: S101 - checked above, with region
                assert region is not None  # noqa: S101
                system.views.catch_up()
                issued = notices.issue(
                    ctx,
                    region_code=region,
                    period=period,
                    candidates=system.views.queue.awaiting_notice(region=region, period=period),
                    contact=where,
                    days=days,
                    title=title,
                )
        except DomainError as error:
            raise refused(error) from None
        out.write_bytes(notices.print(issued.notice, file_format))
    _report(issued, out, as_json=as_json)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInputError("REQUEST-SCHEMA", f"{text!r} is not an id", "batch") from None


def _format(out: Path) -> str:
    file_format = FORMATS.get(out.suffix.lower())
    if file_format is None:
        raise InvalidInputError("NOTICE-FORMAT", "the file is NAME.pdf or NAME.xlsx", "out")
    return file_format


def _report(issued: Issued, out: Path, *, as_json: bool) -> None:
    notice = issued.notice
    summary = {
        "notice_id": str(notice.id),
        "file": str(out),
        "count": notice.count,
        "total_fen": notice.total_fen,
        "total_capitals": capitals(notice.total_fen),
        "starts_on": notice.starts_on.isoformat(),
        "ends_on": notice.ends_on.isoformat(),
        "sha256": notice.sha256,
        "skipped": [
            {
                "payout_id": str(s.payout_id),
                "status": s.status.value,
                "rule_id": s.rule_id,
                "detail": s.detail,
            }
            for s in issued.skipped
        ],
    }
    if as_json:
        typer.echo(json.dumps(summary | {"created": issued.created}, ensure_ascii=False))
        return
    if not issued.created:
        console.print("issued before: the notice as it was posted")
    console.print(
        f"notice {notice.id}: {notice.count} payout(s), {yuan(notice.total_fen)} yuan "
        f"({summary['total_capitals']}), on notice {notice.starts_on} to {notice.ends_on}"
    )
    console.print(f"written: {out} (sha256 {notice.sha256[FORMATS[out.suffix.lower()]]})")
    for skip in issued.skipped:
        console.print(f"  not listed {skip.payout_id}: {skip.rule_id} ({skip.detail})")
