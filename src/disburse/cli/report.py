"""``disburse report``: budget execution, payouts, alerts, village posts: table, CSV, XLSX.

The rows come from :mod:`disburse.readside.reports`; this module shows them. Money is yuan with
two decimals, exact from the integer fen: text in a table (with thousands separators)
and in CSV, numbers in XLSX (``Decimal`` fen / 100, shown ``#,##0.00``).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, TextIO

import typer
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from disburse.audit.export import spreadsheet_text
from disburse.cli.common import errors, opened, refused
from disburse.domain.errors import DomainError
from disburse.domain.money import FEN_PER_YUAN, yuan
from disburse.domain.regions import region_scope
from disburse.readside.reports import (
    ViewMovingError,
    alerts_report,
    funds_report,
    posts_report,
    programme_report,
    region_report,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from disburse.application.ledger import Ledger
    from disburse.readside.reports import Kind, Report, Value
    from disburse.readside.views import Views

report_app = typer.Typer(
    help="Reports for finance and inspectors: budget execution, payouts, alerts, posts.",
    no_args_is_help=True,
)
console = Console()


class Format(StrEnum):
    """How a report is shown."""

    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"


FormatOption = Annotated[
    Format, typer.Option("--format", help="table (on the terminal), csv or xlsx.")
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", dir_okay=False, help="The file to write: required for xlsx; csv: else stdout."
    ),
]
RegionOption = Annotated[
    str,
    typer.Option("--region", metavar="PREFIX", help="Only this region: 2, 4 or 6 digits."),
]
YearOption = Annotated[
    int | None, typer.Option("--year", min=2000, max=2100, help="Only this year.")
]


@report_app.command("funds")
def funds(
    fmt: FormatOption = Format.TABLE,
    out: OutOption = None,
    region: RegionOption = "",
    year: YearOption = None,
) -> None:
    """Budget execution per fund (source, region, year), with a total."""
    scope = _scope(region)
    _report(lambda views, _: funds_report(views, scope=scope, year=year), fmt, out)


@report_app.command("region")
def region(
    fmt: FormatOption = Format.TABLE,
    out: OutOption = None,
    region: RegionOption = "",
    year: YearOption = None,
) -> None:
    """Budget execution per region code and fund source, subtotals per region, a total."""
    scope = _scope(region)
    _report(lambda views, _: region_report(views, scope=scope, year=year), fmt, out)


@report_app.command("programme")
def programme(
    fmt: FormatOption = Format.TABLE,
    out: OutOption = None,
    region: RegionOption = "",
    year: Annotated[
        int | None,
        typer.Option("--year", min=2000, max=2100, help="Only payouts for periods of this year."),
    ] = None,
) -> None:
    """Payouts per programme and status: how many, their amount, what was recovered."""
    scope = _scope(region)
    _report(lambda views, _: programme_report(views, scope=scope, year=year), fmt, out)


@report_app.command("alerts")
def alerts(
    fmt: FormatOption = Format.TABLE,
    out: OutOption = None,
    region: RegionOption = "",
) -> None:
    """Anti-fraud alerts per rule and state (open, confirmed, dismissed), with totals."""
    scope = _scope(region)
    _report(lambda views, _: alerts_report(views, scope=scope), fmt, out)


@report_app.command("posts")
def posts(
    fmt: FormatOption = Format.TABLE,
    out: OutOption = None,
    region: RegionOption = "",
) -> None:
    """Villages not yet lifted with fewer people on post than the minimum (POST-QUOTA-VILLAGE)."""
    scope = _scope(region)
    _report(
        lambda views, ledger: posts_report(views, minimum=village_minimum(ledger), scope=scope),
        fmt,
        out,
    )


def village_minimum(ledger: Ledger) -> Callable[[str], int]:
    """``village_min_posts`` of the catalogue version in force today, per region code."""
    today = ledger.today()
    found: dict[str, int] = {}

    def minimum(region_code: str) -> int:
        if region_code not in found:
            policy = ledger.policy.in_force(region_code, today)
            found[region_code] = policy.post.village_min_posts
        return found[region_code]

    return minimum


def _scope(region: str) -> str:
    try:
        return region_scope(region)
    except DomainError as error:
        raise refused(error) from None


def _report(build: Callable[[Views, Ledger], Report], fmt: Format, out: Path | None) -> None:
    """Catch the views up with the log, build the report, show it or write it."""
    if fmt is Format.XLSX and out is None:
        errors.print("[red]--format xlsx needs --out FILE[/red]")
        raise typer.Exit(2)
    if fmt is Format.TABLE and out is not None:
        errors.print("[red]--out writes a file:[/red] add --format csv or --format xlsx")
        raise typer.Exit(2)
    with opened() as system:
        try:
            system.views.catch_up()
            report = build(system.views, system.ledger)
        except DomainError as error:
            raise refused(error) from None
        except ViewMovingError as error:
            errors.print(f"[red]cannot read a steady view:[/red] {error}")
            raise typer.Exit(1) from None
    if out is None and fmt is Format.CSV:
        text = io.StringIO()
        write_csv(report, text)
        typer.echo(text.getvalue(), nl=False)
    elif out is None:
        console.print(table(report))
        console.print(report.note)
    else:
        try:
            _write(report, fmt, out)
        except OSError as error:
            errors.print(f"[red]cannot write {out}:[/red] {error}")
            raise typer.Exit(1) from None
        console.print(f"wrote {out}: {len(report.rows)} rows, {report.note}")


def _write(report: Report, fmt: Format, out: Path) -> None:
    """Write through a ``.partial`` file, so ``out`` is never half written."""
    partial = out.with_name(out.name + ".partial")
    try:
        if fmt is Format.CSV:
            with partial.open("w", encoding="utf-8-sig", newline="") as text:
                write_csv(report, text)
        else:
            with partial.open("wb") as binary:
                write_xlsx(report, binary)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)


# -- showing values -----------------------------------------------------------------------


def cell_text(value: Value, kind: Kind, *, grouped: bool = False) -> str:
    """A value as CSV holds it, or (``grouped``) as the table shows it: 1,234.50 and 1.25%."""
    if value is None:  # a rate without a budget; no year on a total line
        return "—" if grouped and kind == "rate" else ""
    if kind == "money" and isinstance(value, int):
        return _grouped_yuan(value) if grouped else yuan(value)
    if kind == "rate" and grouped:
        return f"{value}%"
    return str(value)


def _grouped_yuan(amount_fen: int) -> str:
    sign = "-" if amount_fen < 0 else ""
    whole, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{fen:02d}"


def table(report: Report) -> Table:
    """The report as a rich table: numbers right-aligned, totals bold and ruled off."""
    shown = Table(title=report.title)
    for column in report.columns:
        shown.add_column(column.header, justify="left" if column.kind == "text" else "right")
    rows = report.rows
    for index, row in enumerate(rows):
        cells = zip(row.values, report.columns, strict=True)
        following = rows[index + 1] if index + 1 < len(rows) else None
        shown.add_row(
            *(Text(cell_text(value, column.kind, grouped=True)) for value, column in cells),
            style="bold" if row.total else None,
            end_section=row.total or (following is not None and following.total),
        )
    return shown


def write_csv(report: Report, out: TextIO) -> None:
    """Header, rows (yuan with two decimals, rates in percent, no sign), the note last."""
    rows = csv.writer(out)
    rows.writerow([column.header for column in report.columns])
    for row in report.rows:
        cells = zip(row.values, report.columns, strict=True)
        rows.writerow([_csv_cell(value, column.kind) for value, column in cells])
    rows.writerow([report.note])


def _csv_cell(value: Value, kind: Kind) -> str:
    text = cell_text(value, kind)
    return spreadsheet_text(text) if kind == "text" else text


_XLSX_FORMATS: dict[Kind, str] = {"money": "#,##0.00", "rate": "0.00", "count": "0", "year": "0"}


def write_xlsx(report: Report, out: BinaryIO) -> None:
    """One sheet named after the report: bold header and totals, numbers as numbers."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(report.name)
    for index, column in enumerate(report.columns):
        texts = [cell_text(row.values[index], column.kind, grouped=True) for row in report.rows]
        width = max(cell_len(column.header), *(cell_len(text) for text in texts)) + 2
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, column.header, "text", bold) for column in report.columns])
    for row in report.rows:
        font = bold if row.total else None
        cells = zip(row.values, report.columns, strict=True)
        sheet.append([_xlsx_cell(sheet, value, column.kind, font) for value, column in cells])
    sheet.append([])
    sheet.append([report.note])
    book.save(out)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Value, kind: Kind, font: Font | None) -> object:
    """A cell: yuan as an exact decimal (fen / 100), text never taken for a formula."""
    cell = WriteOnlyCell(sheet)
    if kind == "money" and isinstance(value, int):
        cell.value = Decimal(value).scaleb(-2)
    elif isinstance(value, str):
        cell.value = spreadsheet_text(value)
    else:
        cell.value = value
    if kind in _XLSX_FORMATS:
        cell.number_format = _XLSX_FORMATS[kind]
    if font is not None:
        cell.font = font
    return cell
