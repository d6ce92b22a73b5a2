"""``disburse audit``: digests, chain verification, time travel, evidence, samples, erasure.

Over 400 lines on purpose: one command group per module, and the inspectors' commands
share their date parsing, signer and refusal printing.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path  # noqa: TC003 - typer reads annotations at runtime
from typing import TYPE_CHECKING, Annotated, overload
from uuid import UUID

import typer
from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.table import Table

from disburse.audit.asof import entity_as_of, parse_target, region_as_of
from disburse.audit.days import check_day
from disburse.audit.digest import (
    Digest,
    DigestError,
    Signer,
    generate_signing_key,
    publish_digest,
    signer_for,
    take_digest,
)
from disburse.audit.export import Selection, write_pack
from disburse.audit.sampling import draw_sample
from disburse.audit.verify import verify as verify_chain
from disburse.cli.common import (
    errors,
    load_settings,
    opened,
    operator_context,
    progress_bar,
    refused,
    text_option,
)
from disburse.domain.errors import DomainError, InvalidInputError
from disburse.domain.text import TextKind
from disburse.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from disburse.audit.verify import Report
    from disburse.readside.balance_queries import Totals

audit_app = typer.Typer(
    help="Tamper evidence: digests, verification, the ledger as of a date, evidence packs.",
    no_args_is_help=True,
)
console = Console()

JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
FullIdentity = Annotated[
    bool,
    typer.Option(
        "--full-identity",
        help="Show resident IDs, names and accounts in full (default: masked).",
    ),
]


def _signer(settings: Settings) -> Signer | None:
    try:
        return signer_for(settings)
    except ConfigurationError as error:
        errors.print(f"[red]invalid settings:[/red] {error}")
        raise typer.Exit(2) from None


@audit_app.command("keygen")
def keygen() -> None:
    """Print a new Ed25519 signing key for DISBURSE_AUDIT_SIGNING_KEY, and its public key."""
    seed = generate_signing_key()
    console.print(f"DISBURSE_AUDIT_SIGNING_KEY={seed}")
    console.print(f"public key (give it to inspectors): {Signer(seed).public_key}")


@audit_app.command("digest")
def digest(
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the digest to this file.")
    ] = None,
    publish: Annotated[
        bool, typer.Option("--publish", help="Also append it to the store's digest log.")
    ] = False,
) -> None:
    """Print the chain's head (position and hash), signed if a signing key is configured.

    Keep the output outside the system: `verify --from-digest` later proves the log still
    holds exactly the history it names.
    """
    settings = load_settings()
    signer = _signer(settings)
    with opened(settings) as system:
        ledger = system.ledger
        recorder = ledger.store.chained
        head = publish_digest(recorder, signer) if publish else None
        result = head or take_digest(recorder, signer)
    text = result.to_json()
    if out is not None:
        out.write_text(text, encoding="utf-8")
    typer.echo(text, nl=False)


@audit_app.command("verify")
def verify(
    from_digest: Annotated[
        Path | None,
        typer.Option("--from-digest", help="A digest taken earlier: the log must extend it."),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="The digest must be signed by this key (default: DISBURSE_AUDIT_PUBLIC_KEY).",
        ),
    ] = None,
    as_json: JsonOut = False,
) -> None:
    """Recompute the hash chain from the stored events; exit 1 at the first break.

    Reports where an event was modified, deleted, inserted or reordered, and whether the
    log extends the digest given. Reads the log a page at a time (constant memory).
    """
    settings = load_settings()
    pinned = public_key or settings.audit_public_key
    expected = _read_digest(from_digest, pinned)
    with opened(settings) as system:
        ledger = system.ledger
        recorder = ledger.store.chained
        total = recorder.max_notification_id() or 0
        with progress_bar("verifying", quiet=as_json) as progress:
            task = progress.add_task("chain", total=total)
            report = verify_chain(
                recorder,
                from_digest=expected,
                pinned_public_key=pinned,
                progress=lambda position: progress.update(task, completed=position),
            )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report, expected)
    if not report.ok:
        raise typer.Exit(1)


def _read_digest(path: Path | None, pinned: str | None) -> Digest | None:
    if path is None:
        return None
    try:
        found = Digest.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, DigestError) as error:
        errors.print(f"[red]cannot read the digest:[/red] {error}")
        raise typer.Exit(2) from None
    try:
        found.check_signature(pinned)
    except DigestError as error:
        errors.print(f"[red]digest refused:[/red] {error}")
        raise typer.Exit(1) from None
    return found


def _print_report(report: Report, expected: Digest | None) -> None:
    console.print(f"events checked: {report.checked}")
    console.print(f"head: position {report.head_position}, hash {report.head_hash}", soft_wrap=True)
    console.print(f"digests in the digest log checked: {report.digests_checked}")
    if expected is not None and report.extends_digest:
        console.print(
            f"[green]the log extends the digest[/green] of {expected.taken_at} "
            f"(position {expected.position})"
        )
    if report.finding is None:
        console.print("[green]chain intact[/green]")
        return
    finding = report.finding
    console.print(
        f"[red]BROKEN at position {finding.position}[/red] ({finding.kind}): {finding.detail}"
    )


@audit_app.command("as-of")
def as_of(
    day: Annotated[str, typer.Argument(metavar="DATE", help="YYYY-MM-DD (end of that day).")],
    entity: Annotated[
        str, typer.Argument(metavar="ENTITY", help="An entity id, or a region code for balances.")
    ],
    full_identity: FullIdentity = False,
    as_json: JsonOut = False,
) -> None:
    """An entity as it stood at the end of DATE; for a fund or region, balances as of then."""
    when = _day(day, "date")
    settings = load_settings()
    with opened(settings) as system:
        ledger = system.ledger
        views = system.views
        try:
            views.catch_up()
            target = parse_target(entity)
            if isinstance(target, UUID):
                found = entity_as_of(
                    ledger.store,
                    views.balances,
                    target,
                    when,
                    settings.zone,
                    full_identity=full_identity,
                )
                result: dict[str, object] = {
                    "as_of": when.isoformat(),
                    "cut": found.cut.isoformat(),
                    "entity_id": str(found.entity_id),
                    "entity_type": found.entity_type,
                    "version": found.version,
                    "later_events": found.later_events,
                    "state": found.state,
                }
                totals = found.balances.totals if found.balances else None
            else:
                region = region_as_of(views.balances, target, when, settings.zone)
                result = {"as_of": when.isoformat(), "region": region.scope}
                totals = region.totals
        except DomainError as error:
            raise refused(error) from None
        except PersistenceError as error:
            errors.print(
                f"[red]cannot read the store:[/red] {error}; `disburse audit verify` shows "
                "whether stored events were altered"
            )
            raise typer.Exit(1) from None
    if totals is not None:
        result["balances"] = _totals(totals)
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"as of the end of {when.isoformat()} ({settings.timezone})")
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in result.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        table.add_row(key, shown)
    console.print(table)


def _totals(totals: Totals) -> dict[str, int | bool]:
    return {**asdict(totals), "balanced": totals.balanced}


@audit_app.command("erase")
def erase(
    person_id: Annotated[UUID, typer.Argument(help="The person whose identity is erased.")],
    legal_basis: Annotated[
        str,
        typer.Option(
            "--legal-basis",
            help="The provision that allows the erasure.",
            callback=text_option(TextKind.LABEL),
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why, for the audit trail.", callback=text_option(TextKind.REASON)
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a person's identity for good by destroying their key (crypto-shredding).

    The events, amounts and hashes stay; the resident ID, name and bank account of the
    person's events become unreadable. This cannot be undone.
    """
    if not yes:
        typer.confirm(f"Destroy the identity of person {person_id} for good?", abort=True)
    with opened(load_settings()) as system:
        ledger = system.ledger
        try:
            destroyed = ledger.people.erase_identity(
                operator_context(), person_id, legal_basis=legal_basis, reason=reason
            )
        except DomainError as error:
            raise refused(error) from None
    state = "key destroyed" if destroyed else "the key was already destroyed"
    console.print(f"identity of {person_id} erased ({state})")


@audit_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="The zip file to write.")],
    entity: Annotated[
        UUID | None, typer.Option("--entity", help="Events of this entity and naming it.")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Events this actor recorded (client/actor).")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Events of this region (2, 4 or 6 digits).")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="First day (local).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Last day (local).")
    ] = None,
    full_identity: FullIdentity = False,
) -> None:
    """Write an evidence pack: events, chain hashes, CSV, XLSX, digest and a README.

    Select exactly one of --entity, --actor or --region, optionally within --from/--to.
    The pack's README says how to re-check its hashes with standard Python.
    """
    settings = load_settings()
    try:
        selection = Selection(
            entity_id=entity,
            actor_id=actor,
            region=region,
            date_from=_day(date_from, "--from"),
            date_to=_day(date_to, "--to"),
        )
    except DomainError as error:
        raise refused(error) from None
    signer = _signer(settings)
    partial = out.with_name(out.name + ".partial")
    try:
        with opened(settings) as system, partial.open("wb") as handle:
            summary = write_pack(
                system.ledger,
                system.views,
                selection,
                handle,
                full_identity=full_identity,
                zone=settings.zone,
                exporter=operator_context().actor_id,
                signer=signer,
            )
        partial.replace(out)
    except DomainError as error:
        raise refused(error) from None
    finally:
        partial.unlink(missing_ok=True)
    span = (
        f"positions {summary.first_position}-{summary.last_position}"
        if summary.events
        else "no events"
    )
    console.print(f"wrote {out}: {summary.events} events ({span}), head {summary.digest.position}")


@overload
def _day(text: str, option: str) -> date: ...
@overload
def _day(text: None, option: str) -> None: ...
def _day(text: str | None, option: str) -> date | None:
    """A day given on the command line; exit 2 with one line if it is no day or out of range."""
    if text is None:
        return None
    try:
        return check_day(date.fromisoformat(text), option)
    except ValueError:
        errors.print(f"[red]invalid {option}[/red] {text!r}: use YYYY-MM-DD")
    except InvalidInputError as error:
        errors.print(f"[red]invalid {option}[/red] {error}", soft_wrap=True)
    raise typer.Exit(2)


@audit_app.command("sample")
def sample(
    rate: Annotated[float, typer.Option("--rate", help="Share of payouts to pick (0-1].")],
    seed: Annotated[
        str,
        typer.Option(
            "--seed",
            help="Any text; the same seed, the same pick.",
            callback=text_option(TextKind.CODE),
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            "--reason", help="Why the sample is drawn.", callback=text_option(TextKind.REASON)
        ),
    ],
    region: Annotated[
        str, typer.Option("--region", help="Payouts of this region only (default: all).")
    ] = "",
    as_json: JsonOut = False,
) -> None:
    """Pick payouts for manual review, reproducibly, and record the draw as an event."""
    settings = load_settings()
    with opened(settings) as system:
        ledger = system.ledger
        views = system.views
        try:
            result = draw_sample(
                ledger, views, operator_context(), rate=rate, seed=seed, scope=region, reason=reason
            )
        except DomainError as error:
            raise refused(error) from None
    if as_json:
        body = {
            "sample_id": str(result.sample_id),
            "rate": result.rate,
            "seed": result.seed,
            "region": result.scope,
            "population": result.population,
            "population_digest": result.population_digest,
            "as_of_position": result.as_of_position,
            "selected": [str(p) for p in result.selected],
        }
        typer.echo(json.dumps(body, indent=2))
        return
    console.print(f"sample {result.sample_id}: {len(result.selected)} payouts picked")
    table = Table()
    table.add_column("payout")
    for payout_id in result.selected:
        table.add_row(str(payout_id))
    console.print(table)
    console.print(
        f"population {result.population} payouts (region {result.scope or 'all'}, up to "
        f"position {result.as_of_position}, digest {result.population_digest})",
        soft_wrap=True,
    )
