"""``disburse project``: run, rebuild and check the read models."""

from __future__ import annotations

import getpass
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import structlog
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from disburse.api.logs import configure_logging
from disburse.cli.common import opened
from disburse.readside.runner import DEFAULT_BATCH
from disburse.readside.stalls import SkipRefusedError
from disburse.readside.worker import follow
from disburse.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views

project_app = typer.Typer(
    help="Read models (balances, queue, alerts, audit, roster): run, rebuild, check, skip.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)
log = structlog.get_logger("disburse.readside")


@contextmanager
def _opened(batch_size: int = DEFAULT_BATCH) -> Iterator[tuple[Ledger, Views]]:
    try:
        settings = Settings()
    except ValueError as error:
        errors.print(f"[red]cannot start:[/red] {error}")
        raise typer.Exit(1) from None
    with opened(settings) as system:
        system.views.projector.batch_size = batch_size
        yield system.ledger, system.views


def _check_names(views: Views, names: list[str] | None) -> list[str] | None:
    unknown = sorted(set(names or ()) - set(views.projector.views))
    if unknown:
        errors.print(
            f"[red]unknown view(s):[/red] {', '.join(unknown)}; "
            f"views: {', '.join(sorted(views.projector.views))}"
        )
        raise typer.Exit(2)
    return names or None


def _stalled(views: Views) -> bool:
    """Print each stalled view and the way out; True if there is one."""
    stalls = views.projector.stalls()
    for stall in stalls.values():
        errors.print(
            f"[red]view {stall.view} is stalled[/red] on the event at position "
            f"{stall.position} ({stall.event_type}): {stall.error}"
        )
    if stalls:
        errors.print(
            "fix the cause (the worker retries the event), or see "
            "docs/operations.md on `disburse project skip`"
        )
    return bool(stalls)


@project_app.command("status")
def status() -> None:
    """Each view's position in the event log, its lag, and the event it is stalled on."""
    with _opened() as (_, views):
        table = Table(title="Views")
        for column in ("view", "position", "head", "lag", "stalled on"):
            table.add_column(
                column, justify="right" if column in ("position", "head", "lag") else "left"
            )
        for row in views.projector.status():
            stall = (
                ""
                if row.stall is None
                else f"{row.stall.position} {row.stall.event_type}: {row.stall.error}"
            )
            table.add_row(row.name, str(row.position), str(row.head), str(row.lag), stall)
        console.print(table)
        skips = views.projector.skips()
        if skips:
            skipped = Table(title="Events skipped by operators")
            for column in ("view", "position", "event", "reason", "by", "at"):
                skipped.add_column(column)
            for skip in skips:
                skipped.add_row(
                    skip.view,
                    str(skip.position),
                    skip.event_type,
                    skip.reason,
                    skip.skipped_by,
                    skip.skipped_at,
                )
            console.print(skipped)


@project_app.command("skip")
def skip(
    name: Annotated[str, typer.Argument(help="The stalled view.")],
    position: Annotated[int, typer.Option(min=1, help="Position of the event it is stalled on.")],
    reason: Annotated[str, typer.Option(help="Why the view may go on without it (kept).")],
) -> None:
    """Let a stalled view pass over the one event it cannot apply, keeping who and why.

    The event stays in the log; only this view leaves it out, now and on every rebuild.
    """
    with _opened() as (_, views):
        _check_names(views, [name])
        try:
            done = views.projector.skip(
                name, position, reason=reason, by=f"cli:{getpass.getuser()}"
            )
        except SkipRefusedError as error:
            errors.print(f"[red]not skipped:[/red] {error}")
            raise typer.Exit(2) from None
        views.projector.catch_up(names=[name])
        console.print(f"view {name} passes over position {position} ({done.event_type}): {reason}")
        if _stalled(views):
            raise typer.Exit(1)


@project_app.command("run")
def run(
    names: Annotated[list[str] | None, typer.Argument(help="Views to run (default: all).")] = None,
    once: Annotated[bool, typer.Option(help="Catch up with the log, then exit.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = DEFAULT_BATCH,
    interval: Annotated[float, typer.Option(min=0.01, help="Seconds between polls.")] = 0.5,
) -> None:
    """Keep views up to date in this process (a projection worker); stop with Ctrl-C or TERM.

    Logs go to stderr as JSON lines when it is not a terminal (as ``serve`` writes them).
    """
    configure_logging()
    with _opened(batch_size) as (_, views):
        chosen = _check_names(views, names)
        log.info("projector_started", views=chosen or sorted(views.projector.views), once=once)
        if once:
            applied = views.projector.catch_up(names=chosen)
            log.info("views_caught_up", applied=applied, head=views.projector.head())
            console.print(f"applied {applied} event(s)")
            if _stalled(views):
                raise typer.Exit(1)
            console.print("views are at the head of the log")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        console.print(f"following the log every {interval:g} s; stop with Ctrl-C")
        follow(views.projector, stop, interval=interval, names=chosen)
        log.info("projector_stopped")
        console.print("stopped")


@project_app.command("rebuild")
def rebuild(
    names: Annotated[
        list[str] | None, typer.Argument(help="Views to rebuild (default: all).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = DEFAULT_BATCH,
    jobs: Annotated[
        int,
        typer.Option(
            min=1, max=32, help="Views rebuilt at once, each in a process of its own (1: in turn)."
        ),
    ] = 1,
) -> None:
    """Rebuild views from the whole event log, without stopping the service.

    Each view is built afresh beside the live one, which keeps answering and keeping
    up, and replaces it in one transaction when it has caught up.
    """
    with _opened(batch_size) as (_, views):
        chosen = _check_names(views, names)
        every = chosen or sorted(views.projector.views)
        if jobs > 1 and len(every) > 1:
            _rebuild_in_processes(every, batch_size, jobs)
            if _stalled(views):
                raise typer.Exit(1)
            return
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
        console.print(f"rebuilt {', '.join(every)} from {applied} event(s)")
        if _stalled(views):
            raise typer.Exit(1)


def _rebuild_in_processes(names: list[str], batch_size: int, jobs: int) -> None:
    """``disburse project rebuild VIEW`` for each view, ``jobs`` processes at a time."""
    command = [sys.executable, "-m", "disburse", "project", "rebuild", "--batch-size"]
    waiting = list(names)
    running: dict[str, subprocess.Popen[bytes]] = {}
    failed: list[str] = []
    while waiting or running:
        while waiting and len(running) < jobs:
            name = waiting.pop(0)
            running[name] = subprocess.Popen([*command, str(batch_size), name])  # noqa: S603
        for name, process in list(running.items()):
            if process.poll() is not None:
                del running[name]
                if process.returncode != 0:
                    failed.append(name)
        time.sleep(0.05)
    if failed:
        errors.print(f"[red]not rebuilt:[/red] {', '.join(sorted(failed))}")
        raise typer.Exit(1)
    console.print(f"rebuilt {', '.join(names)}, {jobs} at a time")


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
