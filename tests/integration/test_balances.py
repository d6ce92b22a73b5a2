"""The balances view: double entry per fund, region, programme and person, on both stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

from disburse.readside.balance_queries import Totals
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views

BUDGET = 100_000_000


def test_every_way_money_goes_is_posted_in_balance(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)
    views.catch_up()
    fund = views.balances.fund(str(story.place.fund_id))
    assert fund is not None
    # paid 1500 + 1500, recovered 500, pending one not committed, rejected one released
    assert fund.totals == Totals(
        allocated_fen=BUDGET,
        available_fen=BUDGET - 300_000 + 50_000,
        committed_fen=0,
        paid_fen=300_000,
        recovered_fen=50_000,
        recovery_outstanding_fen=0,
    )
    assert views.check(ledger.store) == []


def test_regions_roll_up_from_county_to_city_to_province(ledger: Ledger, views: Views) -> None:
    f.money_story(ledger)
    other = f.county(ledger, region=f.OTHER_COUNTY, budget_fen=5_000)
    assert other.fund_id
    views.catch_up()
    county = views.balances.region(f.COUNTY)
    city = views.balances.region("220200")
    province = views.balances.region("22")
    assert county.totals.allocated_fen == BUDGET
    assert city.totals.allocated_fen == province.totals.allocated_fen == BUDGET + 5_000
    assert [(g.key, g.totals.allocated_fen) for g in city.by_region] == [
        (f.COUNTY, BUDGET),
        (f.OTHER_COUNTY, 5_000),
    ]
    assert [g.key for g in province.by_region] == ["2202"]
    assert views.balances.region("11").totals == Totals()


def test_a_person_sees_what_they_received_net_of_recoveries(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)
    views.catch_up()
    [receipt] = views.balances.person(str(story.person))
    assert (receipt.programme, receipt.year) == ("POST-STIPEND", "2024")
    assert (receipt.paid_fen, receipt.recovered_fen, receipt.net_fen) == (150_000, 50_000, 100_000)
    [programme] = views.balances.programmes()
    assert programme.totals.paid_fen == 300_000


def test_the_check_finds_an_entry_that_does_not_balance(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)
    views.catch_up()
    with views.db.transaction() as tx:
        tx.execute(
            "UPDATE balance_entries SET amount_fen = amount_fen + 1"
            " WHERE account = 'paid' AND payout_id = :p",
            {"p": str(story.paid)},
        )
    problems = views.check(ledger.store)
    assert any("sum to" in p for p in problems)
    assert any(str(story.place.fund_id) in p for p in problems)
