"""``disburse run month`` as a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date
from typing import TYPE_CHECKING

import pytest

from tests import factories as f

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.application.ledger import Ledger
    from tests.e2e.test_cli_audit import Cli


def test_the_monthly_run_requests_once_and_lists_refusals(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    place = f.county(ledger)
    staffed = [f.staffed_post(ledger, place)[0] for _ in range(2)]
    uninsured = f.post(ledger, place)
    ledger.posts.appoint(
        f.clerk(),
        uninsured,
        person_id=f.register(ledger),
        term_start=date(2024, 1, 1),
        term_end=date(2024, 12, 31),
    )
    for post_id in [*staffed, uninsured]:
        ledger.posts.log_attendance(
            f.clerk(), post_id, month=f.JAN, days_worked=22, days_required=22
        )
    report = tmp_path / "refused.csv"

    first = cli.json("run", "month", "2024-01", "--region", f.COUNTY, "--json")
    shown = cli("run", "month", "2024-01", "--region", f.COUNTY, "--report", str(report))

    assert (first["requested"], first["requested_fen"], first["already_requested"]) == (
        2,
        300_000,
        0,
    )
    assert first["refusals_by_rule"] == {"POST-INSURANCE": 1}
    assert first["totals"][0]["source"] == "employment_subsidy"
    assert shown.returncode == 0, shown.stderr
    assert "requested 0 stipend(s), 0.00 yuan; 2 already requested; 1 refused" in shown.stdout
    assert "POST-INSURANCE" in shown.stdout
    with report.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["post_id"], r["rule"], r["field"]) for r in rows] == [
        (str(uninsured), "POST-INSURANCE", "month")
    ]


@pytest.mark.parametrize(
    ("month", "region", "rule"),
    [("2024-13", f.COUNTY, "MONTH-FORMAT"), ("2024-01", "2x", "REGION-CODE")],
)
def test_a_bad_month_or_region_is_refused_naming_its_rule(
    cli: Cli, month: str, region: str, rule: str
) -> None:
    done = cli("run", "month", month, "--region", region)

    assert done.returncode == 1
    assert rule in done.stderr


def test_the_proactive_grant_run_opens_once_and_names_the_rule_that_stopped_others(
    ledger: Ledger, cli: Cli
) -> None:
    """``disburse run grants YEAR --region``: found, not found with the rule, idempotent."""
    from tests.integration.test_proactive import YEAR, _budget, worked  # noqa: PLC0415

    _budget(ledger)
    away, home = f.register(ledger), f.register(ledger)
    worked(ledger, away)
    worked(ledger, home, province="22")
    args = ("run", "grants", str(YEAR), "--region", f.COUNTY)

    dry = cli.json(*args, "--dry-run", "--json")
    first = cli.json(*args, "--json")
    head = ledger.store.recorder.max_notification_id()
    shown = cli(*args)

    assert (dry["opened"], dry["dry_run"]) == (1, True)
    assert (first["opened"], first["opened_fen"]) == (1, 50_000)
    assert [(n["person_id"], n["rule_id"]) for n in first["not_found"]] == [
        (str(home), "GRANT-ELIG")
    ]
    assert shown.returncode == 0, shown.stderr
    assert "opened 0 grant(s), 0.00 yuan; 1 opened before; 1 not found" in shown.stdout
    assert "GRANT-ELIG" in shown.stdout
    assert ledger.store.recorder.max_notification_id() == head


@pytest.mark.parametrize(("year", "region"), [("1999", f.COUNTY), (str(2023), "2x")])
def test_a_bad_year_or_region_is_refused(cli: Cli, year: str, region: str) -> None:
    done = cli("run", "grants", year, "--region", region)

    assert done.returncode != 0
    assert "REGION-CODE" in done.stderr or "year" in done.stderr.lower()
