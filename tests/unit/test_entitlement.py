"""Proactive grants in memory: months away, and grants stored before ``source`` existed."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disburse.domain.entitlement import qualifying_work
from disburse.domain.errors import RuleViolationError
from disburse.domain.grant import CLAIM, TransportGrant, months_between, proactive_grant_id
from tests import factories as f


def test_a_grant_claimed_before_proactive_grants_existed_reads_as_a_claim() -> None:
    """Events stored without ``source`` and ``facts`` replay as a claim with no facts."""
    grant = TransportGrant(
        person_id=uuid4(),
        region_code=f.COUNTY,
        work_province="44",
        employer="某厂",
        started_on=date(2024, 1, 1),
        months_worked=3,
        evidence_ref="c-1",
        external_claim_id=None,
        period="2024",
        amount_fen=50_000,
        meta=f.meta(),
    )
    [claimed] = grant.collect_events()
    object.__delattr__(claimed, "source")  # as stored by an earlier release
    object.__delattr__(claimed, "facts")

    old = f.replay(TransportGrant, [claimed])

    assert (old.source, old.facts, old.amount_fen) == (CLAIM, [], 50_000)


def test_the_proactive_grant_of_a_person_and_year_has_one_id() -> None:
    person = uuid4()
    assert proactive_grant_id(person, "2024") == proactive_grant_id(person, "2024")
    assert proactive_grant_id(person, "2024") != proactive_grant_id(person, "2023")


@given(st.dates(), st.dates())
def test_months_between_counts_whole_months_never_below_zero(start: date, end: date) -> None:
    months = months_between(start, end)
    assert months >= 0
    if end >= start:
        assert months <= (end.year - start.year) * 12 + end.month - start.month


def test_the_longest_stretch_away_in_the_year_qualifies() -> None:
    person = f.domain_person()
    for province, started in (("44", date(2024, 1, 5)), ("32", date(2024, 2, 1))):
        person.record_employment(
            province_code=province, employer="某厂", started_on=started, meta=f.meta()
        )
    person.register_unemployment(registered_on=date(2024, 3, 1), evidence="x", meta=f.meta())
    person.record_employment(
        province_code="32", employer="苏州某厂", started_on=date(2024, 4, 1), meta=f.meta()
    )

    work = qualifying_work(person, 2024, date(2024, 12, 31), min_months=3)

    assert (work["province_code"], work["months_worked"]) == ("32", 8)
    with pytest.raises(RuleViolationError, match="at least 9 required"):
        qualifying_work(person, 2024, date(2024, 12, 31), min_months=9)
