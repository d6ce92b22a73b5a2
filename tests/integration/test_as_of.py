"""Time travel on real stores: an entity and balances as they stood at the end of a day.

Events carry wall-clock timestamps, all within a few milliseconds of each other here. To
put "the end of a day" between two of them without waiting for a day to pass, the tests
read the events' own timestamps and make ``end_of_day`` answer an instant between them;
nothing stored is rewritten. ``end_of_day`` itself is checked on its own.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from disburse.application.payouts import BankResult
from disburse.audit import asof
from disburse.audit.asof import EntityAsOf, end_of_day, entity_as_of, parse_target, region_as_of
from disburse.domain.batch import Outcome
from disburse.domain.errors import InvalidInputError, NotFoundError
from disburse.domain.fund import FundSource
from disburse.readside.balance_queries import Totals
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from eventsourcing.domain import DomainEvent

    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUDGET = 100_000_000
STIPEND = 150_000
#: The day asked for in the tests that choose the cut themselves: any day will do.
DAY = date(2024, 3, 31)


@pytest.fixture
def cut_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Make every day end at the instant given (for entity_as_of and region_as_of)."""

    def set_cut(instant: datetime) -> None:
        monkeypatch.setattr(asof, "end_of_day", lambda _day, _zone: instant)

    return set_cut


def events_of(ledger: Ledger, entity_id: UUID) -> list[DomainEvent]:
    """The entity's events as stored, oldest first."""
    return list(cast("Iterable[DomainEvent]", ledger.store.events.get(entity_id)))


def between(earlier: DomainEvent, later: DomainEvent) -> datetime:
    """An instant strictly between the two events' timestamps."""
    assert earlier.timestamp < later.timestamp
    return earlier.timestamp + (later.timestamp - earlier.timestamp) / 2


def kinds(events: list[DomainEvent]) -> list[str]:
    return [type(e).__qualname__ for e in events]


def fund_as_of(ledger: Ledger, views: Views, fund_id: UUID) -> EntityAsOf:
    return entity_as_of(ledger.store, views.balances, fund_id, DAY, SHANGHAI, full_identity=False)


def balances_of(found: EntityAsOf) -> Totals:
    assert found.balances is not None
    return found.balances.totals


def totals_from_state(state: dict[str, Any]) -> Totals:
    """What the balance view must say of a fund whose fields are ``state``."""
    allocated, committed = state["allocated_fen"], state["committed_fen"]
    paid, recovered = state["paid_fen"], state["recovered_fen"]
    return Totals(
        allocated_fen=allocated,
        available_fen=allocated - committed - paid + recovered,
        committed_fen=committed,
        paid_fen=paid,
        recovered_fen=recovered,
        recovery_outstanding_fen=0,
    )


def paid_stipend(ledger: Ledger) -> f.County:
    """A county fund whose one stipend was committed, then paid (three fund events)."""
    place = f.county(ledger, budget_fen=BUDGET)
    post_id, _ = f.staffed_post(ledger, place)
    payout = ledger.posts.record_attendance(
        f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
    )
    assert payout is not None
    ledger.payouts.approve(f.finance(), payout)
    batch = ledger.payouts.release_batch(f.finance(), fund_id=place.fund_id, payout_ids=[payout])
    ledger.payouts.record_results(
        f.finance(),
        batch,
        results=[BankResult(payout, Outcome.PAID, bank_reference="BOC-1")],
        control_count=1,
        control_total_fen=STIPEND,
    )
    return place


# -- end of day -------------------------------------------------------------------------------


def test_a_day_in_shanghai_ends_at_sixteen_hundred_utc_of_that_day() -> None:
    assert end_of_day(date(2024, 3, 31), SHANGHAI) == datetime(2024, 3, 31, 16, tzinfo=UTC)
    assert end_of_day(date(2024, 12, 31), SHANGHAI) == datetime(2024, 12, 31, 16, tzinfo=UTC)
    assert end_of_day(date(2024, 3, 31), ZoneInfo("UTC")) == datetime(2024, 4, 1, tzinfo=UTC)
    # Where clocks change, the day ends at the local midnight of the new offset.
    berlin = ZoneInfo("Europe/Berlin")
    assert end_of_day(date(2024, 3, 30), berlin) == datetime(2024, 3, 30, 23, tzinfo=UTC)
    assert end_of_day(date(2024, 3, 31), berlin) == datetime(2024, 3, 31, 22, tzinfo=UTC)
    assert end_of_day(date(2024, 3, 31), SHANGHAI).tzinfo == UTC


def test_a_target_is_an_entity_id_or_a_region_scope_and_nothing_else() -> None:
    entity = uuid4()
    assert parse_target(str(entity)) == entity
    assert parse_target("22") == "22"
    assert parse_target("2202") == "2202"
    assert parse_target(f.COUNTY) == f.COUNTY
    assert parse_target("220200") == "2202"  # a city's code stands for the whole city
    for garbage in ("abc", "2202211", "220", "not-a-uuid-0000"):
        with pytest.raises(InvalidInputError) as refused:
            parse_target(garbage)
        assert (refused.value.rule_id, refused.value.field) == ("AS-OF-TARGET", "entity_id")


# -- an entity at a cut -----------------------------------------------------------------------


def test_a_fund_as_of_a_cut_has_the_state_and_balances_it_had_then(
    ledger: Ledger, views: Views, cut_at: Callable[[datetime], None]
) -> None:
    place = paid_stipend(ledger)
    views.catch_up()
    allocated, committed, paid = events_of(ledger, place.fund_id)
    assert kinds([allocated, committed, paid]) == ["Fund.Allocated", "Fund.Committed", "Fund.Paid"]

    cut_at(between(allocated, committed))
    before_approval = fund_as_of(ledger, views, place.fund_id)
    cut_at(between(committed, paid))
    approved = fund_as_of(ledger, views, place.fund_id)
    cut_at(paid.timestamp + timedelta(seconds=1))
    now = fund_as_of(ledger, views, place.fund_id)

    assert (before_approval.version, before_approval.later_events) == (1, 2)
    assert (approved.version, approved.later_events) == (2, 1)
    assert (now.version, now.later_events) == (3, 0)
    assert before_approval.recorded_at == allocated.timestamp
    assert approved.recorded_at == committed.timestamp
    assert now.recorded_at == paid.timestamp
    assert approved.cut == between(committed, paid)
    assert (approved.entity_type, approved.entity_id, approved.day) == ("Fund", place.fund_id, DAY)

    def money(found: EntityAsOf) -> tuple[object, ...]:
        s = found.state
        return (s["allocated_fen"], s["committed_fen"], s["paid_fen"], s["recovered_fen"])

    assert money(before_approval) == (BUDGET, 0, 0, 0)
    assert money(approved) == (BUDGET, STIPEND, 0, 0)
    assert money(now) == (BUDGET, 0, STIPEND, 0)
    # The balance view's postings up to the cut say what the fund itself said then.
    for found in (before_approval, approved, now):
        assert balances_of(found) == totals_from_state(found.state)
        assert balances_of(found).balanced
    assert balances_of(approved).available_fen == BUDGET - STIPEND
    assert now.balances is not None
    assert (now.balances.fund_id, now.balances.region_code) == (str(place.fund_id), f.COUNTY)


def test_an_event_recorded_exactly_at_the_cut_belongs_to_the_next_day(
    ledger: Ledger, views: Views, cut_at: Callable[[datetime], None]
) -> None:
    place = paid_stipend(ledger)
    views.catch_up()
    _, committed, _ = events_of(ledger, place.fund_id)

    cut_at(committed.timestamp)
    found = fund_as_of(ledger, views, place.fund_id)

    assert (found.version, found.later_events) == (1, 2)
    assert found.state["committed_fen"] == 0
    assert balances_of(found).committed_fen == 0  # the posting of that event is left out too


def test_an_entity_before_its_first_event_or_never_recorded_is_not_found(
    ledger: Ledger, views: Views, cut_at: Callable[[datetime], None]
) -> None:
    fund_id = f.county(ledger).fund_id
    views.catch_up()
    [allocated] = events_of(ledger, fund_id)

    cut_at(allocated.timestamp - timedelta(microseconds=1))
    with pytest.raises(NotFoundError) as before:
        fund_as_of(ledger, views, fund_id)
    with pytest.raises(NotFoundError) as never:
        fund_as_of(ledger, views, uuid4())

    for refused in (before.value, never.value):
        assert (refused.rule_id, refused.field) == ("ENTITY-NOT-FOUND", "entity_id")
    assert str(fund_id) in before.value.message


def test_days_end_in_the_zone_given_with_the_real_clock(ledger: Ledger, views: Views) -> None:
    """Without a chosen cut: today is after the fund's events, two days ago before them."""
    fund_id = f.county(ledger).fund_id
    ledger.funds.top_up(f.finance(), fund_id, amount_fen=1_000, reason="supplementary")
    views.catch_up()
    today = datetime.now(SHANGHAI).date()

    found = entity_as_of(
        ledger.store, views.balances, fund_id, today, SHANGHAI, full_identity=False
    )
    with pytest.raises(NotFoundError):
        entity_as_of(
            ledger.store,
            views.balances,
            fund_id,
            today - timedelta(days=2),
            SHANGHAI,
            full_identity=False,
        )

    assert found.cut == datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=16
    )
    assert (found.version, found.later_events) == (2, 0)
    assert found.state["allocated_fen"] == BUDGET + 1_000
    assert balances_of(found).allocated_fen == BUDGET + 1_000


# -- personal data ----------------------------------------------------------------------------


def test_a_person_as_of_a_cut_shows_the_account_then_masked_or_in_full(
    ledger: Ledger, views: Views, cut_at: Callable[[datetime], None]
) -> None:
    rid = f.resident_id()
    old_account, new_account = "6222020211112222", "6222020233334444"
    person_id = f.register(ledger, rid=rid, account=old_account)
    ledger.people.change_bank_account(
        f.clerk(), person_id, bank_account=new_account, reason="card replaced"
    )
    views.catch_up()
    registered, changed = events_of(ledger, person_id)
    cut_at(between(registered, changed))

    def as_of(*, full_identity: bool) -> EntityAsOf:
        return entity_as_of(
            ledger.store,
            views.balances,
            person_id,
            DAY,
            SHANGHAI,
            full_identity=full_identity,
        )

    full, masked = as_of(full_identity=True), as_of(full_identity=False)

    for found in (full, masked):
        assert (found.entity_type, found.version, found.later_events) == ("Person", 1, 1)
        assert found.balances is None
        assert "id_hash" not in found.state  # never, whoever asks
        assert found.state["home_region"] == f.COUNTY
        assert found.state["resident_id_masked"] not in {rid, "[erased]"}
    assert full.state["resident_id"] == rid
    assert full.state["name"] == "测试人"
    assert full.state["bank_account"] == old_account  # not the account it has now
    assert full.state["birth_date"] == "1980-05-17"
    assert "resident_id" not in masked.state
    assert masked.state["name"] == "测**"
    assert masked.state["bank_account"] == "************2222"
    assert masked.state["birth_date"] == "1980-**-**"
    text = json.dumps(masked.state, ensure_ascii=False)
    assert rid not in text
    assert old_account not in text
    assert "测试人" not in text


# -- a region ---------------------------------------------------------------------------------


def test_a_region_as_of_a_cut_sums_the_funds_inside_it_then(
    ledger: Ledger, views: Views, cut_at: Callable[[datetime], None]
) -> None:
    own = ledger.funds.allocate(
        f.finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=1_000,
    )
    other = ledger.funds.allocate(
        f.finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=f.OTHER_COUNTY,
        year=2024,
        amount_fen=500,
    )
    ledger.funds.top_up(f.finance(), own, amount_fen=300, reason="supplementary")
    later = ledger.funds.allocate(
        f.finance(),
        source=FundSource.EAST_WEST,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=200,
    )
    views.catch_up()
    [other_allocated] = events_of(ledger, other)
    own_allocated, topped_up = events_of(ledger, own)
    assert own_allocated.timestamp < other_allocated.timestamp < topped_up.timestamp
    assert [type(e).__qualname__ for e in events_of(ledger, later)] == ["Fund.Allocated"]

    cut_at(between(other_allocated, topped_up))
    city = region_as_of(views.balances, "2202", DAY, SHANGHAI)
    county = region_as_of(views.balances, f.COUNTY, DAY, SHANGHAI)
    own_then = fund_as_of(ledger, views, own)
    other_then = fund_as_of(ledger, views, other)
    with pytest.raises(NotFoundError):
        fund_as_of(ledger, views, later)
    cut_at(datetime.now(UTC) + timedelta(seconds=5))
    city_now = region_as_of(views.balances, "2202", DAY, SHANGHAI)
    county_now = region_as_of(views.balances, f.COUNTY, DAY, SHANGHAI)

    assert (city.scope, county.scope) == ("2202", f.COUNTY)
    assert city.totals.allocated_fen == 1_500
    assert city.totals.allocated_fen == (
        balances_of(own_then).allocated_fen + balances_of(other_then).allocated_fen
    )
    assert city.totals.available_fen == 1_500
    assert [(g.key, g.totals.allocated_fen) for g in city.by_region] == [
        (f.COUNTY, 1_000),
        (f.OTHER_COUNTY, 500),
    ]
    assert county.totals == balances_of(own_then)
    assert county.totals.allocated_fen == 1_000
    assert city_now.totals.allocated_fen == 2_000
    assert county_now.totals.allocated_fen == 1_500
    assert [(g.key, g.totals.allocated_fen) for g in county_now.by_source] == [
        ("east_west", 200),
        ("employment_subsidy", 1_300),
    ]
    assert region_as_of(views.balances, "11", DAY, SHANGHAI).totals == Totals()
