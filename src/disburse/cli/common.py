"""What every ``disburse`` command does first: read the settings, open the ledger."""

from __future__ import annotations

import getpass
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from disburse.access.context import Context
from disburse.bootstrap import System, open_system
from disburse.domain.meta import Role
from disburse.domain.text import TextError, TextKind, clean_text
from disburse.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from disburse.domain.errors import DomainError

errors = Console(stderr=True)


def load_settings() -> Settings:
    """The settings from the environment; exit 2 naming what is invalid."""
    try:
        return Settings()
    except ValueError as error:
        errors.print(f"[red]invalid settings:[/red] {error}")
        raise typer.Exit(2) from None


@contextmanager
def opened(settings: Settings | None = None, *, initialised: bool = False) -> Iterator[System]:
    """The system the settings name (``open_system``), closed on the way out.

    Exit 2 if the settings are invalid, 1 saying why the store cannot be opened.
    """
    settings = settings or load_settings()
    with ExitStack() as stack:
        try:
            system = stack.enter_context(open_system(settings, initialised=initialised))
        except ConfigurationError as error:
            errors.print(f"[red]cannot start:[/red] {error}")
            raise typer.Exit(1) from None
        yield system


def refused(error: DomainError) -> typer.Exit:
    """Print a refused command (its rule and field) and give the exit to raise (1)."""
    field = f" ({error.field})" if error.field else ""
    errors.print(f"[red]refused[/red] {error.rule_id}{field}: {error.message}")
    return typer.Exit(1)


def operator_context(role: Role = Role.ADMIN) -> Context:
    """The person at the terminal (``cli:<login>``), recorded as the actor of the command.

    Administrative commands act as admin; bulk imports and the monthly run act as the
    county clerk who runs them.
    """
    return Context(actor_id=f"cli:{getpass.getuser()}", role=role, client_id="disburse:cli")


def progress_bar(label: str, *, in_bytes: bool = False, quiet: bool = False) -> Progress:
    """A bar on stderr for a long command (counts, or bytes read); gone when it ends."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        DownloadColumn() if in_bytes else MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=quiet,
    )


def text_option(kind: TextKind) -> Callable[[str | None], str | None]:
    """A typer callback: the option's text as the ledger stores it (NFC), or exit 2.

    Refuses what the API refuses (TEXT-INVALID): control characters, lone surrogates,
    private-use or unassigned code points, text over the kind's length limit.
    """

    def clean(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return clean_text(value, kind=kind)
        except TextError as error:
            raise typer.BadParameter(f"{error.rule_id}: {error.message}") from None

    return clean
