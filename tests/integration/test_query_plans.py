"""Every filter the API offers has an index: no list query scans its table, on either backend.

Each case calls a query method as the API does, with one combination of filters; the
statements it sends are recorded, and each is explained (SQLite ``EXPLAIN QUERY PLAN``,
PostgreSQL ``EXPLAIN (FORMAT JSON)`` with sequential scans priced out, so that a small
test table does not make a scan look cheaper than an index). A filtered query must reach
every table through an index condition; an unfiltered one may walk an index in its
order (a page stops after ``limit`` rows) but never scan a table or sort it whole. (A
filtered query may sort what its filter found.)
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from disburse.readside.db import to_pyformat
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from disburse.application.ledger import Ledger
    from disburse.readside.db import Row, Tx, ViewDB
    from disburse.readside.views import Views

PERSON = "00000000-0000-0000-0000-000000000001"
#: Ids found in the populated views (an alerts page continues after a real alert).
FOUND: dict[str, Any] = {}
FUND = "00000000-0000-0000-0000-000000000002"


@dataclass(frozen=True)
class Case:
    """One query as a route sends it; ``filtered``: it has a filter beyond paging."""

    name: str
    run: Callable[[Views], object]
    filtered: bool = True


def _cases() -> list[Case]:
    today = date(2024, 3, 1)
    queue = [
        Case("queue default", lambda v: v.queue.pending(limit=50)),
        Case("queue after", lambda v: v.queue.pending(limit=50, after=10)),
        Case("queue status", lambda v: v.queue.pending(status="approved")),
        Case("queue fund", lambda v: v.queue.pending(fund_id=FUND, status="paid")),
        Case("queue region", lambda v: v.queue.pending(region="220221")),
        Case("queue programme", lambda v: v.queue.pending(programme="POST-STIPEND")),
        Case("queue age", lambda v: v.queue.pending(older_than_days=3, today=today)),
        Case(
            "queue all filters",
            lambda v: v.queue.pending(
                status="requested",
                fund_id=FUND,
                region="2202",
                programme="POST-STIPEND",
                older_than_days=1,
                today=today,
                after=5,
            ),
        ),
        Case("queue count", lambda v: v.queue.pending_count(region="220221")),
        Case("queue count fund", lambda v: v.queue.pending_count(fund_id=FUND, status="paid")),
        Case("payout", lambda v: v.queue.payout(FUND)),
        Case("batch", lambda v: v.queue.batch(FUND)),
        Case("batches of a fund", lambda v: v.queue.batches(FUND)),
    ]
    alerts = [
        Case("alerts default", lambda v: v.alerts.find(limit=50), filtered=False),
        Case("alerts rule", lambda v: v.alerts.find(rule="FRAUD-SHARED-ACCOUNT")),
        Case("alerts state", lambda v: v.alerts.find(state="open")),
        Case("alerts after", lambda v: v.alerts.find(after=FOUND["alert"])),
        Case("alerts after state", lambda v: v.alerts.find(state="open", after=FOUND["alert"])),
        Case("alerts region", lambda v: v.alerts.find(region="220221")),
        Case("alerts person", lambda v: v.alerts.find(person_id=PERSON)),
        Case(
            "alerts rule state region",
            lambda v: v.alerts.find(rule="FRAUD-SHARED-ACCOUNT", state="open", region="2202"),
        ),
        Case("alerts counts", lambda v: v.alerts.counts("220221")),
    ]
    audit = [
        Case("trail", lambda v: v.audit.trail(FUND, after_position=3, limit=50, scope="2202")),
        Case("actor", lambda v: v.audit.by_actor("clerk-1", limit=50, scope="220221")),
        Case("feed", lambda v: v.audit.feed(after_position=10, limit=50, scope="220221")),
        Case("feed nationwide", lambda v: v.audit.feed(after_position=10, limit=50)),
        Case("entity region", lambda v: v.audit.region_of(FUND)),
    ]
    balances = [
        Case("fund balance", lambda v: v.balances.fund(FUND)),
        Case("region balance", lambda v: v.balances.region("220221", year=2024)),
        Case("person balance", lambda v: v.balances.person(PERSON)),
    ]
    directory = [
        Case("people", lambda v: v.directory.people(limit=50), filtered=False),
        Case("people region", lambda v: v.directory.people(region="220221", after=3)),
        Case("people name", lambda v: v.directory.people(name="王", region="220221")),
        Case("people id", lambda v: v.directory.people(person_id=PERSON, region="2202")),
        Case("people status", lambda v: v.directory.people(poverty_status="lifted")),
        Case("people claimant", lambda v: v.directory.people(registered_via=PERSON)),
        Case("posts", lambda v: v.directory.posts(limit=50), filtered=False),
        Case("posts region", lambda v: v.directory.posts(region="220221")),
        Case("posts status", lambda v: v.directory.posts(status="vacant", region="220221")),
        Case("posts status only", lambda v: v.directory.posts(status="held")),
        Case("posts holder", lambda v: v.directory.posts(holder_id=PERSON, region="22")),
        Case("posts site", lambda v: v.directory.posts(site_id=FUND, after=4)),
        Case("posts fund", lambda v: v.directory.posts(fund_id=FUND)),
        Case("funds", lambda v: v.directory.funds(limit=50), filtered=False),
        Case("funds region", lambda v: v.directory.funds(region="2202")),
        Case("funds source", lambda v: v.directory.funds(source="east_west", year=2024)),
        Case("funds year", lambda v: v.directory.funds(year=2024)),
        Case("batches", lambda v: v.directory.batches(limit=50), filtered=False),
        Case("batches region", lambda v: v.directory.batches(region="220221")),
        Case("batches fund", lambda v: v.directory.batches(fund_id=FUND)),
        Case("batches state", lambda v: v.directory.batches(state="open")),
        Case(
            "batches days",
            lambda v: v.directory.batches(
                released_from=date(2024, 1, 1), released_to=date(2024, 2, 1)
            ),
        ),
    ]
    return queue + alerts + audit + balances + directory


CASES = _cases()


class _Recording:
    """A transaction that remembers the statements it runs."""

    def __init__(self, tx: Tx, seen: list[tuple[str, dict[str, object]]]) -> None:
        self._tx, self._seen = tx, seen

    def all(self, statement: str, params: Mapping[str, object] | None = None) -> list[Row]:
        self._seen.append((statement, dict(params or {})))
        return self._tx.all(statement, params)

    def one(self, statement: str, params: Mapping[str, object] | None = None) -> Row | None:
        self._seen.append((statement, dict(params or {})))
        return self._tx.one(statement, params)


def _statements(views: Views, case: Case) -> list[tuple[str, dict[str, object]]]:
    seen: list[tuple[str, dict[str, object]]] = []
    db = views.db
    read = db.read

    @contextmanager
    def recording() -> Iterator[Any]:
        with read() as tx:
            yield _Recording(tx, seen)

    db.read = recording  # type: ignore[method-assign]
    try:
        case.run(views)
    finally:
        del db.read  # the class's method again
    return seen


_TABLE = r"(?:[a-z_]+ AS )?([a-z_]+)"


def _sqlite_scans(
    db: ViewDB, statement: str, params: dict[str, object], *, filtered: bool
) -> list[str]:
    """The plan lines that read a whole table (or index, if filtered) or sort a whole result."""
    with db.read() as tx:
        plan = [str(r["detail"]) for r in tx.all(f"EXPLAIN QUERY PLAN {statement}", params)]
    scans = [line for line in plan if re.match(r"SCAN \S+$", line)]
    walks = [line for line in plan if re.match(r"SCAN \S+ USING (COVERING )?INDEX", line)]
    sorts = [line for line in plan if "TEMP B-TREE" in line]
    bad = scans + (walks if filtered else sorts)
    return [f"{line}  (plan: {plan})" for line in bad]


def _postgres_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _postgres_nodes(child)


def _postgres_scans(
    db: ViewDB, statement: str, params: dict[str, object], *, filtered: bool
) -> list[str]:
    """Nodes that read a whole table, or walk a whole index without a condition."""
    assert db._pool is not None  # noqa: SLF001 - the test explains on the views' own pool
    with db._pool.connection() as connection, connection.transaction():  # noqa: SLF001
        connection.execute("SET LOCAL enable_seqscan = off")
        [row] = connection.execute(
            "EXPLAIN (FORMAT JSON) " + to_pyformat(statement), params
        ).fetchall()
    [plan] = row["QUERY PLAN"]
    found = []
    for node in _postgres_nodes(plan["Plan"]):
        kind = node["Node Type"]
        walk = kind in {"Index Scan", "Index Only Scan"} and "Index Cond" not in node
        if kind == "Seq Scan" or (walk if filtered else kind == "Sort"):
            found.append(f"{kind} on {node.get('Relation Name')} {node.get('Index Name', '')}")
    return found


@pytest.fixture
def populated(ledger: Ledger, views: Views) -> Views:
    """Views holding a little of everything (empty tables plan as well, but less truly)."""
    f.money_story(ledger)
    f.register(ledger, account="6222020200000017")
    f.register(ledger, account="6222020200000017")
    views.catch_up()
    FOUND["alert"] = views.alerts.find(limit=1)[0].alert_id
    return views


def test_no_list_query_scans_a_table_or_sorts_it_whole(populated: Views) -> None:
    """For each list endpoint's filter combination, every table is reached by an index.

    And each page takes at most two statements (three for the region balance): nothing
    is read row by row.
    """
    db = populated.db
    failures = []
    for case in CASES:
        statements = _statements(populated, case)
        assert statements, f"{case.name}: no statement recorded"
        # no N+1: a page, its evidence, regions and people come in a fixed number of
        # statements, whatever the number of rows (the region balance reads three sums)
        assert len(statements) <= (3 if case.name == "region balance" else 2), case.name
        for index, (statement, params) in enumerate(statements):
            explain = _postgres_scans if db.dialect == "postgres" else _sqlite_scans
            # what an unfiltered page reads next, it reads by the ids the page found
            scans = explain(db, statement, params, filtered=case.filtered or index > 0)
            failures += [f"{case.name}: {scan}\n    {statement}" for scan in scans]
    assert failures == [], "\n".join(failures)
