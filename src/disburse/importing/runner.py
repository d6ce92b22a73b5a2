"""The import loop: read a row, check it, write it (or report it), and go on to the next."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Generic, TypeVar

from eventsourcing.persistence import PersistenceError

from disburse.domain.errors import DomainError
from disburse.importing.columns import Cells, read_header
from disburse.importing.reader import open_table
from disburse.importing.report import FILE_RULE, FileError, Problem, ReportWriter
from disburse.importing.seen import SeenKeys
from disburse.importing.values import is_blank

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from disburse.access.context import Context
    from disburse.application.ledger import Ledger
    from disburse.importing.columns import Column, Header
    from disburse.importing.reader import Table

T = TypeVar("T")
DUPLICATE_RULE = "IMPORT-DUPLICATE-ROW"
STOPPED_RULE = "IMPORT-STOPPED"
_PROGRESS_EVERY = 100
_FLUSH_EVERY = 1000


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One kind of file: its columns, how a row is read, and the command that writes it.

    ``read`` records the row's problems on its cells and returns the row's facts (None
    if a problem was found) and its key in the file (None if the key is unreadable).
    ``write`` runs the command and tells whether it wrote anything (False: already there).
    ``fields`` maps a domain error's field to the column it comes from.
    """

    name: str
    columns: tuple[Column, ...]
    read: Callable[[Cells], tuple[T | None, str | None]]
    write: Callable[[Ledger, Context, T], bool]
    key_field: str
    duplicate: str  # the message for a key met again, with ``{line}``
    fields: Mapping[str, str] = field(default_factory=dict)
    one_of: tuple[str, ...] = ()

    def column_for(self, domain_field: str | None) -> str | None:
        """The column a domain error's field refers to."""
        return None if domain_field is None else self.fields.get(domain_field, domain_field)


@dataclass
class Summary:
    """What an import did with the rows of its file."""

    rows: int = 0
    written: int = 0
    present: int = 0
    rejected: int = 0
    problems: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    stopped: str | None = None

    @property
    def exit_code(self) -> int:
        """0 every row written or already there, 1 some rows rejected, 3 stopped part-way."""
        if self.stopped is not None:
            return 3
        return 1 if self.rejected else 0


def import_file(
    ledger: Ledger,
    kind: Kind[T],
    path: Path,
    *,
    report: Path,
    actor: Context,
    sheet: str | None = None,
    encoding: str | None = None,
) -> Summary:
    """Import a file; ``FileError`` before any row is read if the file or header is refused."""
    with open_table(path, sheet=sheet, encoding=encoding) as table:
        header = read_header(table.header, kind.columns, one_of=kind.one_of)
        return import_table(ledger, kind, table, header=header, report=report, actor=actor)


def import_table(
    ledger: Ledger,
    kind: Kind[T],
    table: Table,
    *,
    header: Header,
    report: Path,
    actor: Context,
    progress: Callable[[int], None] = lambda _done: None,
) -> Summary:
    """Import the rows of an open table (``FileError`` if the report cannot be written)."""

    def write(line: int, facts: T) -> bool:
        return kind.write(ledger, row_context(actor, kind.name, table, line), facts)

    try:
        handle = report.open("w", encoding="utf-8-sig", newline="")
    except OSError as error:
        raise FileError(
            FILE_RULE, f"cannot write the report {report}: {error.strerror or error}"
        ) from None
    with handle:
        try:
            seen = SeenKeys()
        except (OSError, sqlite3.Error) as error:
            raise FileError(FILE_RULE, f"cannot make a temporary file: {error}") from None
        with seen:
            return run_import(
                kind,
                table,
                header=header,
                report=ReportWriter(handle, header.label),
                seen=seen,
                write=write,
                progress=progress,
            )


def run_import(
    kind: Kind[T],
    table: Table,
    *,
    header: Header,
    report: ReportWriter,
    seen: SeenKeys,
    write: Callable[[int, T], bool],
    progress: Callable[[int], None] = lambda _done: None,
) -> Summary:
    """Import every row of ``table``; each written row is one transaction of its own.

    Stops early (``Summary.stopped``, also on the report) only when the rest of the file
    cannot be read, the store fails, or the operator interrupts; the rows before were
    imported, and re-running the file is safe.
    """
    summary = Summary()
    line = 1
    try:
        for line, values in table.rows():
            if all(is_blank(v) for v in values):
                continue
            summary.rows += 1
            problems, created = _one_row(
                kind, header, line=line, values=values, seen=seen, write=write
            )
            _count(summary, report, problems, created)
            if summary.rows % _PROGRESS_EVERY == 0:
                progress(table.done())
            if summary.rows % _FLUSH_EVERY == 0:
                report.flush()
    except FileError as error:
        _stop(summary, report, Problem(error.line or line, None, error.rule_id, error.message))
    except PersistenceError as error:
        _stop(
            summary,
            report,
            Problem(line, None, STOPPED_RULE, f"the store failed ({error}); {_RESUME}"),
        )
    except KeyboardInterrupt:
        _stop(summary, report, Problem(line, None, STOPPED_RULE, f"interrupted; {_RESUME}"))
    progress(table.done())
    report.flush()
    return summary


_RESUME = (
    "this line may or may not have been written, the lines after it were not read; "
    "importing the same file again is safe and writes only what is missing"
)


def _one_row(
    kind: Kind[T],
    header: Header,
    *,
    line: int,
    values: Sequence[object],
    seen: SeenKeys,
    write: Callable[[int, T], bool],
) -> tuple[list[Problem], bool | None]:
    cells = Cells(line, header, values)
    facts, key = kind.read(cells)
    if key is not None:
        first = seen.first_line(key, line)
        if first is not None:
            cells.refuse(kind.key_field, DUPLICATE_RULE, kind.duplicate.format(line=first))
    if cells.problems or facts is None:
        return cells.problems, None
    try:
        return [], write(line, facts)
    except DomainError as error:
        return [Problem(line, kind.column_for(error.field), error.rule_id, error.message)], None


def _count(
    summary: Summary, report: ReportWriter, problems: list[Problem], created: bool | None
) -> None:
    if problems:
        summary.rejected += 1
        for problem in problems:
            report.write(problem)
            summary.problems += 1
            summary.by_rule[problem.rule_id] += 1
    elif created:
        summary.written += 1
    elif created is not None:
        summary.present += 1


def _stop(summary: Summary, report: ReportWriter, problem: Problem) -> None:
    summary.stopped = f"line {problem.line}: {problem.rule_id}: {problem.message}"
    report.write(problem)
    summary.problems += 1
    summary.by_rule[problem.rule_id] += 1


def row_context(base: Context, kind: str, table: Table, line: int) -> Context:
    """The actor of a row's command, with a request id naming the file and the line."""
    name = table.path.name[:80]
    return replace(base, request_id=f"import:{kind}:{name}@{table.digest[:12]}:line-{line}")
