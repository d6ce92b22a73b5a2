"""``disburse payouts approve`` as a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from disburse.domain.payout import PayoutStatus
from tests import factories as f

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from tests.e2e.test_cli_audit import Cli

OTHER_COUNTY = "220281"


def _stipends(ledger: Ledger, region: str, count: int, budget_fen: int) -> list[UUID]:
    place = f.county(ledger, region=region, budget_fen=budget_fen)
    return f.requested_stipends(ledger, place, count)


def test_the_queue_of_a_county_is_approved_in_bulk_up_to_its_fund(ledger: Ledger, cli: Cli) -> None:
    ours = _stipends(ledger, f.COUNTY, 4, budget_fen=450_000)  # the fund pays three
    theirs = _stipends(ledger, OTHER_COUNTY, 1, budget_fen=1_000_000)

    plan = cli.json("payouts", "approve", "--region", f.COUNTY, "--dry-run", "--json")
    assert [p["payout_id"] for p in plan] == [str(p) for p in ours]
    assert {ledger.payouts.get(p).status for p in ours} == {PayoutStatus.REQUESTED}

    done = cli("payouts", "approve", "--region", f.COUNTY, "--json")
    assert done.returncode == 1, done.stderr  # one refused
    outcomes = json.loads(done.stdout)
    assert [(o["payout_id"], o["accepted"], o["rule_id"]) for o in outcomes] == [
        *[(str(p), True, None) for p in ours[:3]],
        (str(ours[3]), False, "FUND-INSUFFICIENT"),
    ]
    assert ledger.funds.get(ledger.payouts.get(ours[0]).fund_id).available_fen == 0
    assert ledger.payouts.get(theirs[0]).status is PayoutStatus.REQUESTED

    named = cli("payouts", "approve", "--region", f.COUNTY, str(theirs[0]), str(ours[0]))
    assert named.returncode == 1
    assert "approved 0 of 2 payout(s)" in named.stdout
    assert "REGION-SCOPE" in named.stdout
    assert "PAYOUT-STATE" in named.stdout
    assert ledger.payouts.get(theirs[0]).status is PayoutStatus.REQUESTED


def test_a_bad_id_or_region_is_refused_before_anything_is_read(cli: Cli) -> None:
    bad_id = cli("payouts", "approve", "--region", f.COUNTY, "not-an-id")
    assert bad_id.returncode == 1
    assert "REQUEST-SCHEMA" in bad_id.stderr
    bad_region = cli("payouts", "approve", "--region", "22x")
    assert bad_region.returncode == 1
    assert "REGION-CODE" in bad_region.stderr
