"""Columns of an import file: the headers accepted (English and Chinese), and a row's cells."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from openpyxl.utils import get_column_letter

from disburse.domain.errors import DomainError
from disburse.importing.report import FileError, Problem
from disburse.importing.values import is_blank

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

V = TypeVar("V")
HEADER_RULE = "IMPORT-HEADER"
REQUIRED_RULE = "IMPORT-REQUIRED"
COLUMNS_RULE = "IMPORT-COLUMNS"
#: Columns bureau sheets often carry that the import does not read: a serial number, remarks.
IGNORED = ("序号", "no", "no.", "seq", "#", "备注", "remarks", "note", "notes")


def header_key(text: str) -> str:
    """A header as compared: NFKC, case-folded, without spaces, ``_``, ``-``, ``*`` or ``:``."""
    return re.sub(r"[\s_\-*:]+", "", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class Column:
    """A column: its English name (the canonical one), its Chinese header, other headers."""

    name: str
    chinese: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header that names this column."""
        return (self.name, self.chinese, *self.aliases)

    def __str__(self) -> str:
        return f"{self.chinese} ({self.name})"


@dataclass(frozen=True)
class Header:
    """Where the file has each column, and what it calls it."""

    columns: dict[str, Column]
    positions: dict[str, int]
    labels: dict[str, str]
    skipped: frozenset[int]

    def label(self, name: str | None) -> str:
        """The column as the file names it (its English name when the file has none)."""
        if name is None:
            return ""
        return self.labels.get(name, name)

    def has(self, name: str) -> bool:
        """Whether the file has this column."""
        return name in self.positions


def accepted(columns: Sequence[Column]) -> str:
    """The accepted columns, for a message: 身份证号 (resident_id), ..."""
    return ", ".join(str(c) for c in columns)


def read_header(
    cells: Sequence[object], columns: Sequence[Column], *, one_of: Sequence[str] = ()
) -> Header:
    """Map line 1 to the columns; ``FileError`` (IMPORT-HEADER) naming every problem."""
    found = _Found.of(cells, columns)
    problems = []
    missing = [str(c) for c in columns if c.required and c.name not in found.positions]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if one_of and not any(name in found.positions for name in one_of):
        either = " or ".join(str(c) for c in columns if c.name in one_of)
        problems.append(f"needs a column {either}")
    if found.twice:
        problems.append(f"the same column twice: {'; '.join(found.twice)}")
    if found.unknown:
        problems.append(f"unknown column(s) {', '.join(found.unknown)}")
    if problems:
        raise FileError(
            HEADER_RULE,
            f"{'; '.join(problems)}. Accepted columns: {accepted(columns)}; "
            "序号 (no) and 备注 (remarks) are allowed and not read",
            line=1,
        )
    by_name = {c.name: c for c in columns}
    return Header(by_name, found.positions, found.labels, frozenset(found.skipped))


@dataclass
class _Found:
    """What line 1 holds: known columns, ignored ones, unknown ones, and repeats."""

    positions: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    skipped: set[int] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, cells: Sequence[object], columns: Sequence[Column]) -> _Found:
        names = {header_key(h): c.name for c in columns for h in c.headers}
        ignored = {header_key(h) for h in IGNORED}
        found = cls()
        for index, cell in enumerate(cells):
            if is_blank(cell):
                continue  # a value under a blank header is refused row by row (IMPORT-COLUMNS)
            header = str(cell).strip()
            name = names.get(header_key(header))
            if header_key(header) in ignored:
                found.skipped.add(index)
            elif name is None:
                found.unknown.append(repr(header))
            elif name in found.positions:
                found.twice.append(f"{found.labels[name]!r} and {header!r}")
            else:
                found.positions[name], found.labels[name] = index, header
        return found


class Cells:
    """One row's cells by column name, and the problems found reading them."""

    def __init__(self, line: int, header: Header, values: Sequence[object]) -> None:
        self.line = line
        self.header = header
        self._values = values
        self.problems: list[Problem] = []
        used = set(header.positions.values()) | header.skipped
        for index, value in enumerate(values):
            if index not in used and not is_blank(value):
                self.refuse(
                    None,
                    COLUMNS_RULE,
                    f"a value in column {get_column_letter(index + 1)}, which has no header",
                )

    def raw(self, name: str) -> object:
        """The cell of this column (None if the file has no such column)."""
        index = self.header.positions.get(name)
        return None if index is None or index >= len(self._values) else self._values[index]

    def given(self, name: str) -> bool:
        """Whether this column has a value in this row."""
        return not is_blank(self.raw(name))

    def get(
        self, name: str, parse: Callable[[object], V], *, required: bool = True, needed_by: str = ""
    ) -> V | None:
        """The cell read by ``parse``; a problem is recorded (and None returned) if it fails.

        A blank cell is None, or IMPORT-REQUIRED when ``required`` (``needed_by`` says
        for what, when only some rows need the column).
        """
        cell = self.raw(name)
        if is_blank(cell):
            if required:
                self.require(name, needed_by)
            return None
        try:
            return parse(cell)
        except DomainError as error:
            self.refuse(name, error.rule_id, error.message)
            return None

    def require(self, name: str, needed_by: str = "") -> None:
        """Record that this row needs a value in this column."""
        purpose = f" for {needed_by}" if needed_by else ""
        if self.header.has(name):
            self.refuse(name, REQUIRED_RULE, f"a value is required{purpose}")
        else:
            column = self.header.columns[name]
            self.refuse(name, REQUIRED_RULE, f"the column {column} is required{purpose}")

    def refuse(self, name: str | None, rule_id: str, message: str) -> None:
        """Record a problem of this row."""
        self.problems.append(Problem(self.line, name, rule_id, message))
