"""FRAUD-PAY-OUTLIER kept incrementally finds what judging every post of the group finds."""

from __future__ import annotations

import bisect
import sqlite3
from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st

from disburse.domain.money import yuan
from disburse.policy.default import national
from disburse.readside.alerts import outliers, post_rules
from disburse.readside.alerts.findings import Finding

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from disburse.domain.rules import PolicyDocument

GROUPS = [("220221", 0), ("220221", 1), ("220222", 0)]
#: Medians a group settles on, the deviations allowed, and the stipends on either side of
#: every limit they set (a post exactly at the limit is not an outlier, one fen more is).
MEDIANS = [100, 1_000, 150_000]
ALLOWED = [0, 1, 30, 99, 100, 150]
LIMITS = sorted(
    {
        limit
        for median in MEDIANS
        for pct in ALLOWED
        for side in (1, -1)
        for step in (-1, 0, 1)
        if (limit := median * (100 + side * pct) // 100 + step) > 0
    }
)


class MemoryTx:
    """The view's ``Tx`` on an in-memory SQLite database."""

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:")
        self.memo: dict[str, Any] = {}

    def execute(self, statement: str, params: Mapping[str, object] | None = None) -> int:
        return self.connection.execute(statement, dict(params or {})).rowcount

    def write(self, statement: str, params: Mapping[str, object] | None = None) -> None:
        self.execute(statement, params)

    def write_many(self, statement: str, rows: Sequence[Mapping[str, object]]) -> None:
        self.connection.executemany(statement, rows)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, object]]
    ) -> None:
        names, values = ", ".join(columns), ", ".join(f":{c}" for c in columns)
        self.write_many(f"INSERT INTO {table} ({names}) VALUES ({values})", rows)  # noqa: S608 - the view's own table and columns

    def all(self, statement: str, params: Mapping[str, object] | None = None) -> list[Any]:
        cursor = self.connection.execute(statement, dict(params or {}))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def one(self, statement: str, params: Mapping[str, object] | None = None) -> Any:
        rows = self.all(statement, params)
        return rows[0] if rows else None


def policy(pct: int, peers: int) -> PolicyDocument:
    document = national()
    return document.model_copy(
        update={
            "post": document.post.model_copy(update={"uniform_deviation_pct": pct}),
            "alerts": document.alerts.model_copy(update={"outlier_min_peers": peers}),
        }
    )


def judged_whole(
    posts: list[tuple[str, int, int]], region: str, rules: PolicyDocument
) -> list[Finding]:
    """The rule as first written: every post of the group against the others' lower median."""
    if len(posts) - 1 < rules.alerts.outlier_min_peers:
        return []
    values = sorted(stipend for _, stipend, _ in posts)
    allowed = rules.post.uniform_deviation_pct
    found = []
    for post_id, own, position in posts:
        index = bisect.bisect_left(values, own)
        k = (len(values) - 2) // 2
        median = values[k] if k < index else values[k + 1]
        if median and abs(own - median) * 100 > allowed * median:
            found.append(
                Finding(
                    "FRAUD-PAY-OUTLIER",
                    "post",
                    post_id,
                    f"outlier:{post_id}",
                    region,
                    None,
                    f"stipend {yuan(own)} yuan is more than {allowed}% from the median "
                    f"{yuan(median)} yuan of {len(posts) - 1} similar posts in {region}",
                    (position,),
                )
            )
    return found


post_created = st.tuples(
    st.sampled_from(GROUPS),
    st.one_of(st.sampled_from(MEDIANS), st.sampled_from(LIMITS), st.integers(1, 400_000)),
    st.one_of(st.none(), st.tuples(st.sampled_from(ALLOWED), st.integers(1, 5))),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(post_created, max_size=60))
def test_each_post_created_raises_what_judging_the_whole_group_raises(
    created: list[tuple[tuple[str, int], int, tuple[int, int] | None]],
) -> None:
    """Same findings, in the same order, as re-reading the group; each post flagged once."""
    tx = MemoryTx()
    for statement in outliers.OUTLIER_DDL:
        tx.execute(statement)
    posts: dict[tuple[str, int], list[tuple[str, int, int]]] = {g: [] for g in GROUPS}
    flagged: set[str] = set()
    for position, ((region, part_time), stipend, in_force) in enumerate(created, start=1):
        post_id = f"post-{position}"
        posts[region, part_time].append((post_id, stipend, position))
        group = outliers.add_post(
            tx,
            region_code=region,
            part_time=part_time,
            post_id=post_id,
            stipend_fen=stipend,
            position=position,
        )
        if in_force is None:
            continue
        rules = policy(*in_force)
        expected = [
            f
            for f in judged_whole(posts[region, part_time], region, rules)
            if f.subject_id not in flagged
        ]

        found = post_rules.pay_outliers(tx, group, rules)

        assert found == expected
        flagged.update(f.subject_id for f in found)


def test_a_group_of_one_stipend_keeps_its_median_without_reading_the_posts() -> None:
    tx = MemoryTx()
    for statement in outliers.OUTLIER_DDL:
        tx.execute(statement)
    for position in range(1, 1001):
        group = outliers.add_post(
            tx,
            region_code="220221",
            part_time=0,
            post_id=f"p{position}",
            stipend_fen=150_000,
            position=position,
        )
    assert (group.posts, group.low, group.high) == (1000, 150_000, 150_000)
    [outlier] = post_rules.pay_outliers(
        tx,
        outliers.add_post(
            tx,
            region_code="220221",
            part_time=0,
            post_id="high",
            stipend_fen=300_000,
            position=1001,
        ),
        policy(30, 3),
    )
    assert outlier.subject_id == "high"
    assert "of 1000 similar posts" in outlier.summary
