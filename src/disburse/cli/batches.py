"""``disburse batch``: a payment batch's file for the bank, and the bank's return file."""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 - typer reads annotations at runtime
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

from disburse.bankfiles.returns import ReturnFileError
from disburse.bankfiles.service import (
    RETURN_FORMATS,
    export_batch,
    read_return_file,
    record_return_file,
)
from disburse.bankfiles.template import DEFAULT_TEMPLATE
from disburse.cli.common import errors, opened, operator_context, refused, text_option
from disburse.domain.batch import EXPORT_FORMATS
from disburse.domain.errors import DomainError, InvalidInputError
from disburse.domain.meta import Role
from disburse.domain.money import yuan
from disburse.domain.text import TextKind

batch_app = typer.Typer(help="Payment batches: bank files out and back.", no_args_is_help=True)
console = Console()
#: The largest return file read (a batch of 20,000 lines is far smaller).
MAX_FILE_BYTES = 32 * 1024 * 1024


def _uuid(text: str, field: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInputError("REQUEST-SCHEMA", f"{text!r} is not an id", field) from None


@batch_app.command("export")
def export(
    batch: Annotated[str, typer.Argument(help="The payment batch's id.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the file.")],
    file_format: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(EXPORT_FORMATS)}.")
    ] = "xlsx",
    template: Annotated[
        str, typer.Option(help="Bank template (docs/operations.md).")
    ] = DEFAULT_TEMPLATE,
    reason: Annotated[
        str | None,
        typer.Option(help="Why, for the audit trail.", callback=text_option(TextKind.REASON)),
    ] = None,
) -> None:
    """Write the batch's payment file for the bank, and record the export with its SHA-256.

    The export is an event of the batch (PaymentBatch.Exported: format, template, digest,
    who and when), so the file the bank received can be matched with the ledger later.
    """
    try:
        batch_id = _uuid(batch, "batch")
        with opened() as system:
            sent = export_batch(
                system.ledger.payouts,
                operator_context(Role.FINANCE),
                batch_id,
                file_format=file_format,
                template=template,
                reason=reason,
            )
    except DomainError as error:
        raise refused(error) from None
    out.write_bytes(sent.content)
    console.print(f"wrote {out} ({sent.file_format}, template {sent.template})")
    console.print(f"sha256 {sent.sha256}")


@batch_app.command("results")
def results(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The bank's return file.")
    ],
    batch: Annotated[
        str | None, typer.Option(help="The batch it answers (default: found from the file).")
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option("--format", help=f"One of {', '.join(RETURN_FORMATS)} (default: guessed)."),
    ] = None,
    template: Annotated[
        str, typer.Option(help="Bank template of a CSV/XLSX file.")
    ] = DEFAULT_TEMPLATE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
) -> None:
    """Record the bank's return file, whole or not at all (BATCH-TOTALS, per-line problems).

    A refused file writes nothing; every bad line is listed with its line number and rule.
    Exit 0 when recorded, 1 when refused.
    """
    if file.stat().st_size > MAX_FILE_BYTES:
        errors.print(f"[red]refused[/red] BANKFILE-SIZE (file): larger than {MAX_FILE_BYTES} bytes")
        raise typer.Exit(1)
    try:
        batch_id = None if batch is None else _uuid(batch, "batch")
        read = read_return_file(
            file.read_bytes(), file_name=file.name, file_format=file_format, template=template
        )
        with opened() as system:
            recorded = record_return_file(
                system.ledger.payouts, operator_context(Role.FINANCE), read, batch_id=batch_id
            )
    except ReturnFileError as error:
        _refused_file(error, as_json=as_json)
        raise typer.Exit(1) from None
    except DomainError as error:
        raise refused(error) from None
    paid = sum(line.outcome == "paid" for line in read.lines)
    outcome = {
        "batch_id": str(recorded.id),
        "recorded": len(read.lines),
        "paid": paid,
        "failed": len(read.lines) - paid,
        "complete": len(recorded.results) == recorded.count,
    }
    if as_json:
        typer.echo(json.dumps(outcome))
        return
    console.print(
        f"recorded {len(read.lines)} result(s) for batch {recorded.id}: {paid} paid, "
        f"{len(read.lines) - paid} failed; batch total {yuan(recorded.total_fen)} yuan"
    )


def _refused_file(error: ReturnFileError, *, as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "rule_id": error.rule_id,
                    "problems": [
                        {
                            "line": p.line,
                            "rule_id": p.rule_id,
                            "column": p.column,
                            "detail": p.detail,
                        }
                        for p in error.problems
                    ],
                },
                ensure_ascii=False,
            )
        )
    errors.print(f"[red]refused[/red] {error.rule_id}: the file is refused whole, nothing recorded")
    for problem in error.problems:
        errors.print(f"  {problem}", markup=False)
