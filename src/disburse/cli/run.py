"""``disburse run month|grants``: the monthly stipend run and the proactive grant run."""

from __future__ import annotations

import csv
import json
from pathlib import Path  # noqa: TC003 - typer reads annotations at runtime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from disburse.application.monthly import run_month
from disburse.application.proactive import run_grants
from disburse.cli.common import (
    errors,
    opened,
    operator_context,
    progress_bar,
    refused,
)
from disburse.domain.errors import DomainError
from disburse.domain.meta import Role
from disburse.domain.money import yuan
from disburse.domain.months import Month
from disburse.domain.regions import check_region_scope

if TYPE_CHECKING:
    from disburse.application.monthly import MonthlyRun
    from disburse.application.proactive import GrantRun

run_app = typer.Typer(
    help="The runs of a county: monthly stipends, proactive grants.", no_args_is_help=True
)
FIRST_YEAR, LAST_YEAR = 2000, 2100
console = Console()


@run_app.command("month")
def month_run(
    month: Annotated[str, typer.Argument(help="The month, YYYY-MM.")],
    region: Annotated[
        str, typer.Option(help="Region code or prefix (220221 a county, 2202 a city).")
    ],
    report: Annotated[
        Path | None,
        typer.Option(help="Write every refused sheet (post, person, rule, field, message) here."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Request the month's stipend for every post whose attendance is logged.

    Refused sheets are skipped and counted by rule; running the same month again
    requests nothing twice.
    """
    try:
        target = Month.parse(month)
        scope = check_region_scope(region, field="region")
    except DomainError as error:
        raise refused(error) from None
    if not scope:
        errors.print("[red]refused[/red] REGION-CODE (region): name a region")
        raise typer.Exit(1)
    with opened() as system, progress_bar(f"stipends {target} {scope}", quiet=as_json) as bar:
        task = bar.add_task("run", total=None)
        run = run_month(
            system.ledger,
            system.views,
            operator_context(Role.CLERK),
            month=target,
            region=scope,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if report is not None:
        _write_refusals(run, report)
    if as_json:
        typer.echo(json.dumps(run.as_json(), ensure_ascii=False, indent=2))
    else:
        _print(run, report)


def _print(run: MonthlyRun, report: Path | None) -> None:
    console.print(
        f"month {run.month}, region {run.region}: {run.sheets} attendance sheet(s) logged "
        f"for {run.held_posts} held post(s)"
    )
    table = Table(title="Stipends by fund and programme")
    for column in ("fund source", "fund region", "programme"):
        table.add_column(column)
    for column in ("requested now", "yuan", "requested before", "yuan "):
        table.add_column(column, justify="right")
    for total in run.totals.values():
        table.add_row(
            total.source,
            total.fund_region,
            total.programme,
            str(total.requested),
            yuan(total.requested_fen),
            str(total.earlier),
            yuan(total.earlier_fen),
        )
    console.print(table)
    if run.no_stipend:
        console.print(f"{run.no_stipend} sheet(s) with no day worked: nothing to pay")
    if run.refusals:
        refusals = Table(title="Refused (nothing written; fix and run again)")
        refusals.add_column("rule")
        refusals.add_column("sheets", justify="right")
        refusals.add_column("first reason")
        first: dict[str, str] = {}
        for refusal in run.refusals:
            first.setdefault(refusal.rule_id, refusal.message)
        for rule, count in run.refusals_by_rule().items():
            refusals.add_row(rule, str(count), first[rule])
        console.print(refusals)
        if report is not None:
            console.print(f"refused sheets listed in {report}")
    console.print(
        f"requested {run.requested} stipend(s), {yuan(run.requested_fen)} yuan; "
        f"{run.earlier} already requested; {len(run.refusals)} refused"
    )


def _write_refusals(run: MonthlyRun, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["month", "post_id", "person_id", "rule", "field", "message"])
        for refusal in run.refusals:
            writer.writerow(
                [
                    run.month,
                    refusal.post_id,
                    refusal.person_id,
                    refusal.rule_id,
                    refusal.field or "",
                    refusal.message,
                ]
            )


@run_app.command("grants")
def grants_run(
    year: Annotated[
        int, typer.Argument(help="The year (the period a grant counts in), 2000 to 2100.")
    ],
    region: Annotated[
        str, typer.Option(help="Region code or prefix (220221 a county, 2202 a city).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide everyone, write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Open the transport grants the facts on record give, without claims (免申即享).

    Each grant goes through notice and approval like a claimed one. People not found
    are listed with the rule that stopped them; running the same year again opens
    nothing twice.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise typer.BadParameter(f"a year from {FIRST_YEAR} to {LAST_YEAR}", param_hint="YEAR")
    try:
        scope = check_region_scope(region, field="region")
    except DomainError as error:
        raise refused(error) from None
    if not scope:
        errors.print("[red]refused[/red] REGION-CODE (region): name a region")
        raise typer.Exit(1)
    with opened() as system:
        run = run_grants(
            system.ledger,
            system.views,
            operator_context(Role.FINANCE),
            year=year,
            region=scope,
            dry_run=dry_run,
        )
    if as_json:
        typer.echo(json.dumps(run.as_json(), ensure_ascii=False, indent=2))
    else:
        _print_grants(run)


def _print_grants(run: GrantRun) -> None:
    what = "would open" if run.dry_run else "opened"
    console.print(
        f"proactive grants {run.year}, region {run.region}: {run.candidates} person(s) with "
        "work on record starting that year"
    )
    if run.found:
        found = Table(title="Found (grant payouts on notice and approval like any other)")
        for column in ("person", "payout", "yuan", "now"):
            found.add_column(column)
        for item in run.found:
            found.add_row(
                item.person_id, item.payout_id, yuan(item.amount_fen), "yes" if item.created else ""
            )
        console.print(found)
    if run.not_found:
        stopped = Table(title="Not found (nothing written)")
        for column in ("person", "rule", "why"):
            stopped.add_column(column)
        for missed in run.not_found:
            stopped.add_row(missed.person_id, missed.rule_id, missed.message)
        console.print(stopped)
    console.print(
        f"{what} {run.opened} grant(s), {yuan(run.opened_fen)} yuan; {run.earlier} opened "
        f"before; {len(run.not_found)} not found"
    )
