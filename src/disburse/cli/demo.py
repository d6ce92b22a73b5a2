"""``disburse demo``: build the demo county in a fresh store and say what is in it."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from disburse.bootstrap import initialise
from disburse.cli.common import errors, load_settings, opened
from disburse.cli.report import table
from disburse.demo import MIN_PEOPLE, build_demo
from disburse.readside.reports import funds_report

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.demo import DemoSummary
    from disburse.readside.views import Views

console = Console()
_CATALOGUE_EVENTS = (
    "catalogue:PolicyCatalogue.Started",
    "catalogue:PolicyCatalogue.VersionPublished",
)
_INIT_EVENTS_AT_MOST = 100


def demo(
    people: Annotated[
        int, typer.Option(min=MIN_PEOPLE, max=200_000, help="People in the county's registry.")
    ] = 3000,
    seed: Annotated[int, typer.Option(help="The same seed builds the same county.")] = 7,
    year: Annotated[
        int | None,
        typer.Option(help="The year of the story (default: last year, so every date is past)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Build a realistic county, with planted irregularities, in a fresh store.

    Prints what was built, the alerts raised under every FRAUD-* rule, the budgets,
    one API key per role and the console users' initial passwords (shown once). Exit 1
    if the store is not empty, or if a rule raised no alert or the balances do not
    reconcile.
    """
    story_year = year or date.today().year - 1  # noqa: DTZ011 - the operator's calendar
    if not 2022 <= story_year < date.today().year:  # noqa: DTZ011, PLR2004
        errors.print("[red]refused[/red] DEMO-YEAR (year): from 2022 to last year")
        raise typer.Exit(1)
    settings = load_settings()
    with opened(settings) as system:
        ledger = system.ledger
        recorded = _records(ledger)
        if recorded:
            errors.print(
                f"[red]refused[/red] DEMO-FRESH-STORE: {settings.store.describe()} already holds "
                f"{recorded} events; the demo builds its county in a fresh store. Point "
                "DISBURSE_DATABASE_URL at a new file or database (./scripts/demo uses ./demo.db)."
            )
            raise typer.Exit(1)
        initialise(ledger)
        with errors.status("building the demo county") as status:
            summary = build_demo(
                system,
                people=people,
                seed=seed,
                year=story_year,
                say=lambda step: status.update(f"demo: {step}"),
            )
        if as_json:
            typer.echo(json.dumps(_as_json(summary), ensure_ascii=False, indent=2))
        else:
            _print(summary, system.views, settings.store.describe())
    if not summary.ok:
        errors.print(
            f"[red]the demo did not come out right:[/red] rules without an alert "
            f"{summary.rules_without_alert}, balance problems {summary.problems}"
        )
        raise typer.Exit(1)


def _records(ledger: Ledger) -> int:
    """Events in the store beyond the catalogue versions ``disburse init`` publishes."""
    head = ledger.store.recorder.max_notification_id() or 0
    if head > _INIT_EVENTS_AT_MOST:
        return head
    notifications = ledger.store.recorder.select_notifications(start=1, limit=head or 1)
    return sum(1 for n in notifications if not n.topic.endswith(_CATALOGUE_EVENTS))


def _as_json(summary: DemoSummary) -> dict[str, object]:
    data = asdict(summary)
    data["alerts"] = [
        {"rule": rule, "state": state, "count": count}
        for (rule, state), count in summary.alerts.items()
    ]
    data["rules_without_alert"] = summary.rules_without_alert
    return data


def _print(summary: DemoSummary, views: Views, store: str) -> None:
    console.print(
        f"[bold]Demo county 永吉县 (220221), January to June {summary.year}[/bold] in {store}: "
        f"{summary.people} people, {summary.posts} public posts, {summary.events} events"
    )
    console.print(
        f"{summary.stipends} stipends requested by six monthly runs "
        f"(refused by rule: {summary.refusals}); {summary.claims} grants and applications; "
        f"{summary.batches} payment batches, {summary.paid} lines paid, {summary.failed} failed "
        f"and {summary.reissued} re-issued; {summary.recoveries} recovery orders"
    )
    planted = Table(title="Planted irregularities and the alerts they raised")
    planted.add_column("rule")
    planted.add_column("planted")
    planted.add_column("alerts (state)")
    by_rule: dict[str, list[str]] = {}
    for (rule, state), count in summary.alerts.items():
        by_rule.setdefault(rule, []).append(f"{count} {state}")
    for rule, what in sorted(summary.planted.items()):
        planted.add_row(rule, what, ", ".join(by_rule.get(rule, ["[red]none[/red]"])))
    console.print(planted)
    console.print(table(funds_report(views)))
    verdict = "[green]reconcile[/green]" if not summary.problems else f"{summary.problems}"
    console.print(f"balances: {verdict}")
    _print_keys(summary)
    _print_users(summary)
    console.print(
        "Next: [bold]disburse serve[/bold], then e.g. "
        'curl -H "Authorization: Bearer <inspector key>" '
        "http://127.0.0.1:8000/v1/alerts ; disburse report funds ; disburse audit verify"
    )


def _print_keys(summary: DemoSummary) -> None:
    """One plain line per key, ``role  key``: never cut or folded, whatever the width.

    Written past rich, which fits a table to the terminal (or to 80 columns when piped)
    by cutting the widest column with an ellipsis, and a cut key is refused with 401.
    """
    console.print(
        "API keys created for each role (shown once; only their hashes are stored); "
        + ", ".join(f"{c.role} {c.name} in {c.region or 'nationwide'}" for c in summary.clients)
        + ":"
    )
    width = max(len(client.role) for client in summary.clients)
    for client in summary.clients:
        typer.echo(f"{client.role:<{width}}  {client.key}")


def _print_users(summary: DemoSummary) -> None:
    """The console users, ``user <name> <role> <password>`` one a line, written whole."""
    console.print(
        "Console users (sign in at http://127.0.0.1:8000/console/login; each initial "
        "password is shown once and must be changed at the first sign-in):"
    )
    for user in summary.users:
        typer.echo(f"user  {user.username}  {user.role}  {user.password}")
