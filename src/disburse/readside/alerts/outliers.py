"""FRAUD-PAY-OUTLIER, kept incrementally: the middle stipends of each group of similar posts.

The rule (:func:`disburse.readside.alerts.post_rules.pay_outliers`) compares each post of a
group (same region code, same part-time flag) with the lower median of the others. With
the group's ``n`` stipends sorted and ``k = (n - 2) // 2``, that median is one of two
values: ``stipends[k]`` for a post above it, ``stipends[k + 1]`` for the others. So the
rule needs only those two, and the posts not flagged yet that lie far enough from them.

Three tables keep that, each changed by one or two statements per ``Post.Created``:

- ``alert_post_stipends``: how many posts of a group have each stipend;
- ``alert_post_groups``: per group, ``n`` and a cursor on ``stipends[k]`` (its value, how
  many posts have it, how many have less). A new post moves ``k`` by at most one, so the
  cursor moves by at most a step or two to the neighbouring stipend (an index look-up);
- ``alert_outlier_pending``: the posts with no FRAUD-PAY-OUTLIER alert yet, by stipend.
  A post's alert, once raised, never gets new evidence (its evidence is its creation), so
  finding it again would change nothing; only pending posts are read, by index range.

Each ``Post.Created`` therefore costs a few index look-ups, whatever the group's size,
instead of reading every post of the region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from disburse.readside.db import Row, Tx

OUTLIER_TABLES = ("alert_post_groups", "alert_post_stipends", "alert_outlier_pending")
OUTLIER_DDL = (
    "CREATE TABLE IF NOT EXISTS alert_post_stipends (region_code TEXT NOT NULL,"
    " part_time INTEGER NOT NULL, stipend_fen BIGINT NOT NULL, posts BIGINT NOT NULL,"
    " PRIMARY KEY (region_code, part_time, stipend_fen))",
    # low_fen: stipends[k] of the sorted stipends, k = max((posts - 2) // 2, 0);
    # low_posts: posts with that stipend; below: posts with a lower one.
    "CREATE TABLE IF NOT EXISTS alert_post_groups (region_code TEXT NOT NULL,"
    " part_time INTEGER NOT NULL, posts BIGINT NOT NULL, low_fen BIGINT NOT NULL,"
    " low_posts BIGINT NOT NULL, below BIGINT NOT NULL, PRIMARY KEY (region_code, part_time))",
    "CREATE TABLE IF NOT EXISTS alert_outlier_pending (region_code TEXT NOT NULL,"
    " part_time INTEGER NOT NULL, stipend_fen BIGINT NOT NULL,"
    " created_position BIGINT NOT NULL, post_id TEXT NOT NULL,"
    " PRIMARY KEY (region_code, part_time, stipend_fen, created_position))",
)
_GROUP = "region_code = :r AND part_time = :pt"


@dataclass(frozen=True)
class Group:
    """A group of similar posts after a post joined it: its size and its middle stipends."""

    region_code: str
    part_time: int
    posts: int
    #: ``stipends[k]`` and ``stipends[k + 1]`` (sorted, ``k = (posts - 2) // 2``): the
    #: lower median of the others for a post above ``low``, and for the rest. Both are
    #: the only stipend while the group has one post.
    low: int
    high: int


def add_post(
    tx: Tx, *, region_code: str, part_time: int, post_id: str, stipend_fen: int, position: int
) -> Group:
    """Count a new post in its group; returns the group as it now stands."""
    key = {"r": region_code, "pt": part_time}
    tx.write(
        "INSERT INTO alert_post_stipends (region_code, part_time, stipend_fen, posts)"
        " VALUES (:r, :pt, :s, 1) ON CONFLICT (region_code, part_time, stipend_fen)"
        " DO UPDATE SET posts = alert_post_stipends.posts + 1",
        {**key, "s": stipend_fen},
    )
    tx.write(
        "INSERT INTO alert_outlier_pending (region_code, part_time, stipend_fen,"
        " created_position, post_id) VALUES (:r, :pt, :s, :p, :id)",
        {**key, "s": stipend_fen, "p": position, "id": post_id},
    )
    row = tx.one(
        f"SELECT posts, low_fen, low_posts, below FROM alert_post_groups WHERE {_GROUP}", key
    )
    if row is None:
        tx.write(
            "INSERT INTO alert_post_groups (region_code, part_time, posts, low_fen, low_posts,"
            " below) VALUES (:r, :pt, 1, :s, 1, 0)",
            {**key, "s": stipend_fen},
        )
        return Group(region_code, part_time, 1, stipend_fen, stipend_fen)
    posts = int(row["posts"]) + 1
    low, low_posts, below = int(row["low_fen"]), int(row["low_posts"]), int(row["below"])
    if stipend_fen < low:
        below += 1
    elif stipend_fen == low:
        low_posts += 1
    k = max((posts - 2) // 2, 0)
    while k < below:  # stipends[k] is below the cursor: step down
        low, low_posts = _neighbour(tx, key, low, below=True)
        below -= low_posts
    while k >= below + low_posts:  # stipends[k] is above the cursor: step up
        below += low_posts
        low, low_posts = _neighbour(tx, key, low, below=False)
    tx.write(
        "UPDATE alert_post_groups SET posts = :n, low_fen = :low, low_posts = :lp, below = :b"
        f" WHERE {_GROUP}",
        {**key, "n": posts, "low": low, "lp": low_posts, "b": below},
    )
    high = low if k + 1 < below + low_posts else _neighbour(tx, key, low, below=False)[0]
    return Group(region_code, part_time, posts, low, high)


def _neighbour(tx: Tx, key: dict[str, object], stipend: int, *, below: bool) -> tuple[int, int]:
    """The next lower (or higher) stipend of the group than ``stipend``, and its posts."""
    row = tx.one(
        "SELECT stipend_fen, posts FROM alert_post_stipends"
        f" WHERE {_GROUP} AND stipend_fen {'<' if below else '>'} :s"
        f" ORDER BY stipend_fen {'DESC' if below else 'ASC'} LIMIT 1",
        {**key, "s": stipend},
    )
    if row is None:  # pragma: no cover - the counts say there is one
        raise LookupError(f"no stipend {'below' if below else 'above'} {stipend} in {key}")
    return int(row["stipend_fen"]), int(row["posts"])


def pending_outside(tx: Tx, group: Group, pct: int) -> list[tuple[Row, int]]:
    """Posts of the group not flagged yet whose stipend is more than ``pct`` % off its median.

    Each with that median: ``group.high`` for a post at or below ``group.low``, else
    ``group.low``. In ``created_position`` order. They leave the pending posts: the caller
    raises their alerts now, and a later finding for them would add nothing.
    """
    low, high = group.low, group.high
    conditions = []
    bounds: dict[str, object] = {"r": group.region_code, "pt": group.part_time}
    if high:  # at or below low, against high: (high - s) * 100 > pct * high
        bounds["lo"] = min(low, -(-(100 - pct) * high // 100) - 1)
        conditions.append("stipend_fen <= :lo")
    if low:  # above low, against low: (s - low) * 100 > pct * low
        bounds["hi"] = max(low + 1, (100 + pct) * low // 100 + 1)
        conditions.append("stipend_fen >= :hi")
    if not conditions:
        return []
    rows = tx.all(
        " UNION ALL ".join(
            "SELECT post_id, stipend_fen, created_position FROM alert_outlier_pending"
            f" WHERE {_GROUP} AND {condition}"
            for condition in conditions
        ),
        bounds,
    )
    found = []
    for row in sorted(rows, key=lambda r: int(r["created_position"])):
        own = int(row["stipend_fen"])
        median = high if own <= low else low
        if median and abs(own - median) * 100 > pct * median:  # what the bounds select
            found.append((row, median))
            tx.write(
                "DELETE FROM alert_outlier_pending WHERE region_code = :r AND part_time = :pt"
                " AND stipend_fen = :s AND created_position = :p",
                {**bounds, "s": own, "p": row["created_position"]},
            )
    return found
