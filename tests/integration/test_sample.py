"""Random samples of payouts for inspection: reproducible, bounded, recorded, on both stores."""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pytest

from disburse.audit import sampling
from disburse.audit.sampling import draw_sample, population_digest
from disburse.domain.errors import InvalidInputError
from disburse.domain.meta import Role
from disburse.domain.payout import Payout, PayoutKind
from disburse.domain.sample import AuditSample
from disburse.readside.base import event_type
from tests import factories as f

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.audit.sampling import SampleResult
    from disburse.readside.views import Views


def payouts(ledger: Ledger, count: int, region: str = f.COUNTY) -> list[UUID]:
    """``count`` requested payouts in ``region``, written straight to the store."""
    made = [
        Payout(
            kind=PayoutKind.GRANT,
            programme="GRANT-TRANSPORT",
            source_id=uuid4(),
            period="2024",
            beneficiary_id=uuid4(),
            fund_id=uuid4(),
            region_code=region,
            amount_fen=50_000,
            explanation={"rule": "test"},
            holds=[],
            meta=f.meta(),
        )
        for _ in range(count)
    ]
    ledger.store.save(*made)
    return [p.id for p in made]


def expected(seed: str, rate: float, population: list[UUID]) -> list[UUID]:
    """The draw, recomputed from its definition with hashlib alone."""
    chosen = [
        p
        for p in population
        if int(hashlib.sha256(f"{seed}:{p}".encode()).hexdigest(), 16) < rate * 2**256
    ]
    return sorted(chosen, key=str)


def draw(ledger: Ledger, views: Views, **options: Any) -> SampleResult:
    options.setdefault("rate", 0.3)
    options.setdefault("seed", "2024-Q1")
    return draw_sample(ledger, views, f.inspector(), reason="quarterly check", **options)


def drawn_events(ledger: Ledger) -> list[tuple[int, Any]]:
    notifications = ledger.store.recorder.select_notifications(start=1, limit=100_000)
    events = [(n.id, ledger.store.mapper.to_domain_event(n)) for n in notifications]
    return [(p, e) for p, e in events if event_type(e) == "AuditSample.Drawn"]


# -- the draw -------------------------------------------------------------------------------


def test_a_draw_selects_exactly_the_payouts_whose_hash_falls_below_the_rate(
    ledger: Ledger, views: Views
) -> None:
    population = payouts(ledger, 60)

    result = draw(ledger, views, rate=0.3, seed="2024-Q1")

    assert result.population == 60
    assert result.selected == expected("2024-Q1", 0.3, population)
    assert 0 < len(result.selected) < 60
    assert (result.rate, result.seed, result.scope) == (0.3, "2024-Q1", "")


def test_the_same_seed_again_is_a_new_sample_with_the_same_selection(
    ledger: Ledger, views: Views
) -> None:
    payouts(ledger, 40)

    first = draw(ledger, views, seed="same")
    second = draw(ledger, views, seed="same")
    other = draw(ledger, views, seed="other", rate=0.5)

    assert first.sample_id != second.sample_id
    assert first.selected == second.selected
    assert first.population_digest == second.population_digest
    assert other.selected != draw(ledger, views, seed="same", rate=0.5).selected
    recorded = [e.originator_id for _, e in drawn_events(ledger)]
    assert recorded[:2] == [first.sample_id, second.sample_id]


def test_a_larger_population_keeps_every_payout_selected_before(
    ledger: Ledger, views: Views
) -> None:
    payouts(ledger, 30)
    before = draw(ledger, views, seed="grow", rate=0.4)
    payouts(ledger, 30)

    after = draw(ledger, views, seed="grow", rate=0.4)

    assert (before.population, after.population) == (30, 60)
    assert set(before.selected) <= set(after.selected)
    assert after.as_of_position > before.as_of_position


def test_a_rate_of_one_selects_every_payout_of_every_status(ledger: Ledger, views: Views) -> None:
    story = f.money_story(ledger)

    result = draw(ledger, views, rate=1)

    assert set(result.selected) == {story.paid, story.rejected, story.reissued, story.pending}
    assert result.population == 4
    assert result.rate == 1.0


def test_pages_of_the_population_give_the_same_draw(
    ledger: Ledger, views: Views, monkeypatch: pytest.MonkeyPatch
) -> None:
    payouts(ledger, 25)
    whole = draw(ledger, views, rate=0.5)

    monkeypatch.setattr(sampling, "PAGE", 4)
    paged = draw(ledger, views, rate=0.5)

    assert (paged.population, paged.selected) == (whole.population, whole.selected)
    assert paged.population_digest == whole.population_digest


# -- the population -------------------------------------------------------------------------


def test_the_population_digest_is_the_sha256_of_the_sorted_ids(
    ledger: Ledger, views: Views
) -> None:
    population = payouts(ledger, 12)

    result = draw(ledger, views)

    ordered = sorted(str(p) for p in population)
    text = "".join(f"{p}\n" for p in ordered)
    assert result.population_digest == hashlib.sha256(text.encode()).hexdigest()
    assert population_digest(ordered) == result.population_digest


def test_the_scope_limits_the_population_to_its_region(ledger: Ledger, views: Views) -> None:
    here = payouts(ledger, 20)
    there = payouts(ledger, 20, region=f.OTHER_COUNTY)

    county = draw(ledger, views, scope=f.COUNTY, rate=0.5)
    city = draw(ledger, views, scope="220200", rate=0.5)

    assert county.population == 20
    assert county.selected == expected("2024-Q1", 0.5, here)
    assert (city.scope, city.population) == ("2202", 40)
    assert city.selected == expected("2024-Q1", 0.5, here + there)
    assert draw(ledger, views, scope="11").population == 0
    with pytest.raises(InvalidInputError) as refused:
        draw(ledger, views, scope="2x")
    assert (refused.value.rule_id, refused.value.field) == ("REGION-CODE", "scope")


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0, -0.1, 1.000001, 2, math.nan, math.inf, True])
def test_a_rate_outside_zero_to_one_is_refused_and_nothing_is_recorded(
    ledger: Ledger, views: Views, rate: float
) -> None:
    payouts(ledger, 3)
    head = ledger.store.recorder.max_notification_id()

    with pytest.raises(InvalidInputError) as refused:
        draw(ledger, views, rate=rate)

    assert (refused.value.rule_id, refused.value.field) == ("SAMPLE-RATE", "rate")
    assert ledger.store.recorder.max_notification_id() == head


@pytest.mark.parametrize("seed", ["", "x" * 65, "tab\there", "new\nline", "\x00"])
def test_a_seed_that_is_empty_too_long_or_unprintable_is_refused(
    ledger: Ledger, views: Views, seed: str
) -> None:
    head = ledger.store.recorder.max_notification_id()

    with pytest.raises(InvalidInputError) as refused:
        draw(ledger, views, seed=seed)

    assert (refused.value.rule_id, refused.value.field) == ("SAMPLE-SEED", "seed")
    assert ledger.store.recorder.max_notification_id() == head


@pytest.mark.parametrize("seed", ["x" * 64, "a", "抽查 2024 第一季度"])
def test_any_printable_seed_of_1_to_64_characters_is_accepted(
    ledger: Ledger, views: Views, seed: str
) -> None:
    population = payouts(ledger, 10)

    result = draw(ledger, views, seed=seed, rate=0.5)

    assert result.seed == seed
    assert result.selected == expected(seed, 0.5, population)


# -- the record -----------------------------------------------------------------------------


def test_the_draw_is_recorded_as_an_event_with_who_drew_it_and_why(
    ledger: Ledger, views: Views
) -> None:
    population = payouts(ledger, 20)

    result = draw(ledger, views, rate=0.5, seed="Q1", scope=f.COUNTY)

    [(position, drawn)] = drawn_events(ledger)
    assert drawn.originator_id == result.sample_id
    assert (drawn.meta.actor_id, drawn.meta.role, drawn.meta.reason) == (
        "inspector-1",
        Role.INSPECTOR,
        "quarterly check",
    )
    assert (drawn.rate, drawn.seed, drawn.region_code) == (0.5, "Q1", f.COUNTY)
    assert (drawn.population, drawn.population_digest) == (20, result.population_digest)
    assert drawn.selected_ids == expected("Q1", 0.5, population)
    assert drawn.as_of_position == result.as_of_position < position
    sample = ledger.store.load(AuditSample, result.sample_id, "sample")
    assert (sample.drawn_by, sample.selected_ids) == ("inspector-1", result.selected)


def test_the_draw_is_in_the_audit_trail_of_the_sample_its_actor_and_each_payout_selected(
    ledger: Ledger, views: Views
) -> None:
    payouts(ledger, 20)
    result = draw(ledger, views, rate=0.5, scope=f.COUNTY)
    views.catch_up()

    [entry] = views.audit.trail(result.sample_id)
    by_inspector = views.audit.by_actor("inspector-1")

    assert entry.event_type == "AuditSample.Drawn"
    assert (entry.actor_id, entry.role) == ("inspector-1", "inspector")
    assert entry.reason == "quarterly check"
    assert entry.region_code == f.COUNTY
    assert entry.payload["population"] == 20
    assert entry.payload["selected_ids"] == [str(p) for p in result.selected]
    assert [e.position for e in by_inspector] == [entry.position]
    for payout in result.selected:
        trail = views.audit.trail(payout)
        assert [(e.event_type, e.via) for e in trail][-1] == ("AuditSample.Drawn", "selected_ids")
    assert views.audit.trail(result.sample_id, scope=f.OTHER_COUNTY) == []
