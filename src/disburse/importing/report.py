"""What an import refused: the problems of rows, and the report file that lists them."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.audit.export import spreadsheet_text

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

FILE_RULE = "IMPORT-FILE"
REPORT_COLUMNS = ("line", "field", "rule", "message")


@dataclass(frozen=True)
class Problem:
    """Why one row (or part of one) was refused. ``field`` is a column's canonical name."""

    line: int
    field: str | None
    rule_id: str
    message: str


class FileError(Exception):
    """The file cannot be imported (unreadable, not CSV or XLSX, a header it cannot map).

    Raised before any row is read, nothing is written; raised part-way (a damaged part
    of a file), the rows before ``line`` were imported.
    """

    def __init__(self, rule_id: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.rule_id = rule_id
        self.message = message
        self.line = line

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{self.rule_id}: {where}{self.message}"


class ReportWriter:
    """Writes the report as problems are found (CSV, UTF-8 with a BOM so Excel reads it).

    Columns: line (as the spreadsheet numbers it, the header being line 1), field (the
    column as the file names it), rule and message.
    """

    def __init__(self, handle: TextIO, label: Callable[[str | None], str]) -> None:
        self._handle = handle
        self._label = label
        self._writer = csv.writer(handle, lineterminator="\r\n")
        self._writer.writerow(REPORT_COLUMNS)
        self.written = 0

    def write(self, problem: Problem) -> None:
        """Add one line to the report."""
        self._writer.writerow(
            (
                str(problem.line),
                spreadsheet_text(self._label(problem.field)),
                problem.rule_id,
                spreadsheet_text(problem.message),
            )
        )
        self.written += 1

    def flush(self) -> None:
        """Push what was written to the file (the report survives an interrupted import)."""
        self._handle.flush()
