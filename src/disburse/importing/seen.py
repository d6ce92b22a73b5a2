"""The keys met so far in one file, kept on disk so memory stays flat whatever its size."""

from __future__ import annotations

import hashlib
import secrets
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from types import TracebackType

_COMMIT_EVERY = 10_000
_CACHE_KIB = 8 * 1024


class SeenKeys:
    """A temporary SQLite table of (key, first line), deleted when closed.

    Keys are stored as keyed BLAKE2 hashes under a key made for this run only, so the
    temporary file holds no resident ID, even while the import runs.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="disburse-import-", dir=directory))
        self._salt = secrets.token_bytes(32)
        self._db = sqlite3.connect(self._directory / "seen.db")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        self._db.execute(
            "CREATE TABLE seen (key BLOB PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID"
        )
        self._pending = 0

    def first_line(self, key: str, line: int) -> int | None:
        """None if ``key`` is new (it is remembered for ``line``), else where it was first."""
        digest = hashlib.blake2b(key.encode(), key=self._salt, digest_size=16).digest()
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO seen (key, line) VALUES (?, ?)", (digest, line)
        )
        if cursor.rowcount == 1:
            self._pending += 1
            if self._pending >= _COMMIT_EVERY:
                self._db.commit()
                self._pending = 0
            return None
        row = self._db.execute("SELECT line FROM seen WHERE key = ?", (digest,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Drop the table and its file."""
        self._db.close()
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
