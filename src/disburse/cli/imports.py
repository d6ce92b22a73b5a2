"""``disburse import people|claims|attendance|facts FILE``: the spreadsheets counties exchange.

Exit codes: 0 every row written or already there; 1 finished, some rows rejected (listed
in the report); 2 the file, its header, an option or the settings were refused before
any row was read (nothing written); 3 stopped part-way (a damaged part of the file, the
store failed, interrupted): the rows before were imported and importing the same file
again is safe. Column names and values: docs/import.md.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from enum import StrEnum
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
from disburse.importing.facts import fact_kind
from disburse.importing.people import PEOPLE
from disburse.importing.reader import open_table
from disburse.importing.report import FileError
from disburse.importing.runner import Kind, import_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.application.ledger import Ledger
    from disburse.importing.columns import Header
    from disburse.importing.reader import Table
    from disburse.importing.runner import Summary
    from disburse.readside.alerts.queries import Alert

T = TypeVar("T")
REFUSED = 2

import_app = typer.Typer(
    help="Import the spreadsheets a county HR bureau exchanges (CSV or XLSX): "
    "people, claims, attendance, and other departments' lists (facts).",
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


class FactSource(StrEnum):
    """The departments' lists ``import facts`` reads (importing/facts.py ``SOURCES``)."""

    SOCIAL_INSURANCE = "social-insurance"
    UNEMPLOYMENT = "unemployment"
    CIVIL_AFFAIRS_DEATHS = "civil-affairs-deaths"
    PAYROLL = "payroll"


@import_app.command("facts")
def facts(
    file: FileArgument,
    source: Annotated[
        FactSource,
        typer.Option("--source", help="Whose list it is (columns: docs/import.md)."),
    ],
    report: ReportOption = None,
    sheet: SheetOption = None,
    encoding: EncodingOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record another department's monthly list as facts on the people it names (比对).

    Unknown people are reported, not created. Prints the alerts the facts raised.
    Exit 0 all recorded, already there or unknown, 1 rows rejected, 2 refused, 3 stopped.
    """
    name = source.value
    _import(
        lambda table: fact_kind(name, table.digest),
        file,
        report,
        sheet,
        encoding,
        as_json=as_json,
        alerts=True,
    )


def _import(
    kind_of: Kind[T] | Callable[[Table], Kind[T]],
    file: Path,
    report: Path | None,
    sheet: str | None,
    encoding: str | None,
    *,
    as_json: bool,
    alerts: bool = False,
) -> None:
    target = report or file.with_suffix(".report.csv")
    if target.resolve() == file.resolve():
        _refuse("the report would overwrite the file imported: choose another --report")
    try:
        table = open_table(file, sheet=sheet, encoding=encoding)
    except FileError as error:
        _refuse(str(error))
    with table:
        kind = kind_of if isinstance(kind_of, Kind) else kind_of(table)
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
            before = system.ledger.store.recorder.max_notification_id() or 0
            summary = _run(kind, table, header, target, system.ledger)
            raised: list[Alert] = []
            if alerts:
                system.views.catch_up()
                raised = system.views.alerts.raised_after(before)
    if as_json:
        shown = _as_json(kind, table, target, summary)
        if alerts:
            shown["alerts"] = [_alert_json(a) for a in raised]
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        _print(kind, table, target, summary)
        if alerts:
            _print_alerts(raised)
    raise typer.Exit(summary.exit_code)


def _alert_json(alert: Alert) -> dict[str, object]:
    return {
        "alert_id": str(alert.alert_id),
        "rule_id": alert.rule_id,
        "subject_type": alert.subject_type,
        "subject_id": alert.subject_id,
        "person_id": alert.person_id,
        "region_code": alert.region_code,
        "summary": alert.summary,
        "evidence": list(alert.evidence),
    }


def _print_alerts(raised: list[Alert]) -> None:
    if not raised:
        console.print("alerts raised by these facts: none")
        return
    console.print(f"alerts raised by these facts: {len(raised)} (disburse report alerts)")
    for alert in raised:
        console.print(
            f"  {alert.rule_id} {alert.subject_type} {alert.subject_id} "
            f"({alert.region_code}): {alert.summary}",
            markup=False,
        )


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
        "unknown_people": summary.noted,
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
        + (f", unknown people {summary.noted} (not created)" if summary.noted else "")
    )
    if summary.by_rule:
        rules = ", ".join(f"{rule} {count}" for rule, count in sorted(summary.by_rule.items()))
        console.print(f"problems by rule: {rules}", markup=False)
    console.print(f"report: {target} ({summary.problems} problem(s))", markup=False)
    if summary.stopped is not None:
        errors.print(f"[red]stopped[/red] at {escape(summary.stopped)}", soft_wrap=True)
