"""Stream the rows of a CSV or XLSX file, one at a time, with their spreadsheet line numbers.

Neither reader holds more than a row: CSV is read line by line (its encoding checked in
a first pass, so a file that cannot be decoded is refused before anything is written);
XLSX through openpyxl's read-only mode and ``iter_rows``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import zipfile
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Literal, Self

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from disburse.importing.report import FILE_RULE, FileError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path
    from types import TracebackType
    from typing import BinaryIO

    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

_CHUNK = 1 << 18
#: A CSV line longer than this is no spreadsheet row (and would not be held in memory).
MAX_LINE = 1 << 20
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: openpyxl's failures on a damaged workbook (``SyntaxError`` covers XML parse errors).
_XLSX_ERRORS = (
    InvalidFileException,
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    SyntaxError,
)


def digest_of(path: Path) -> str:
    """SHA-256 of the file's bytes: which file, exactly, an event was imported from."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class Table(ABC):
    """The rows of one file. Use as a context manager; iterate :meth:`rows` once."""

    unit: Literal["bytes", "rows"]
    source: str
    header: Sequence[object]
    total: int | None

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = digest_of(path)

    @abstractmethod
    def rows(self) -> Iterator[tuple[int, Sequence[object]]]:
        """(line, cells) of each row after the header; the header is line 1."""

    @abstractmethod
    def done(self) -> int:
        """Progress so far, in :attr:`unit`."""

    def close(self) -> None:  # noqa: B027 - a table with nothing to release keeps this
        """Release the file."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def open_table(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> Table:
    """The file as a table, its header read; ``FileError`` (IMPORT-FILE) if it cannot be."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise FileError(FILE_RULE, f"cannot read {path}: {error.strerror or error}") from None
    if not magic:
        raise FileError(FILE_RULE, f"{path} is empty")
    if magic.startswith(_XLS_MAGIC):
        raise FileError(FILE_RULE, "an old Excel (.xls) workbook: save it as .xlsx or as CSV")
    if magic == _XLSX_MAGIC:
        return XlsxTable(path, sheet)
    if sheet is not None:
        raise FileError(FILE_RULE, "--sheet is for XLSX workbooks; this file is text (CSV)")
    return CsvTable(path, encoding)


class CsvTable(Table):
    """A comma-separated file in UTF-8 (with or without BOM) or GB18030 (GBK)."""

    unit = "bytes"

    def __init__(self, path: Path, encoding: str | None) -> None:
        super().__init__(path)
        self.encoding = _encoding_of(path, encoding)
        self.total = path.stat().st_size
        self.source = f"CSV, {self.encoding.removesuffix('-sig').upper()}"
        self._handle: BinaryIO = path.open("rb")
        self._read = 0
        self._line = 1
        self._reader = csv.reader(self._lines(), strict=False)
        try:
            self.header = next(self._reader)
        except StopIteration:
            self.close()
            raise FileError(FILE_RULE, f"{path} has no lines") from None
        except (csv.Error, FileError):
            self.close()
            raise

    def _lines(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        while raw := self._handle.readline(MAX_LINE):
            if len(raw) == MAX_LINE and not raw.endswith(b"\n"):
                raise FileError(FILE_RULE, "a line longer than 1 MiB: not a spreadsheet row")
            self._read += len(raw)
            yield decoder.decode(raw)
        if tail := decoder.decode(b"", final=True):
            yield tail

    def rows(self) -> Iterator[tuple[int, Sequence[object]]]:
        """Each record, numbered as a spreadsheet does (a quoted line break stays in its row)."""
        while True:
            try:
                record = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise FileError(FILE_RULE, f"not valid CSV: {error}", self._line + 1) from None
            except FileError as error:
                raise FileError(error.rule_id, error.message, self._line + 1) from None
            except OSError as error:
                raise FileError(FILE_RULE, f"cannot read on: {error}", self._line + 1) from None
            self._line += 1
            yield self._line, record

    def done(self) -> int:
        """Bytes read."""
        return self._read

    def close(self) -> None:
        """Close the file."""
        self._handle.close()


def _encoding_of(path: Path, asked: str | None) -> str:
    """The encoding to read with; every byte of the file is checked against it first."""
    with path.open("rb") as handle:
        start = handle.read(len(_UTF8_BOM))
    if start.startswith(_UTF16_BOMS):
        raise FileError(FILE_RULE, "UTF-16 text: save the sheet as CSV (UTF-8) instead")
    if asked is not None:
        try:
            name = codecs.lookup(asked).name
        except LookupError:
            raise FileError(FILE_RULE, f"unknown encoding {asked!r}") from None
        candidates = ["utf-8-sig" if name == "utf-8" else name]
    elif start == _UTF8_BOM:
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    first_failure = None
    for candidate in candidates:
        failure = _undecodable(path, candidate)
        if failure is None:
            return candidate
        first_failure = first_failure or failure
    offset, line = first_failure or (0, 1)
    tried = " or ".join(c.removesuffix("-sig").upper() for c in candidates)
    raise FileError(FILE_RULE, f"not {tried} text: undecodable bytes at byte {offset}", line)


def _undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """Where the file stops decoding (byte offset, line), or None if all of it decodes."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                start = max(error.start, 0)
                return offset + start, line + chunk.count(b"\n", 0, start)
            offset += len(chunk)
            line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, line
    return None


class XlsxTable(Table):
    """One worksheet of an XLSX workbook (the first, or the one named), read-only."""

    unit = "rows"

    def __init__(self, path: Path, sheet: str | None) -> None:
        super().__init__(path)
        try:
            self._book: Workbook = load_workbook(path, read_only=True, data_only=True)
        except _XLSX_ERRORS as error:
            raise FileError(FILE_RULE, f"not a readable XLSX workbook: {error}") from None
        try:
            sheet_ = self._sheet(sheet)
            self.source = f"XLSX, sheet {sheet_.title!r}"
            self.total = sheet_.max_row  # from the sheet's stated dimension: progress only
            # The stated dimension may be stale; never let it cut rows off.
            sheet_.reset_dimensions()
            # typeshed types iter_rows for the writable Worksheet only.
            self._rows: Iterator[Sequence[object]] = sheet_.iter_rows(values_only=True)  # type: ignore[misc]
            self._line = 1
            self.header = next(self._rows)
        except StopIteration:
            self.close()
            raise FileError(FILE_RULE, f"sheet {sheet_.title!r} is empty") from None
        except _XLSX_ERRORS as error:
            self.close()
            raise FileError(FILE_RULE, f"not a readable XLSX workbook: {error}") from None
        except FileError:
            self.close()
            raise

    def _sheet(self, name: str | None) -> ReadOnlyWorksheet:
        sheets: list[ReadOnlyWorksheet] = list(self._book.worksheets)
        if name is None and sheets:
            return sheets[0]
        for sheet in sheets:
            if sheet.title == name:
                return sheet
        titles = ", ".join(repr(s.title) for s in sheets) or "none"
        raise FileError(FILE_RULE, f"no worksheet {name!r}; the workbook has {titles}")

    def rows(self) -> Iterator[tuple[int, Sequence[object]]]:
        """Each row of the sheet, numbered as Excel numbers it."""
        while True:
            try:
                values = next(self._rows)
            except StopIteration:
                return
            except _XLSX_ERRORS as error:
                raise FileError(FILE_RULE, f"damaged worksheet: {error}", self._line + 1) from None
            self._line += 1
            yield self._line, values

    def done(self) -> int:
        """Rows read."""
        return self._line

    def close(self) -> None:
        """Close the workbook (read-only mode keeps the archive open until then)."""
        self._book.close()
