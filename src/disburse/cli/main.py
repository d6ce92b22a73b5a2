"""The ``disburse`` command line."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from disburse import __version__
from disburse.bootstrap import initialise
from disburse.cli.audit import audit_app
from disburse.cli.batches import batch_app
from disburse.cli.common import load_settings, opened
from disburse.cli.demo import demo
from disburse.cli.imports import import_app
from disburse.cli.notices import notice
from disburse.cli.payouts import payouts_app
from disburse.cli.project import project_app
from disburse.cli.report import report_app
from disburse.cli.run import run_app
from disburse.cli.serve import clients_app, serve
from disburse.cli.users import users_app
from disburse.persistence.keys import generate_secret
from disburse.persistence.recorders.sql import LEDGER_SCHEMA

app = typer.Typer(
    name="disburse",
    help="Event-sourced ledger for rural employment-assistance subsidies.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Secret keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(project_app, name="project")
app.add_typer(clients_app, name="clients")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")
app.add_typer(run_app, name="run")
app.add_typer(import_app, name="import")
app.add_typer(payouts_app, name="payouts")
app.add_typer(batch_app, name="batch")
app.command()(serve)
app.command()(demo)
app.command()(notice)
console = Console()


@app.command()
def version() -> None:
    """Print the disburse version."""
    console.print(f"disburse {__version__}")


@app.command()
def init() -> None:
    """Create the store's tables if needed and publish missing default catalogue versions."""
    settings = load_settings()
    with opened(settings) as system:
        ledger = system.ledger
        published = initialise(ledger)
        table = Table(title="Policy catalogue", show_header=True)
        for column in ("version", "region", "effective from", "title"):
            table.add_column(column)
        for document in ledger.policy.versions():
            table.add_row(
                document.version,
                document.region_prefix or "nationwide",
                document.effective_from.isoformat(),
                document.title,
            )
        console.print(f"store: {settings.store.describe()}")
        console.print(f"key fingerprint: {ledger.keys.fingerprint}")
        console.print(table)
        if published:
            console.print(f"published: {', '.join(published)}")
        else:
            console.print("already initialised: nothing to publish")


@app.command()
def migrate() -> None:
    """Upgrade an older store in place: its own tables, then views whose definition changed.

    Views are dropped and rebuilt from the log; running it again changes nothing.
    """
    settings = load_settings()
    with opened(settings) as system:
        chained = system.ledger.store.chained
        was = getattr(chained, "schema_upgraded_from", LEDGER_SCHEMA)
        projector = system.views.projector
        caught_up = system.views.catch_up()
        console.print(f"store: {settings.store.describe()}")
        if was == LEDGER_SCHEMA:
            console.print(f"ledger tables: version {LEDGER_SCHEMA}, nothing to upgrade")
        else:
            console.print(
                f"ledger tables: version {'none' if was is None else was} -> {LEDGER_SCHEMA}"
            )
        table = Table(title="Views", show_header=True)
        for column in ("view", "version", "upgrade"):
            table.add_column(column)
        for name, version in sorted(projector.versions().items()):
            change = projector.upgraded.get(name)
            table.add_row(
                name, str(version), "" if change is None else f"rebuilt from version {change[0]}"
            )
        console.print(table)
        console.print(f"views caught up: {caught_up} event(s) applied")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new secret key for DISBURSE_SECRET_KEY (keep it in your secret store)."""
    console.print(generate_secret())


def main() -> None:
    """Console-script entry point."""
    app()
