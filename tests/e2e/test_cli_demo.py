"""``disburse demo`` and then ``disburse serve`` as real processes, on SQLite and PostgreSQL.

What the README's run command does: build the county, print a key per role, serve it;
an inspector's key then reads the alerts the planted irregularities raised.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from disburse.demo.planted import FRAUD_RULES
from tests.e2e.test_cli import run
from tests.e2e.test_cli_serve import _env, _get, serving

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.settings import Settings

YEAR = "2024"


def test_the_demo_county_is_served_and_its_alerts_read_with_the_printed_keys(
    settings: Settings, tmp_path: Path
) -> None:
    env = _env(settings)
    built = run("demo", "--people", "300", "--year", YEAR, "--json", cwd=tmp_path, env=env)
    assert built.returncode == 0, built.stderr
    summary = json.loads(built.stdout)
    assert summary["rules_without_alert"] == []
    assert summary["problems"] == []
    keys = {client["role"]: client["key"] for client in summary["clients"]}
    assert set(keys) == {"clerk", "finance", "inspector", "claimant", "admin"}

    again = run("demo", "--people", "300", "--year", YEAR, cwd=tmp_path, env=env)
    assert again.returncode == 1
    assert "DEMO-FRESH-STORE" in again.stderr

    with serving(env, tmp_path, ready="/readyz") as served:
        raised = set()
        for rule in FRAUD_RULES:
            status, body = _get(f"{served.base}/v1/alerts?rule={rule}", keys["inspector"])
            assert status == 200, body
            if body["items"]:
                raised.add(rule)
        status, body = _get(f"{served.base}/v1/alerts", keys["claimant"])
        assert status == 403, body
    assert raised == set(FRAUD_RULES)


def test_a_year_whose_dates_are_not_all_past_is_refused(settings: Settings, tmp_path: Path) -> None:
    done = run("demo", "--year", "2999", cwd=tmp_path, env=_env(settings))

    assert done.returncode == 1
    assert "DEMO-YEAR" in done.stderr
