"""``disburse users``: console user accounts (create, list, disable, reset, TOTP)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from disburse.cli.common import errors, opened, operator_context, refused, text_option
from disburse.domain.errors import DomainError
from disburse.domain.meta import Role  # noqa: TC001 - typer reads annotations at runtime
from disburse.domain.text import TextKind

if TYPE_CHECKING:
    from disburse.access.users import IssuedPassword

users_app = typer.Typer(
    help="Console users: people who sign in to /console/.", no_args_is_help=True
)
console = Console()

_Reason = Annotated[
    str, typer.Option(help="Why (kept in the record).", callback=text_option(TextKind.REASON))
]
_Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@users_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Username: 3-32 of a-z, 0-9, '.', '_', '-'.")],
    role: Annotated[Role, typer.Option(help="clerk, finance, inspector, claimant or admin.")],
    region: Annotated[str, typer.Option(help="2-, 4- or 6-digit region prefix.")],
    as_json: _Json = False,
) -> None:
    """Create a user; the initial password is printed once and must be changed at sign-in."""
    with opened() as system:
        try:
            issued = system.users.create(
                operator_context(), username=name, role=role, region_code=region
            )
        except DomainError as error:
            raise refused(error) from None
    _print_password(issued, as_json=as_json, what="initial password")


@users_app.command("list")
def list_users(as_json: _Json = False) -> None:
    """Every user, disabled ones included (passwords are never shown)."""
    with opened() as system:
        found = system.users.list()
    rows = [
        {
            "username": u.username,
            "role": u.role.value,
            "region": u.region_code,
            "disabled": u.disabled,
            "must_change_password": u.must_change_password,
            "totp_enabled": u.totp_enabled,
            "locked_until": None if u.locked_until is None else u.locked_until.isoformat(),
            "created_by": u.created_by,
        }
        for u in found
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title="Console users")
    for column in ("username", "role", "region", "state", "TOTP", "locked until", "created by"):
        table.add_column(column)
    for row, user in zip(rows, found, strict=True):
        state = "disabled" if user.disabled else "must change password"
        table.add_row(
            user.username,
            user.role.value,
            user.region_code,
            state if user.disabled or user.must_change_password else "active",
            "yes" if user.totp_enabled else "",
            str(row["locked_until"] or ""),
            user.created_by,
        )
    console.print(table)


@users_app.command("disable")
def disable(
    name: Annotated[str, typer.Argument(help="Username.")],
    reason: _Reason,
) -> None:
    """Disable a user: no more sign-ins, and every session of theirs ends at once."""
    with opened() as system:
        try:
            system.users.disable(operator_context(), name, reason=reason)
        except DomainError as error:
            raise refused(error) from None
    console.print(f"disabled {name}")


@users_app.command("reset")
def reset(
    name: Annotated[str, typer.Argument(help="Username.")],
    reason: _Reason,
    as_json: _Json = False,
) -> None:
    """Give a user a new initial password (printed once): it unlocks them, ends their sessions."""
    with opened() as system:
        try:
            issued = system.users.reset(operator_context(), name, reason=reason)
        except DomainError as error:
            raise refused(error) from None
    _print_password(issued, as_json=as_json, what="new password")


@users_app.command("totp")
def totp(name: Annotated[str, typer.Argument(help="Username.")]) -> None:
    """Enrol a user in TOTP: prints the otpauth:// URI for their authenticator app, once."""
    with opened() as system:
        try:
            uri = system.users.enroll_totp(operator_context(), name)
        except DomainError as error:
            raise refused(error) from None
    typer.echo(uri)
    errors.print(
        "[yellow]give the URI (or a QR code of it) to the user now: from their next "
        "sign-in they need a code from it[/yellow]"
    )


def _print_password(issued: IssuedPassword, *, as_json: bool, what: str) -> None:
    user = issued.user
    if as_json:
        typer.echo(json.dumps({"username": user.username, "password": issued.password}))
        return
    console.print(f"user {user.username} ({user.role.value}, region {user.region_code})")
    typer.echo(f"{what}: {issued.password}")
    console.print(
        "[yellow]give it to the user now: it is not stored, and must be changed at "
        "first sign-in[/yellow]"
    )
