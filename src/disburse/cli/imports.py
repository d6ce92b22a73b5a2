"""``disburse import people|claims|attendance FILE``: the spreadsheets a county bureau exchanges.

Exit codes: 0 every row written or already there; 1 finished, some rows rejected (listed
in the report); 2 the file, its header, an option or the settings were refused before
any row was read (nothing written); 3 stopped part-way (a damaged part of the file, the
store failed, interrupted): the rows before were imported and importing the same file
again is safe. Column names and values: docs/import.md.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from disburse.cli.common import (
    errors,
    load_settings,
    opened,
    operator_context,
    progress_bar,
)
from disburse.domain.meta import Role
from disburse.importing.attendance import ATTENDANCE
from disburse.importing.claims import CLAIMS
from disburse.importing.columns import read_header
from disburse.importing.people import PEOPLE
from disburse.importing.reader import open_table
from disburse.importing.report import FileError
from disburse.importing.runner import import_table

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.importing.columns import Header
    from disburse.importing.reader import Table
    from disburse.importing.runner import Kind, Summary

T = TypeVar("T")
REFUSED = 2

import_app = typer.Typer(
    help="Import the spreadsheets a county HR bureau exchanges (CSV or XLSX): "
    "people, claims, attendance.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True, highlight=False)

FileArgument = Annotated[
    Path, typer.Argument(metavar="FILE", help="The CSV or XLSX file.", show_default=False)
]
ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="Where to write the report of rejected rows (default: FILE with the suffix "
        ".report.csv, beside it).",
    ),
]
SheetOption = Annotated[
    str | None, typer.Option("--sheet", help="XLSX: the worksheet to read (default: the first).")
]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="CSV: utf-8 or gb18030 (default: UTF-8 when the whole file decodes as UTF-8, "
        "else GB18030, which covers GBK).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


@import_app.command("people")
def people(
    file: FileArgument,
    report: ReportOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register the people of a roster (花名册); people registered already are left alone.

    A person registered with other facts (account, status...) is rejected, not changed.
    Exit 0 all imported or already there, 1 rows rejected, 2 file refused, 3 stopped.
    """
    _import(PEOPLE, file, report, sheet, encoding, as_json=as_json)


@import_app.command("claims")
def claims(
    file: FileArgument,
    report: ReportOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    as_json: JsonOption = False,
) -> None:
    """Claim transport grants and submit applications, one claim per row, by external id.

    Exit 0 all imported or already there, 1 rows rejected, 2 file refused, 3 stopped.
    """
    _import(CLAIMS, file, report, sheet, encoding, as_json=as_json)


@import_app.command("attendance")
def attendance(
    file: FileArgument,
    report: ReportOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    as_json: JsonOption = False,
) -> None:
    """Log monthly attendance sheets of post holders (the monthly run requests the stipends).

    Exit 0 all imported or already there, 1 rows rejected, 2 file refused, 3 stopped.
    """
    _import(ATTENDANCE, file, report, sheet, encoding, as_json=as_json)


def _import(
    kind: Kind[T],
    file: Path,
    report: Path | None,
    sheet: str | None,
    encoding: str | None,
    *,
    as_json: bool,
) -> None:
    target = report or file.with_suffix(".report.csv")
    if target.resolve() == file.resolve():
        _refuse("the report would overwrite the file imported: choose another --report")
    try:
        table = open_table(file, sheet=sheet, encoding=encoding)
    except FileError as error:
        _refuse(str(error))
    with table:
        try:
            header = read_header(table.header, kind.columns, one_of=kind.one_of)
        except FileError as error:
            _refuse(str(error))
        settings = load_settings()
        with ExitStack() as stack:
            try:
                system = stack.enter_context(opened(settings))
            except typer.Exit:
                raise typer.Exit(REFUSED) from None
            summary = _run(kind, table, header, target, system.ledger)
    if as_json:
        typer.echo(json.dumps(_as_json(kind, table, target, summary), ensure_ascii=False, indent=2))
    else:
        _print(kind, table, target, summary)
    raise typer.Exit(summary.exit_code)


def _refuse(message: str) -> NoReturn:
    errors.print(f"[red]refused[/red] {escape(message)}", soft_wrap=True, highlight=False)
    errors.print("nothing was imported")
    raise typer.Exit(REFUSED)


def _run(kind: Kind[T], table: Table, header: Header, target: Path, ledger: Ledger) -> Summary:
    label = f"importing {kind.name} from {table.path.name}"
    with progress_bar(label, in_bytes=table.unit == "bytes") as bar:
        task = bar.add_task(kind.name, total=table.total)
        try:
            return import_table(
                ledger,
                kind,
                table,
                header=header,
                report=target,
                actor=operator_context(Role.CLERK),
                progress=lambda position: bar.update(task, completed=position),
            )
        except FileError as error:
            _refuse(str(error))


def _as_json(kind: Kind[T], table: Table, target: Path, summary: Summary) -> dict[str, object]:
    return {
        "kind": kind.name,
        "file": str(table.path),
        "source": table.source,
        "sha256": table.digest,
        "rows": summary.rows,
        "written": summary.written,
        "already_present": summary.present,
        "rejected": summary.rejected,
        "problems": summary.problems,
        "by_rule": dict(sorted(summary.by_rule.items())),
        "report": str(target),
        "stopped": summary.stopped,
        "exit_code": summary.exit_code,
    }


def _print(kind: Kind[T], table: Table, target: Path, summary: Summary) -> None:
    console.print(f"import {kind.name}: {table.path} ({table.source})", markup=False)
    console.print(
        f"rows read {summary.rows}: written {summary.written}, already present "
        f"{summary.present}, rejected {summary.rejected}"
    )
    if summary.by_rule:
        rules = ", ".join(f"{rule} {count}" for rule, count in sorted(summary.by_rule.items()))
        console.print(f"problems by rule: {rules}", markup=False)
    console.print(f"report: {target} ({summary.problems} problem(s))", markup=False)
    if summary.stopped is not None:
        errors.print(f"[red]stopped[/red] at {escape(summary.stopped)}", soft_wrap=True)
