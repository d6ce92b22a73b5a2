"""The report rows on SQLite and PostgreSQL: exact money, totals that reconcile, filters.

``books`` builds the ledger every report test reads (the CLI tests too): money_story's
county with one more stipend approved and not yet paid, a transport grant requested, four
more funds (another year, another source, another county, one allocated nothing) and
four alerts of two rules in three states.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disburse.domain.alert import AlertOutcome
from disburse.domain.errors import InvalidInputError
from disburse.domain.fund import FundSource
from disburse.domain.money import MAX_FEN
from disburse.readside.balance_queries import Totals
from disburse.readside.reports import (
    ViewMovingError,
    alerts_report,
    execution_rate,
    funds_report,
    programme_report,
    read_at_one_position,
    region_report,
)
from tests import factories as f
from tests.integration.test_alerts import force, grant
from tests.integration.test_grants import _claim, _jilin

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.readside.reports import Report, Value
    from disburse.readside.views import Views

ES, RR, EW = "employment_subsidy", "rural_revitalisation", "east_west"
PAID = {"paid", "recovery_ordered", "recovered"}  # statuses of payouts the bank paid
OTHER_BUDGET = 12_345_678  # 123,456.78 yuan: the fen must survive every format


@dataclass(frozen=True)
class Books:
    story: f.MoneyStory
    approved: UUID  # a stipend for 11 of 22 days: 750.00 committed
    grant_payout: UUID  # a transport grant of 500.00, requested


def books(ledger: Ledger, views: Views) -> Books:
    """Five funds, six payouts in five states, four alerts; the views caught up."""
    story = f.money_story(ledger)
    post_id, _ = f.staffed_post(ledger, story.place)
    approved = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=11, days_required=22
    )
    assert approved is not None
    ledger.payouts.approve(f.finance(), approved)
    _jilin(ledger)  # rural_revitalisation, 220221, 2024: 100,000.00
    claim = _claim(ledger, f.register(ledger))
    for source, region, year, amount in (
        (FundSource.EMPLOYMENT_SUBSIDY, f.COUNTY, 2023, 5_000_000),
        (FundSource.RURAL_REVITALISATION, f.OTHER_COUNTY, 2024, OTHER_BUDGET),
        (FundSource.EAST_WEST, f.OTHER_COUNTY, 2024, 0),
    ):
        ledger.funds.allocate(
            f.finance(), source=source, region_code=region, year=year, amount_fen=amount
        )
    _raise_alerts(ledger, views)
    views.catch_up()
    return Books(story, approved, claim.payout_id)


def _raise_alerts(ledger: Ledger, views: Views) -> None:
    """Shared accounts confirmed and open in the county, dismissed in the other one.

    And a duplicate transport grant, open, raised where the second grant was claimed.
    """
    decided = (
        (f.COUNTY, "6222020200000051", AlertOutcome.CONFIRMED),
        (f.OTHER_COUNTY, "6222020200000052", AlertOutcome.DISMISSED),
    )
    for region, account, outcome in decided:
        f.register(ledger, region=region, account=account)
        f.register(ledger, region=region, account=account)
        views.catch_up()
        [alert] = views.alerts.find(rule="FRAUD-SHARED-ACCOUNT", state="open")
        f.alert_desk(ledger, views).resolve(
            f.inspector(), alert.alert_id, outcome=outcome, reason="seen"
        )
    f.register(ledger, account="6222020200000053")
    f.register(ledger, account="6222020200000053")
    twice = f.register(ledger)
    force(ledger, grant(twice), grant(twice, region=f.OTHER_COUNTY))


def values(report: Report) -> list[tuple[Value, ...]]:
    return [row.values for row in report.rows]


def totals(report: Report) -> list[bool]:
    return [row.total for row in report.rows]


# -- funds ------------------------------------------------------------------------------------


def test_the_funds_report_has_one_row_per_fund_with_exact_money_and_a_total(
    ledger: Ledger, views: Views
) -> None:
    books(ledger, views)

    report = funds_report(views)

    r = Decimal
    assert values(report) == [
        (ES, f.COUNTY, 2023, 5_000_000, 0, 0, 0, 5_000_000, r("0.00")),
        (ES, f.COUNTY, 2024, 100_000_000, 75_000, 300_000, 50_000, 99_675_000, r("0.25")),
        (RR, f.COUNTY, 2024, 10_000_000, 0, 0, 0, 10_000_000, r("0.00")),
        (EW, f.OTHER_COUNTY, 2024, 0, 0, 0, 0, 0, None),  # nothing allocated: no rate
        (RR, f.OTHER_COUNTY, 2024, OTHER_BUDGET, 0, 0, 0, OTHER_BUDGET, r("0.00")),
        ("total 合计", "", None, 127_345_678, 75_000, 300_000, 50_000, 127_020_678, r("0.20")),
    ]
    assert totals(report) == [False] * 5 + [True]
    assert report.position == views.projector.head() == views.projector.positions()["balances"]
    assert report.note == f"as of log position {report.position}; region all"


def test_every_row_of_the_funds_report_reconciles(ledger: Ledger, views: Views) -> None:
    """On every row and the total: allocated = available + committed + paid - recovered."""
    books(ledger, views)

    rows = values(funds_report(views))

    assert len(rows) == 6
    for _, _, _, allocated, committed, paid, recovered, available, _ in rows:
        assert isinstance(allocated, int)
        assert allocated == available + committed + paid - recovered  # type: ignore[operator]


def test_the_funds_report_keeps_a_region_prefix_and_a_year(ledger: Ledger, views: Views) -> None:
    books(ledger, views)

    other_county = funds_report(views, scope=f.OTHER_COUNTY)
    city = funds_report(views, scope="220200")  # a city's code stands for its prefix
    last_year = funds_report(views, scope="22", year=2023)
    elsewhere = funds_report(views, scope="44")

    assert [row[:3] for row in values(other_county)] == [
        (EW, f.OTHER_COUNTY, 2024),
        (RR, f.OTHER_COUNTY, 2024),
        ("total 合计", "", None),
    ]
    assert values(other_county)[-1][3:] == (OTHER_BUDGET, 0, 0, 0, OTHER_BUDGET, Decimal("0.00"))
    assert city.scope == "2202"
    assert values(city) == values(funds_report(views))
    assert values(last_year) == [
        (ES, f.COUNTY, 2023, 5_000_000, 0, 0, 0, 5_000_000, Decimal("0.00")),
        ("total 合计", "", None, 5_000_000, 0, 0, 0, 5_000_000, Decimal("0.00")),
    ]
    assert last_year.note.endswith("; region 22; year 2023")
    assert values(elsewhere) == [("total 合计", "", None, 0, 0, 0, 0, 0, None)]


def test_a_region_that_is_no_prefix_is_refused_with_region_code(views: Views) -> None:
    for build in (funds_report, region_report, programme_report, alerts_report):
        with pytest.raises(InvalidInputError) as refused:
            build(views, scope="2x")
        assert (refused.value.rule_id, refused.value.field) == ("REGION-CODE", "region")


# -- execution rate ---------------------------------------------------------------------------


def test_the_execution_rate_is_net_expenditure_over_budget_rounded_half_up() -> None:
    def rate(allocated: int, paid: int, recovered: int = 0) -> Decimal | None:
        return execution_rate(
            Totals(allocated_fen=allocated, paid_fen=paid, recovered_fen=recovered)
        )

    assert rate(0, 0) is None
    assert rate(0, 100) is None
    assert rate(3, 1) == Decimal("33.33")
    assert rate(3, 2) == Decimal("66.67")
    assert rate(20_000, 1) == Decimal("0.01")  # 0.005 %: half up
    assert rate(20_001, 1) == Decimal("0.00")
    assert rate(100, 150, 50) == Decimal("100.00")
    assert rate(20_000, 0, 1) == Decimal("-0.01")  # half away from zero below it too
    assert str(rate(8, 1)) == "12.50"


@given(
    allocated=st.integers(1, MAX_FEN),
    paid=st.integers(0, MAX_FEN),
    recovered=st.integers(0, MAX_FEN),
)
def test_the_execution_rate_is_the_exact_quotient_rounded_to_a_hundredth_of_a_percent(
    allocated: int, paid: int, recovered: int
) -> None:
    with localcontext(prec=80):  # exact enough that no rounding can be mistaken for a tie
        exact = Decimal(100 * (paid - recovered)) / Decimal(allocated)
        expected = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    found = execution_rate(Totals(allocated_fen=allocated, paid_fen=paid, recovered_fen=recovered))

    assert found == expected
    assert found is not None
    assert found.as_tuple().exponent == -2


# -- region -----------------------------------------------------------------------------------


def test_the_region_report_sums_each_source_per_region_with_subtotals_and_a_total(
    ledger: Ledger, views: Views
) -> None:
    books(ledger, views)

    report = region_report(views)
    current = region_report(views, year=2024)

    r = Decimal
    assert values(report) == [
        (f.COUNTY, ES, 105_000_000, 75_000, 300_000, 50_000, 104_675_000, r("0.24")),
        (f.COUNTY, RR, 10_000_000, 0, 0, 0, 10_000_000, r("0.00")),
        (f.COUNTY, "subtotal 小计", 115_000_000, 75_000, 300_000, 50_000, 114_675_000, r("0.22")),
        (f.OTHER_COUNTY, EW, 0, 0, 0, 0, 0, None),
        (f.OTHER_COUNTY, RR, OTHER_BUDGET, 0, 0, 0, OTHER_BUDGET, r("0.00")),
        (f.OTHER_COUNTY, "subtotal 小计", OTHER_BUDGET, 0, 0, 0, OTHER_BUDGET, r("0.00")),
        ("total 合计", "", 127_345_678, 75_000, 300_000, 50_000, 127_020_678, r("0.20")),
    ]
    assert totals(report) == [False, False, True, False, False, True, True]
    assert values(current)[0] == (
        f.COUNTY, ES, 100_000_000, 75_000, 300_000, 50_000, 99_675_000, r("0.25")
    )  # fmt: skip
    assert values(current)[-1][2] == 122_345_678
    # The total is the balances view's own total of the scope.
    region = views.balances.region("22")
    assert values(report)[-1][2:7] == (
        region.totals.allocated_fen,
        region.totals.committed_fen,
        region.totals.paid_fen,
        region.totals.recovered_fen,
        region.totals.available_fen,
    )


# -- programme --------------------------------------------------------------------------------


def test_the_programme_report_counts_payouts_and_their_amounts_per_status(
    ledger: Ledger, views: Views
) -> None:
    books(ledger, views)

    report = programme_report(views)

    assert values(report) == [
        ("GRANT-TRANSPORT", "requested", 1, 50_000, 0),
        ("GRANT-TRANSPORT", "all 全部", 1, 50_000, 0),
        ("POST-STIPEND", "requested", 1, 150_000, 0),
        ("POST-STIPEND", "approved", 1, 75_000, 0),
        ("POST-STIPEND", "paid", 1, 150_000, 0),
        ("POST-STIPEND", "recovered", 1, 150_000, 50_000),  # all that was ordered came back
        ("POST-STIPEND", "rejected", 1, 150_000, 0),
        ("POST-STIPEND", "all 全部", 5, 675_000, 50_000),
        ("total 合计", "", 6, 725_000, 50_000),
    ]
    assert totals(report) == [False, True, False, False, False, False, False, True, True]
    assert report.position == views.projector.positions()["queue"]


def test_the_programme_report_agrees_with_the_funds_on_paid_and_recovered(
    ledger: Ledger, views: Views
) -> None:
    """Here no payment was reversed, so what the funds paid is what the payouts paid."""
    books(ledger, views)

    rows = values(programme_report(views))
    fund_total = values(funds_report(views))[-1]

    paid = [amount for _, status, _, amount, _ in rows if status in PAID]
    paid_fen = [amount for amount in paid if isinstance(amount, int)]
    assert len(paid_fen) == len(paid) == 2
    assert (sum(paid_fen), rows[-1][4]) == (fund_total[5], fund_total[6])


def test_the_programme_report_keeps_a_region_and_the_year_of_the_period(
    ledger: Ledger, views: Views
) -> None:
    books(ledger, views)

    this_year = programme_report(views, scope="2202", year=2024)
    last_year = programme_report(views, year=2023)
    other_county = programme_report(views, scope=f.OTHER_COUNTY)

    assert values(this_year) == values(programme_report(views))
    assert values(last_year) == [("total 合计", "", 0, 0, 0)]
    assert values(other_county) == [("total 合计", "", 0, 0, 0)]


# -- alerts -----------------------------------------------------------------------------------


def test_the_alerts_report_counts_alerts_per_rule_and_state(ledger: Ledger, views: Views) -> None:
    books(ledger, views)

    everywhere = alerts_report(views)
    county = alerts_report(views, scope=f.COUNTY)
    other = alerts_report(views, scope=f.OTHER_COUNTY)

    assert [c.header for c in everywhere.columns] == [
        "rule 规则",
        "open 待处理",
        "confirmed 已确认",
        "dismissed 已排除",
        "total 合计",
    ]
    assert values(everywhere) == [
        ("FRAUD-DUP-GRANT", 1, 0, 0, 1),
        ("FRAUD-SHARED-ACCOUNT", 1, 1, 1, 3),
        ("total 合计", 2, 1, 1, 4),
    ]
    assert totals(everywhere) == [False, False, True]
    assert values(county) == [
        ("FRAUD-DUP-GRANT", 1, 0, 0, 1),  # the person's home county
        ("FRAUD-SHARED-ACCOUNT", 1, 1, 0, 2),
        ("total 合计", 2, 1, 0, 3),
    ]
    assert values(other) == [
        ("FRAUD-DUP-GRANT", 1, 0, 0, 1),  # where the second grant was claimed
        ("FRAUD-SHARED-ACCOUNT", 0, 0, 1, 1),
        ("total 合计", 1, 0, 1, 2),
    ]
    assert everywhere.position == views.projector.positions()["alerts"]


# -- one position -----------------------------------------------------------------------------


def test_a_read_counts_only_when_the_view_stood_still_during_it(
    ledger: Ledger, views: Views
) -> None:
    attempts: list[int] = []

    def moving_once() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            f.register(ledger)
            views.catch_up()
        return len(attempts)

    def always_moving() -> None:
        f.register(ledger)
        views.catch_up()

    result, position = read_at_one_position(views, "balances", moving_once)

    assert (result, position) == (2, views.projector.head())
    with pytest.raises(ViewMovingError, match="the balances view moved on during 5 reads"):
        read_at_one_position(views, "balances", always_moving)
