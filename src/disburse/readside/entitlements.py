"""Who may be entitled without applying: people and the years their recorded work started.

The proactive grant run (``disburse run grants``) reads it to find the people to check;
the command side still decides from the person's own events, so a stale row is only a
person checked and refused, or found entitled already, never a second grant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from disburse.readside.base import Position, View, handles

if TYPE_CHECKING:
    from disburse.readside.db import Tx, ViewDB


class EntitlementsView(View):
    """One row per person (their home region), one per person and year work started."""

    name: ClassVar[str] = "entitlements"
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[str, ...]] = ("entitle_people", "entitle_work")
    schema: ClassVar[tuple[str, ...]] = (
        "CREATE TABLE IF NOT EXISTS entitle_people (person_id TEXT PRIMARY KEY,"
        " home_region TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS entitle_people_region ON entitle_people (home_region)",
        "CREATE TABLE IF NOT EXISTS entitle_work (person_id TEXT NOT NULL,"
        " year INTEGER NOT NULL, PRIMARY KEY (year, person_id))",
    )

    @handles("Person.Registered")
    def _registered(self, tx: Tx, event: Any, _where: Position) -> None:
        tx.write(
            "INSERT INTO entitle_people (person_id, home_region) VALUES (:p, :r)",
            {"p": str(event.originator_id), "r": event.home_region},
        )

    @handles("Person.EmploymentRecorded")
    def _employed(self, tx: Tx, event: Any, _where: Position) -> None:
        tx.write(
            "INSERT INTO entitle_work (person_id, year) VALUES (:p, :y)"
            " ON CONFLICT (year, person_id) DO NOTHING",
            {"p": str(event.originator_id), "y": event.started_on.year},
        )


class EntitlementQueries:
    """What the proactive run reads."""

    def __init__(self, db: ViewDB) -> None:
        self._db = db

    def with_work_in(self, year: int, region_prefix: str) -> list[str]:
        """People under ``region_prefix`` with employment starting in ``year``, by id."""
        with self._db.read() as tx:
            rows = tx.all(
                "SELECT w.person_id FROM entitle_work w"
                " JOIN entitle_people p ON p.person_id = w.person_id"
                " WHERE w.year = :y AND p.home_region LIKE :prefix ORDER BY w.person_id",
                {"y": year, "prefix": f"{region_prefix}%"},
            )
        return [str(row["person_id"]) for row in rows]
