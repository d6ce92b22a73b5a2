"""The roster: posts, their holders and the attendance sheets logged for each month.

It also keeps the sites (villages and settlement sites) and which site each post was
set up at, for the report of villages below their minimum (``disburse report posts``).

The monthly run (``disburse run month``) reads it to find the sheets whose stipend is
not requested yet; the command side still decides, so a stale row is only ever a
refused or already-requested request, never a second payout.

Its handlers only write, so a batch's statements are queued per table
(:class:`disburse.readside.batch.Writes`) and sent at its end, a run of one statement
in one ``executemany``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from disburse.readside.base import Position, View, handles
from disburse.readside.batch import Writes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from disburse.readside.db import Tx, ViewDB


class RosterView(View):
    """One row per post, one per logged attendance sheet, one per site."""

    name: ClassVar[str] = "roster"
    #: 2: sites and the site of each post (the villages' post quota report).
    version: ClassVar[int] = 2
    tables: ClassVar[tuple[str, ...]] = (
        "roster_posts",
        "roster_sheets",
        "roster_sites",
        "roster_site_posts",
    )
    pipelined: ClassVar[bool] = False  # a batch is written at its end
    schema: ClassVar[tuple[str, ...]] = (
        "CREATE TABLE IF NOT EXISTS roster_posts (post_id TEXT PRIMARY KEY,"
        " region_code TEXT NOT NULL, title TEXT NOT NULL, holder_id TEXT,"
        " exited_on TEXT)",
        "CREATE TABLE IF NOT EXISTS roster_sheets (post_id TEXT NOT NULL,"
        " month TEXT NOT NULL, person_id TEXT NOT NULL, days_worked INTEGER NOT NULL,"
        " days_required INTEGER NOT NULL, logged_position BIGINT NOT NULL,"
        " requested_position BIGINT, PRIMARY KEY (post_id, month))",
        "CREATE INDEX IF NOT EXISTS roster_sheets_month ON roster_sheets (month, post_id)",
        "CREATE TABLE IF NOT EXISTS roster_sites (site_id TEXT PRIMARY KEY,"
        " region_code TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
        " population BIGINT NOT NULL, lifted INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS roster_sites_region ON roster_sites (kind, region_code)",
        "CREATE TABLE IF NOT EXISTS roster_site_posts (post_id TEXT PRIMARY KEY,"
        " site_id TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS roster_site_posts_site ON roster_site_posts (site_id)",
    )

    def begin(self, tx: Tx, batch: Sequence[tuple[Any, Position]]) -> None:
        """Queue the batch's writes (nothing is read)."""
        tx.memo[self.name] = Writes()

    def flush(self, tx: Tx) -> None:
        """Send the batch's writes: one ``executemany`` per run of a statement per table."""
        self._writes(tx).flush(tx)
        del tx.memo[self.name]

    def _writes(self, tx: Tx) -> Writes:
        writes: Writes = tx.memo[self.name]
        return writes

    @handles("Site.Registered")
    def _site(self, tx: Tx, event: Any, _where: Position) -> None:
        self._writes(tx).add(
            "roster_sites",
            "INSERT INTO roster_sites (site_id, region_code, kind, name, population, lifted)"
            " VALUES (:s, :r, :k, :n, :p, :l)",
            {
                "s": str(event.originator_id),
                "r": event.region_code,
                "k": str(event.kind),
                "n": event.name,
                "p": event.population,
                "l": int(bool(event.lifted)),
            },
        )

    @handles("Site.PopulationUpdated")
    def _population(self, tx: Tx, event: Any, _where: Position) -> None:
        self._writes(tx).add(
            "roster_sites",
            "UPDATE roster_sites SET population = :p WHERE site_id = :s",
            {"s": str(event.originator_id), "p": event.population},
        )

    @handles("Site.PostAdded")
    def _site_post(self, tx: Tx, event: Any, _where: Position) -> None:
        self._writes(tx).add(
            "roster_site_posts",
            "INSERT INTO roster_site_posts (post_id, site_id) VALUES (:p, :s)",
            {"p": str(event.post_id), "s": str(event.originator_id)},
        )

    @handles("Post.Created")
    def _created(self, tx: Tx, event: Any, _where: Position) -> None:
        self._writes(tx).add(
            "roster_posts",
            "INSERT INTO roster_posts (post_id, region_code, title) VALUES (:p, :r, :t)",
            {"p": str(event.originator_id), "r": event.region_code, "t": event.title},
        )

    @handles("Post.Appointed")
    def _appointed(self, tx: Tx, event: Any, _where: Position) -> None:
        self._writes(tx).add(
            "roster_posts",
            "UPDATE roster_posts SET holder_id = :h, exited_on = NULL WHERE post_id = :p",
            {"p": str(event.originator_id), "h": str(event.person_id)},
        )

    @handles("Post.Exited")
    def _exited(self, tx: Tx, event: Any, _where: Position) -> None:
        self._writes(tx).add(
            "roster_posts",
            "UPDATE roster_posts SET exited_on = :e WHERE post_id = :p",
            {"p": str(event.originator_id), "e": event.effective_on.isoformat()},
        )

    @handles("Post.AttendanceLogged")
    def _logged(self, tx: Tx, event: Any, where: Position) -> None:
        self._writes(tx).add(
            "roster_sheets",
            "INSERT INTO roster_sheets (post_id, month, person_id, days_worked, days_required,"
            " logged_position) VALUES (:p, :m, :h, :w, :r, :at)",
            self._sheet(event, where),
        )

    @handles("Post.AttendanceRecorded")
    def _requested(self, tx: Tx, event: Any, where: Position) -> None:
        """The stipend was requested: from a logged sheet, or recorded and requested at once."""
        self._writes(tx).add(
            "roster_sheets",
            "INSERT INTO roster_sheets (post_id, month, person_id, days_worked, days_required,"
            " logged_position, requested_position) VALUES (:p, :m, :h, :w, :r, :at, :at)"
            " ON CONFLICT (post_id, month) DO UPDATE SET requested_position = :at",
            self._sheet(event, where),
        )

    @staticmethod
    def _sheet(event: Any, where: Position) -> dict[str, object]:
        return {
            "p": str(event.originator_id),
            "m": event.month,
            "h": str(event.person_id),
            "w": event.days_worked,
            "r": event.days_required,
            "at": where.position,
        }


@dataclass(frozen=True)
class Sheet:
    """A logged attendance sheet of one post and month."""

    post_id: str
    region_code: str
    title: str
    person_id: str
    days_worked: int
    days_required: int
    requested: bool


class RosterQueries:
    """What the monthly run reads."""

    def __init__(self, db: ViewDB) -> None:
        self._db = db

    def sheets(self, month: str, region_prefix: str) -> list[Sheet]:
        """Every sheet logged for ``month`` at posts under ``region_prefix``, by post."""
        with self._db.read() as tx:
            rows = tx.all(
                "SELECT s.post_id, p.region_code, p.title, s.person_id, s.days_worked,"
                " s.days_required, s.requested_position FROM roster_sheets s"
                " JOIN roster_posts p ON p.post_id = s.post_id"
                " WHERE s.month = :m AND p.region_code LIKE :prefix ORDER BY s.post_id",
                {"m": month, "prefix": f"{region_prefix}%"},
            )
        return [
            Sheet(
                post_id=str(row["post_id"]),
                region_code=str(row["region_code"]),
                title=str(row["title"]),
                person_id=str(row["person_id"]),
                days_worked=int(row["days_worked"]),
                days_required=int(row["days_required"]),
                requested=row["requested_position"] is not None,
            )
            for row in rows
        ]

    def held_posts(self, region_prefix: str) -> int:
        """Posts under ``region_prefix`` with a holder who has not exited."""
        with self._db.read() as tx:
            row = tx.one(
                "SELECT COUNT(*) AS n FROM roster_posts WHERE region_code LIKE :prefix"
                " AND holder_id IS NOT NULL AND exited_on IS NULL",
                {"prefix": f"{region_prefix}%"},
            )
        return int(row["n"]) if row else 0
