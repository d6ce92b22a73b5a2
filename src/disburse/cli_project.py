"""``disburse project``: run, rebuild and check the read models."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from disburse.bootstrap import build_ledger
from disburse.projections.runner import DEFAULT_BATCH
from disburse.settings import ConfigurationError, Settings
from disburse.views import Views, open_views

if TYPE_CHECKING:
    from collections.abc import Iterator

    from disburse.application.ledger import Ledger

project_app = typer.Typer(
    help="Read models (balances, queue, alerts, audit, roster): run, rebuild, check.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)


@contextmanager
def _opened(batch_size: int = DEFAULT_BATCH) -> Iterator[tuple[Ledger, Views]]:
    try:
        settings = Settings()
        ledger = build_ledger(settings)
    except (ConfigurationError, ValueError) as error:
        errors.print(f"[red]cannot start:[/red] {error}")
        raise typer.Exit(1) from None
    views = open_views(ledger.store, ledger.keys, settings)
    views.projector.batch_size = batch_size
    try:
        yield ledger, views
    finally:
        views.close()
        ledger.close()


def _check_names(views: Views, names: list[str] | None) -> list[str] | None:
    unknown = sorted(set(names or ()) - set(views.projector.views))
    if unknown:
        errors.print(
            f"[red]unknown view(s):[/red] {', '.join(unknown)}; "
            f"views: {', '.join(sorted(views.projector.views))}"
        )
        raise typer.Exit(2)
    return names or None


@project_app.command("status")
def status() -> None:
    """Each view's position in the event log and how far it lags behind."""
    with _opened() as (_, views):
        table = Table(title="Views")
        for column in ("view", "position", "head", "lag"):
            table.add_column(column, justify="left" if column == "view" else "right")
        for row in views.projector.status():
            table.add_row(row.name, str(row.position), str(row.head), str(row.lag))
        console.print(table)


@project_app.command("run")
def run(
    names: Annotated[list[str] | None, typer.Argument(help="Views to run (default: all).")] = None,
    once: Annotated[bool, typer.Option(help="Catch up with the log, then exit.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = DEFAULT_BATCH,
    interval: Annotated[float, typer.Option(min=0.01, help="Seconds between polls.")] = 0.5,
) -> None:
    """Keep views up to date in this process (a projection worker); stop with Ctrl-C or TERM."""
    with _opened(batch_size) as (_, views):
        chosen = _check_names(views, names)
        if once:
            applied = views.projector.catch_up(names=chosen)
            console.print(f"applied {applied} event(s); views are at the head of the log")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        console.print(f"following the log every {interval:g} s; stop with Ctrl-C")
        views.projector.run(stop, interval=interval, names=chosen)
        console.print("stopped")


@project_app.command("rebuild")
def rebuild(
    names: Annotated[
        list[str] | None, typer.Argument(help="Views to rebuild (default: all).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = DEFAULT_BATCH,
) -> None:
    """Drop views and rebuild them from the whole event log."""
    with _opened(batch_size) as (_, views):
        chosen = _check_names(views, names)
        columns = (
            TextColumn("rebuilding"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("rebuild", total=views.projector.head())

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            applied = views.projector.rebuild(chosen, progress=advance)
        label = ", ".join(chosen or sorted(views.projector.views))
        console.print(f"rebuilt {label} from {applied} event(s)")


@project_app.command("check")
def check() -> None:
    """Catch up, then check that the balances balance and match the ledger's funds."""
    with _opened() as (ledger, views):
        views.catch_up()
        problems = views.check(ledger.store)
        if problems:
            for problem in problems:
                errors.print(f"[red]✗[/red] {problem}")
            raise typer.Exit(1)
        funds = len(views.balances.funds())
        console.print(f"✓ all entries balance; {funds} fund(s) match the ledger")
