"""``disburse payouts approve``: approve the queue, or named payouts, in bulk."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer
from rich.console import Console

from disburse.application.payouts import Approval, Approved
from disburse.cli.common import errors, opened, operator_context, refused
from disburse.domain.errors import DomainError, InvalidInputError
from disburse.domain.meta import Role
from disburse.domain.money import yuan
from disburse.domain.payout import Payout
from disburse.domain.regions import check_region_scope, within
from disburse.readside.queue_queries import MAX_LIMIT

if TYPE_CHECKING:
    from disburse.bootstrap import System

payouts_app = typer.Typer(help="Payouts: approval in bulk.", no_args_is_help=True)
console = Console()
MAX_APPROVALS = 20_000


@payouts_app.command("approve")
def approve(
    region: Annotated[
        str, typer.Option(help="Region code or prefix the approver acts for (220221, 2202).")
    ],
    payout_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Payouts to approve. None: every payout of the queue filter."),
    ] = None,
    fund: Annotated[str | None, typer.Option(help="Queue filter: the paying fund's id.")] = None,
    programme: Annotated[str | None, typer.Option(help="Queue filter: programme code.")] = None,
    older_than_days: Annotated[
        int | None, typer.Option(min=0, max=3650, help="Queue filter: requested before.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_APPROVALS, help="Approve at most this many.")
    ] = 5_000,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be approved; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print each outcome as JSON.")] = False,
) -> None:
    """Approve payouts as finance, each as by itself (PAYOUT-SOD, PAYOUT-NOTICE, fund limits).

    Without ids, the payouts awaiting a decision in the queue under --region (and the
    filters), oldest first, each at the version the queue shows: one changed since is
    refused (IF-MATCH). Committed a chunk per transaction; a refused payout fails no other.
    Exit 0 when all were approved, 1 when some were refused.
    """
    try:
        scope = check_region_scope(region, field="region")
        fund_id = None if fund is None else _uuid(fund, "fund")
        named = [_uuid(p, "payout_ids") for p in payout_ids or []]
    except DomainError as error:
        raise refused(error) from None
    if not scope:
        errors.print("[red]refused[/red] REGION-CODE (region): name a region")
        raise typer.Exit(1)
    with opened() as system:
        if named:
            approvals = [Approval(payout_id) for payout_id in named]
        else:
            approvals = _queued(system, scope, (fund_id, programme, older_than_days), limit)
        if dry_run:
            _print_plan(system, approvals, scope, as_json=as_json)
            return
        outcomes = system.ledger.payouts.approve_many(
            operator_context(Role.FINANCE), approvals, scope=scope
        )
    _report(outcomes, as_json=as_json)
    if any(o.refusal is not None for o in outcomes):
        raise typer.Exit(1)


def _uuid(text: str, field: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInputError("REQUEST-SCHEMA", f"{text!r} is not an id", field) from None


def _queued(
    system: System, scope: str, filters: tuple[UUID | None, str | None, int | None], limit: int
) -> list[Approval]:
    """The queue's payouts awaiting a decision, oldest first, at the versions it shows."""
    system.views.catch_up()
    fund_id, programme, older_than_days = filters
    approvals: list[Approval] = []
    while len(approvals) < limit:
        rows = system.views.queue.pending(
            limit=min(MAX_LIMIT, limit - len(approvals)),
            offset=len(approvals),
            region=scope,
            fund_id=fund_id,
            programme=programme,
            older_than_days=older_than_days,
            today=system.ledger.today() if older_than_days is not None else None,
        )
        approvals += [Approval(UUID(row.payout_id), row.version) for row in rows]
        if len(rows) < MAX_LIMIT:
            break
    return approvals


def _print_plan(system: System, approvals: list[Approval], scope: str, *, as_json: bool) -> None:
    """What would be approved: the payouts that exist inside ``scope``, nothing else."""
    payouts = [system.ledger.store.read(Payout, a.payout_id) for a in approvals]
    found = [p for p in payouts if p is not None and within(p.region_code, scope)]
    if as_json:
        typer.echo(
            json.dumps([{"payout_id": str(p.id), "amount_fen": p.amount_fen} for p in found])
        )
        return
    total = sum(p.amount_fen for p in found)
    console.print(f"would approve {len(found)} payout(s), {yuan(total)} yuan; nothing written")


def _report(outcomes: list[Approved], *, as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "payout_id": str(o.payout_id),
                        "accepted": o.refusal is None,
                        "status": None if o.status is None else o.status.value,
                        "rule_id": None if o.refusal is None else o.refusal.rule_id,
                        "detail": None if o.refusal is None else o.refusal.message,
                    }
                    for o in outcomes
                ],
                ensure_ascii=False,
            )
        )
        return
    approved = sum(o.refusal is None for o in outcomes)
    console.print(f"approved {approved} of {len(outcomes)} payout(s)")
    by_rule = Counter(o.refusal.rule_id for o in outcomes if o.refusal is not None)
    for rule, count in by_rule.most_common():
        console.print(f"  refused {count}: {rule}")
