"""``disburse serve`` and ``disburse clients``: run the API, manage its keys."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from disburse.cli.common import (
    errors,
    load_settings,
    opened,
    operator_context,
    refused,
    text_option,
)
from disburse.domain.errors import DomainError
from disburse.domain.meta import Role  # noqa: TC001 - typer reads annotations at runtime
from disburse.domain.text import TextKind
from disburse.settings import Settings  # noqa: TC001 - a parameter type, kept visible

#: prometheus_client's multiprocess directory (the name is prometheus_client's).
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

clients_app = typer.Typer(help="API clients and their keys.", no_args_is_help=True)
console = Console()


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (DISBURSE_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (DISBURSE_PORT).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="API processes (DISBURSE_WORKERS); views kept once."),
    ] = None,
) -> None:
    """Run the HTTP API on the configured store (views kept current in-process by default)."""
    settings = load_settings()
    processes = workers or settings.workers
    if processes > 1:
        with tempfile.TemporaryDirectory(prefix="disburse-metrics-") as counters:
            # Before any worker (or prometheus_client here) starts: every process of this
            # server writes its counters there, and /metrics adds them up.
            os.environ[MULTIPROC_DIR] = counters
            try:
                _serve(settings, host, port, processes)
            finally:
                os.environ.pop(MULTIPROC_DIR, None)
        return
    _serve(settings, host, port, 1)


def _serve(settings: Settings, host: str | None, port: int | None, processes: int) -> None:
    """Open the system; serve it in this process, or supervise ``processes`` workers."""
    import uvicorn  # noqa: PLC0415 - only the server needs it

    from disburse.api.app import create_app, digest_publisher  # noqa: PLC0415
    from disburse.api.logs import configure_logging  # noqa: PLC0415
    from disburse.api.metrics import Metrics  # noqa: PLC0415
    from disburse.persistence.store import LedgerStore  # noqa: PLC0415
    from disburse.readside.worker import BackgroundProjector  # noqa: PLC0415

    configure_logging()
    host, port = host or settings.host, port or settings.port
    with opened(settings, initialised=True) as system:
        if not system.clients.list():
            errors.print(
                "[yellow]no API clients yet.[/yellow] Create one, e.g.:\n"
                "  disburse clients create --name county-finance --role finance --region 220221"
            )
        shape = f"{processes} workers, " if processes > 1 else ""
        errors.print(
            f"disburse on http://{host}:{port} "
            f"(store {settings.store.describe()}, {shape}views {settings.projector})"
        )
        if processes == 1:
            uvicorn.run(
                create_app(system), host=host, port=port, access_log=False, log_level="warning"
            )
            return
        # The events written at start (the catalogue) count as the server's.
        Metrics().count_events(LedgerStore.events_written)
        embedded = settings.projector == "embedded"
        projector = BackgroundProjector(system.views.projector) if embedded else None
        digests = digest_publisher(system)
        if projector is not None:
            projector.start()
        digests.start()
        try:
            uvicorn.run(
                "disburse.api.asgi:app_from_environment",
                factory=True,
                workers=processes,
                host=host,
                port=port,
                access_log=False,
                log_level="warning",
            )
        finally:
            digests.stop()
            if projector is not None:
                projector.stop()


@clients_app.command("create")
def create(
    name: Annotated[
        str,
        typer.Option(
            help="Unique name; it names the actor in the log.",
            callback=text_option(TextKind.CODE),
        ),
    ],
    role: Annotated[Role, typer.Option(help="clerk, finance, inspector, claimant or admin.")],
    region: Annotated[str, typer.Option(help="2-, 4- or 6-digit region prefix.")],
    gateway: Annotated[
        bool,
        typer.Option(
            "--gateway",
            help="An outside system that signs in its own users: its X-Actor-Id names "
            "them (other keys may not send X-Actor-Id).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a client; its key is printed once and cannot be shown again."""
    with opened() as system:
        clients = system.clients
        try:
            issued = clients.create(
                operator_context(), name=name, role=role, region_code=region, gateway=gateway
            )
        except DomainError as error:
            raise refused(error) from None
    client = issued.client
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "client_id": str(client.id),
                    "name": client.name,
                    "role": client.role.value,
                    "region": client.region_code,
                    "gateway": client.gateway,
                    "key": issued.key,
                }
            )
        )
        return
    kind = ", gateway" if client.gateway else ""
    console.print(f"client {client.name} ({client.role.value}, region {client.region_code}{kind})")
    console.print(f"key: {issued.key}")
    console.print("[yellow]keep the key now: only its hash is stored[/yellow]")


@clients_app.command("list")
def list_clients(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every client, revoked ones included (keys are never shown)."""
    with opened() as system:
        clients = system.clients
        found = clients.list()
    rows = [
        {
            "client_id": str(c.id),
            "name": c.name,
            "role": c.role.value,
            "region": c.region_code,
            "gateway": c.gateway,
            "revoked": c.revoked,
            "created_by": c.created_by,
        }
        for c in found
    ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title="API clients")
    for column in ("name", "role", "region", "gateway", "state", "client id", "created by"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["role"]),
            str(row["region"]),
            "yes" if row["gateway"] else "",
            "revoked" if row["revoked"] else "live",
            str(row["client_id"]),
            str(row["created_by"]),
        )
    console.print(table)


@clients_app.command("revoke")
def revoke(
    client: Annotated[str, typer.Argument(help="Client name or id.")],
    reason: Annotated[
        str,
        typer.Option(help="Why (kept in the record).", callback=text_option(TextKind.REASON)),
    ],
) -> None:
    """Revoke a client's key at once (the client stays in the record)."""
    with opened() as system:
        clients = system.clients
        try:
            found = clients.find_by_name(client)
            if found is None:
                try:
                    found = clients.get(UUID(client))
                except (ValueError, DomainError):
                    errors.print(f"[red]no client[/red] {client}")
                    raise typer.Exit(1) from None
            clients.revoke(operator_context(), found.id, reason=reason)
        except DomainError as error:
            raise refused(error) from None
    console.print(f"revoked {found.name}")
