"""The proactive grant run (免申即享) on SQLite and PostgreSQL: who is found, who is not and why.

People with cross-province work on record (``record_employment``, as another system or a
department's list reports it) are granted a transport grant without a claim, once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

import pytest

from disburse.application.proactive import GrantRun, run_grants
from disburse.domain.errors import RuleViolationError
from disburse.domain.fund import FundSource
from disburse.domain.grant import PROACTIVE
from disburse.domain.payout import PayoutStatus
from disburse.domain.person import PovertyStatus
from tests import factories as f
from tests.integration.test_grants import GUANGDONG, LIAONING, _claim, _jilin

if TYPE_CHECKING:
    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views

JILIN = "22"
YEAR = 2023  # the tests' today is 2023-05-01: a year of work on record is behind it


def _budget(ledger: Ledger) -> None:
    """Jilin's grant rules, and a linkage-fund budget for the county in YEAR."""
    _jilin(ledger)
    ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=YEAR,
        amount_fen=10**7,
    )


def head(ledger: Ledger) -> int:
    return ledger.store.recorder.max_notification_id() or 0


def worked(
    ledger: Ledger,
    person: UUID,
    province: str = GUANGDONG,
    started_on: date = date(2023, 5, 1),
    employer: str = "深圳某电子厂",
) -> None:
    ledger.people.record_employment(
        f.clerk(), person, province_code=province, employer=employer, started_on=started_on
    )


def run(ledger: Ledger, views: Views, *, dry_run: bool = False) -> GrantRun:
    return run_grants(
        ledger, views, f.finance("finance-run"), year=YEAR, region=f.COUNTY, dry_run=dry_run
    )


def test_people_with_work_away_on_record_get_a_grant_without_a_claim_once(
    ledger: Ledger, views: Views
) -> None:
    _budget(ledger)
    away, near = f.register(ledger), f.register(ledger)
    worked(ledger, away)
    worked(ledger, near, province=LIAONING)  # the tier amount
    unlisted = f.register(ledger)  # no work on record: not a candidate

    first = run(ledger, views)

    assert (first.candidates, first.opened, first.earlier, first.not_found) == (2, 2, 0, [])
    assert first.opened_fen == 50_000 + 30_000
    assert unlisted not in {found.person_id for found in first.found}
    by_person = {found.person_id: found for found in first.found}
    grant = ledger.grants.get(UUID(by_person[str(away)].grant_id))
    assert (grant.source, grant.external_claim_id, grant.period) == (PROACTIVE, None, "2023")
    assert grant.facts[0]["province_code"] == GUANGDONG
    assert grant.facts[0]["started_on"] == "2023-05-01"
    payout = ledger.payouts.get(UUID(by_person[str(away)].payout_id))
    assert payout.status is PayoutStatus.REQUESTED  # then notice and approval, like any other
    assert payout.explanation["source"] == PROACTIVE
    assert payout.explanation["policy_version"] == f.REGIONAL_VERSION
    assert payout.explanation["rule_ids"] == ["GRANT-ELIG", "GRANT-ONCE", "GRANT-AMOUNT"]
    assert payout.explanation["inputs"]["facts"][0]["employer"] == "深圳某电子厂"
    before = head(ledger)

    second = run(ledger, views)

    assert head(ledger) == before  # a second run writes nothing
    assert (second.opened, second.earlier) == (0, 2)
    assert {f.payout_id for f in second.found} == {f.payout_id for f in first.found}


def test_each_person_not_found_is_reported_with_the_rule_that_stopped_them(
    ledger: Ledger, views: Views
) -> None:
    _budget(ledger)
    at_home = f.register(ledger)
    worked(ledger, at_home, province=JILIN)
    not_poor = f.register(ledger, status=PovertyStatus.NONE)
    worked(ledger, not_poor)
    too_short = f.register(ledger)
    worked(ledger, too_short, started_on=date(2023, 5, 1))
    ledger.people.register_unemployment(
        f.clerk(), too_short, registered_on=date(2023, 6, 10), evidence="unemployment list"
    )
    dead = f.register(ledger)
    worked(ledger, dead)
    ledger.people.record_death(f.clerk(), dead, died_on=date(2023, 6, 1), evidence="民政")
    claimed = f.register(ledger)
    worked(ledger, claimed)
    _claim(ledger, claimed, started_on=date(YEAR, 2, 1))  # already claimed: not paid twice
    last_year = f.register(ledger)
    worked(ledger, last_year, started_on=date(2022, 5, 1))  # not this year's candidate

    found = run(ledger, views)

    assert found.found == []
    reasons = {n.person_id: (n.rule_id, n.message) for n in found.not_found}
    assert set(reasons) == {str(p) for p in (at_home, not_poor, too_short, dead, claimed)}
    assert reasons[str(at_home)][0] == "GRANT-ELIG"
    assert "home province 22" in reasons[str(at_home)][1]
    assert reasons[str(not_poor)] == (
        "GRANT-ELIG",
        f"a none person is not eligible under {f.REGIONAL_VERSION}",
    )
    assert reasons[str(too_short)][0] == "GRANT-ELIG"
    assert "registered unemployed" in reasons[str(too_short)][1]
    assert reasons[str(dead)] == ("GRANT-ELIG", "the person died on 2023-06-01")
    assert reasons[str(claimed)][0] == "FRAUD-DUP-GRANT"
    assert found.not_found_by_rule() == {"GRANT-ELIG": 4, "FRAUD-DUP-GRANT": 1}


def test_a_claim_after_a_proactive_grant_is_refused_as_a_duplicate(
    ledger: Ledger, views: Views
) -> None:
    _budget(ledger)
    person = f.register(ledger)
    worked(ledger, person)
    [found] = run(ledger, views).found
    with pytest.raises(RuleViolationError, match="FRAUD-DUP-GRANT"):
        _claim(ledger, person, started_on=date(YEAR, 2, 1))
    assert found.created


def test_a_dry_run_decides_everyone_and_writes_nothing(ledger: Ledger, views: Views) -> None:
    _budget(ledger)
    person = f.register(ledger)
    worked(ledger, person)
    before = head(ledger)

    dry = run(ledger, views, dry_run=True)

    assert head(ledger) == before
    assert (dry.opened, dry.opened_fen, dry.dry_run) == (1, 50_000, True)
    assert run(ledger, views).opened == 1


def test_without_a_budget_the_person_is_reported_with_grant_fund(
    ledger: Ledger, views: Views
) -> None:
    f.publish(ledger, f.regional_policy(grant={"amount_fen": 50_000}))
    person = f.register(ledger)
    worked(ledger, person)
    [refused] = run(ledger, views).not_found
    assert (refused.person_id, refused.rule_id) == (str(person), "GRANT-FUND")
