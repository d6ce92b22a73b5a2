"""The import loop: read a row, check it, write it (or report it), and go on to the next."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Generic, TypeAlias, TypeVar

from eventsourcing.persistence import PersistenceError

from disburse.domain.errors import DomainError
from disburse.importing.columns import Cells, read_header
from disburse.importing.reader import open_table
from disburse.importing.report import FILE_RULE, FileError, Problem, ReportWriter
from disburse.importing.seen import SeenKeys
from disburse.importing.values import is_blank
from disburse.persistence.batching import CHUNK, Changes

T = TypeVar("T")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from pathlib import Path

    from disburse.access.context import Context
    from disburse.application.ledger import Ledger
    from disburse.importing.columns import Column, Header
    from disburse.importing.reader import Table

    #: Decides ``write(line, facts)`` for each row of a chunk, in one transaction.
    Each: TypeAlias = Callable[
        [list[tuple[int, T]], Callable[[tuple[int, T], Changes], bool]],
        Iterable[tuple[tuple[int, T], bool | None, DomainError | None]],
    ]

DUPLICATE_RULE = "IMPORT-DUPLICATE-ROW"
STOPPED_RULE = "IMPORT-STOPPED"
_PROGRESS_EVERY = 100


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
    #: Rules a row may be refused under without the import counting it rejected: a
    #: department's list names people the ledger does not know (reported, not an error).
    noted: frozenset[str] = frozenset()

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
    noted: int = 0  # rows refused under one of the kind's ``noted`` rules only
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
                each=ledger.store.transact_each,
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
    each: Each[T] | None = None,
    progress: Callable[[int], None] = lambda _done: None,
) -> Summary:
    """Import every row of ``table``: checked one by one, written a chunk per transaction.

    ``each`` decides the writes of a chunk of rows, each alone, in one transaction
    (``LedgerStore.transact_each``); without it each row is written by itself. A refused
    row writes nothing and stops no other. The report lists the rows in file order.

    Stops early (``Summary.stopped``, also on the report) only when the rest of the file
    cannot be read, the store fails, or the operator interrupts; the chunks before were
    imported, and re-running the file is safe.
    """
    summary = Summary()
    chunk = _Chunk(kind, write, each or _one_by_one, size=1 if each is None else CHUNK)
    line = 1
    try:
        for line, values in table.rows():
            if all(is_blank(v) for v in values):
                continue
            summary.rows += 1
            checked = _one_row(kind, header, line=line, values=values, seen=seen)
            chunk.add(checked)
            if chunk.full():
                _flush(summary, report, chunk)
            if summary.rows % _PROGRESS_EVERY == 0:
                progress(table.done())
        _flush(summary, report, chunk)
    except FileError as error:
        _flush(summary, report, chunk)
        _stop(summary, report, Problem(error.line or line, None, error.rule_id, error.message))
    except PersistenceError as error:
        first = chunk.first_line(line)
        _stop(
            summary,
            report,
            Problem(first, None, STOPPED_RULE, f"the store failed ({error}); {_RESUME}"),
        )
    except KeyboardInterrupt:
        first = chunk.first_line(line)
        _stop(summary, report, Problem(first, None, STOPPED_RULE, f"interrupted; {_RESUME}"))
    progress(table.done())
    report.flush()
    return summary


_RESUME = (
    "the lines from this one on may or may not have been written, the lines after them were "
    "not read; importing the same file again is safe and writes only what is missing"
)


def _one_by_one(
    rows: list[tuple[int, T]], write: Callable[[tuple[int, T], Changes], bool]
) -> Iterator[tuple[tuple[int, T], bool | None, DomainError | None]]:
    for row in rows:
        try:
            yield row, write(row, Changes()), None
        except DomainError as error:
            yield row, None, error


class _Chunk(Generic[T]):
    """Rows read and checked, waiting for their chunk to be written, in file order."""

    def __init__(
        self, kind: Kind[T], write: Callable[[int, T], bool], each: Each[T], *, size: int
    ) -> None:
        self.kind = kind
        self._write = write
        self._each = each
        self._size = size
        self._rows: list[tuple[int, list[Problem], T | None]] = []
        self._facts = 0

    def add(self, row: tuple[int, list[Problem], T | None]) -> None:
        self._rows.append(row)
        self._facts += row[2] is not None

    def full(self) -> bool:
        return self._facts >= self._size

    def first_line(self, default: int) -> int:
        """The first line not yet reported (``default`` if none is waiting)."""
        return self._rows[0][0] if self._rows else default

    def written(self) -> Iterator[tuple[list[Problem], bool | None]]:
        """Write the chunk's rows; each row's problems and whether it wrote anything."""
        rows = [(line, facts) for line, _, facts in self._rows if facts is not None]
        outcomes: dict[int, tuple[list[Problem], bool | None]] = {}
        for (line, _), created, error in self._each(
            rows, lambda row, _changes: self._write(row[0], row[1])
        ):
            if error is None:
                outcomes[line] = ([], created)
            else:
                column = self.kind.column_for(error.field)
                outcomes[line] = ([Problem(line, column, error.rule_id, error.message)], None)
        for line, problems, facts in self._rows:
            yield outcomes[line] if facts is not None else (problems, None)
        self._rows, self._facts = [], 0


def _flush(summary: Summary, report: ReportWriter, chunk: _Chunk[T]) -> None:
    noted = chunk.kind.noted
    for problems, created in chunk.written():
        _count(summary, report, problems, created, noted)
    report.flush()


def _one_row(
    kind: Kind[T],
    header: Header,
    *,
    line: int,
    values: Sequence[object],
    seen: SeenKeys,
) -> tuple[int, list[Problem], T | None]:
    """The row's problems, or its facts to write."""
    cells = Cells(line, header, values)
    facts, key = kind.read(cells)
    if key is not None:
        first = seen.first_line(key, line)
        if first is not None:
            cells.refuse(kind.key_field, DUPLICATE_RULE, kind.duplicate.format(line=first))
    if cells.problems or facts is None:
        return line, cells.problems, None
    return line, [], facts


def _count(
    summary: Summary,
    report: ReportWriter,
    problems: list[Problem],
    created: bool | None,
    noted: frozenset[str] = frozenset(),
) -> None:
    if problems and all(p.rule_id in noted for p in problems):
        summary.noted += 1
        for problem in problems:
            report.write(problem)
            summary.problems += 1
            summary.by_rule[problem.rule_id] += 1
    elif problems:
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
