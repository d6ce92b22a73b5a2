"""The tables finance and inspectors ask for, built from the views.

- ``funds``: budget execution per fund (fund source, region, year), with a total.
- ``region``: the same measures per region code and fund source, a subtotal per region
  and a total.
- ``programme``: payouts per programme and status (number, amount, recovered).
- ``alerts``: anti-fraud alerts per rule and state, with totals.
- ``posts``: villages not yet lifted with fewer people on post than the catalogue's
  minimum (``POST-QUOTA-VILLAGE``), with their shortfall.

Money stays integer fen in the rows; it becomes yuan (two decimals, exact) only when the
rows are shown (``cli_report.py``: a table, CSV or XLSX). Each report names the log
position its view had reached: every number in it is as of that position
(:func:`read_at_one_position`). The definitions are in ``docs/reports.md``.

``scope`` is a region filter as everywhere: a 2/4/6-digit prefix, or a 6-digit code
standing for its city or province (``InvalidInputError`` ``REGION-CODE`` otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, TypeVar

from disburse.domain.regions import region_scope
from disburse.readside.alerts.queries import STATES
from disburse.readside.balance_queries import Totals
from disburse.readside.report_queries import ReportQueries, villages_not_lifted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from disburse.readside.balance_queries import FundBalance
    from disburse.readside.report_queries import StatusCount
    from disburse.readside.views import Views

T = TypeVar("T")
Kind = Literal["text", "year", "count", "money", "rate"]
Value = str | int | Decimal | None
#: Reads of a moving view are retried until the view's position is the same before and after.
ATTEMPTS = 5
_BASIS_POINTS = 10_000  # hundredths of a percent in a whole


class ViewMovingError(RuntimeError):
    """The view moved on during every attempt to read it (a busy projection worker)."""


@dataclass(frozen=True)
class Column:
    """A report column: its header (English, and the Chinese term) and what it holds."""

    header: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Row:
    """One line of a report; ``total`` for subtotal and total lines."""

    values: tuple[Value, ...]
    total: bool = False


@dataclass(frozen=True)
class Report:
    """A finished table: its columns, rows and the log position its numbers are as of."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    position: int
    scope: str = ""
    year: int | None = None

    @property
    def note(self) -> str:
        """The line that says what the numbers are: log position and filters."""
        parts = [f"as of log position {self.position}", f"region {self.scope or 'all'}"]
        if self.year is not None:
            parts.append(f"year {self.year}")
        return "; ".join(parts)


MEASURES = (
    Column("allocated 预算", "money"),
    Column("committed 已批待付", "money"),
    Column("paid 已支付", "money"),
    Column("recovered 已追回", "money"),
    Column("available 可用余额", "money"),
    Column("execution % 执行率", "rate"),
)


def execution_rate(totals: Totals) -> Decimal | None:
    """Net expenditure over budget, ``(paid - recovered) / allocated``, in percent.

    Exact from the integers, rounded half away from zero to 0.01 (``Decimal("12.35")``
    means 12.35 %); None when nothing was allocated.
    """
    if totals.allocated_fen == 0:
        return None
    net = totals.paid_fen - totals.recovered_fen
    double = 2 * _BASIS_POINTS * abs(net)
    hundredths = (double + totals.allocated_fen) // (2 * totals.allocated_fen)
    return Decimal(hundredths if net >= 0 else -hundredths).scaleb(-2)


def measures(totals: Totals) -> tuple[Value, ...]:
    """The values of :data:`MEASURES` for some money."""
    return (
        totals.allocated_fen,
        totals.committed_fen,
        totals.paid_fen,
        totals.recovered_fen,
        totals.available_fen,
        execution_rate(totals),
    )


def add(totals: Iterable[Totals]) -> Totals:
    """The sum of several funds' money."""
    names = [f.name for f in fields(Totals)]
    sums = dict.fromkeys(names, 0)
    for one in totals:
        for name in names:
            sums[name] += getattr(one, name)
    return Totals(**sums)


def read_at_one_position(views: Views, view: str, read: Callable[[], T]) -> tuple[T, int]:
    """``read()`` and the position of ``view`` it is as of.

    The position is read before and after; the read counts only when both are the same
    (a view commits its rows and its position together), else it is done again.
    """
    for _ in range(ATTEMPTS):
        before = views.projector.positions()[view]
        result = read()
        if views.projector.positions()[view] == before:
            return result, before
    raise ViewMovingError(f"the {view} view moved on during {ATTEMPTS} reads; try again")


def _funds(views: Views, scope: str, year: int | None) -> tuple[list[FundBalance], int]:
    found, position = read_at_one_position(views, "balances", views.balances.funds)
    chosen = [
        fund
        for fund in found
        if fund.region_code.startswith(scope) and (year is None or fund.year == year)
    ]
    return chosen, position


def funds_report(views: Views, *, scope: str = "", year: int | None = None) -> Report:
    """One row per fund (source, region, year) inside ``scope``, then the total."""
    scope = region_scope(scope)
    chosen, position = _funds(views, scope, year)
    rows = [
        Row((fund.source, fund.region_code, fund.year, *measures(fund.totals))) for fund in chosen
    ]
    total = add(fund.totals for fund in chosen)
    rows.append(Row(("total 合计", "", None, *measures(total)), total=True))
    columns = (Column("fund source 资金来源"), Column("region 区划"), Column("year 年度", "year"))
    return Report(
        "funds",
        "Budget execution by fund 分资金预算执行情况",
        (*columns, *MEASURES),
        tuple(rows),
        position,
        scope,
        year,
    )


def region_report(views: Views, *, scope: str = "", year: int | None = None) -> Report:
    """One row per region code and fund source, a subtotal per region, then the total."""
    scope = region_scope(scope)
    chosen, position = _funds(views, scope, year)
    by_region: dict[str, dict[str, list[Totals]]] = {}
    for fund in sorted(chosen, key=lambda f: (f.region_code, f.source)):
        by_region.setdefault(fund.region_code, {}).setdefault(fund.source, []).append(fund.totals)
    rows: list[Row] = []
    for region, sources in by_region.items():
        rows.extend(
            Row((region, source, *measures(add(money)))) for source, money in sources.items()
        )
        subtotal = add(t for money in sources.values() for t in money)
        rows.append(Row((region, "subtotal 小计", *measures(subtotal)), total=True))
    rows.append(Row(("total 合计", "", *measures(add(f.totals for f in chosen))), total=True))
    return Report(
        "region",
        "Budget execution by region and fund source 分区划预算执行情况",
        (Column("region 区划"), Column("fund source 资金来源"), *MEASURES),
        tuple(rows),
        position,
        scope,
        year,
    )


def programme_report(views: Views, *, scope: str = "", year: int | None = None) -> Report:
    """Payouts per programme and status: number, amount, recovered; programme subtotals."""
    scope = region_scope(scope)
    queries = ReportQueries(views.db)
    counts, position = read_at_one_position(
        views, "queue", lambda: queries.payouts_by_status(scope, year)
    )
    rows: list[Row] = []
    for programme in dict.fromkeys(c.programme for c in counts):
        mine = [c for c in counts if c.programme == programme]
        rows.extend(
            Row((programme, c.status.value, c.payouts, c.amount_fen, c.recovered_fen)) for c in mine
        )
        rows.append(Row((programme, "all 全部", *_sums(mine)), total=True))
    rows.append(Row(("total 合计", "", *_sums(counts)), total=True))
    return Report(
        "programme",
        "Payouts by programme and status 分项目支付情况",
        (
            Column("programme 项目"),
            Column("status 状态"),
            Column("payouts 笔数", "count"),
            Column("amount 金额", "money"),
            Column("recovered 已追回", "money"),
        ),
        tuple(rows),
        position,
        scope,
        year,
    )


def _sums(counts: list[StatusCount]) -> tuple[int, int, int]:
    return (
        sum(c.payouts for c in counts),
        sum(c.amount_fen for c in counts),
        sum(c.recovered_fen for c in counts),
    )


def alerts_report(views: Views, *, scope: str = "") -> Report:
    """Alerts per rule and state (every state a column), a total per rule and overall."""
    scope = region_scope(scope)
    counts, position = read_at_one_position(views, "alerts", lambda: views.alerts.counts(scope))
    rules = sorted({rule for rule, _ in counts})
    rows: list[Row] = []
    for rule in rules:
        states = [counts.get((rule, state), 0) for state in STATES]
        rows.append(Row((rule, *states, sum(states))))
    totals = [sum(counts.get((rule, state), 0) for rule in rules) for state in STATES]
    rows.append(Row(("total 合计", *totals, sum(totals)), total=True))
    state_columns = tuple(Column(f"{state} {_STATE_TERMS[state]}", "count") for state in STATES)
    return Report(
        "alerts",
        "Anti-fraud alerts by rule and state 分规则预警情况",
        (Column("rule 规则"), *state_columns, Column("total 合计", "count")),
        tuple(rows),
        position,
        scope,
    )


_STATE_TERMS = {"open": "待处理", "confirmed": "已确认", "dismissed": "已排除"}


def posts_report(views: Views, *, minimum: Callable[[str], int], scope: str = "") -> Report:
    """POST-QUOTA-VILLAGE: villages not yet lifted with fewer people on post than the minimum.

    ``minimum(region_code)`` is ``village_min_posts`` of the catalogue version in force for
    the region (the caller reads the catalogue). A planning report: no command refuses
    anything under this rule. The total row says how many of the villages checked are below.
    """
    scope = region_scope(scope)
    villages, position = read_at_one_position(
        views, "roster", lambda: villages_not_lifted(views.db, scope)
    )
    rows: list[Row] = []
    for village in villages:
        least = minimum(village.region_code)
        if village.held < least:
            row = (village.posts, village.held, least, least - village.held)
            rows.append(Row((village.region_code, village.name, village.population, *row)))
    sums = [sum(int(row.values[index] or 0) for row in rows) for index in range(3, 7)]
    below = f"{len(rows)} of {len(villages)} villages"
    rows.append(Row(("total 合计", below, None, *sums), total=True))
    return Report(
        "posts",
        "Villages below their minimum of public posts 未达岗位规模的村 (POST-QUOTA-VILLAGE)",
        (
            Column("region 区划"),
            Column("village 村"),
            Column("population 人口", "count"),
            Column("posts 已设岗位", "count"),
            Column("on post 在岗", "count"),
            Column("minimum 最低", "count"),
            Column("shortfall 缺口", "count"),
        ),
        tuple(rows),
        position,
        scope,
    )
