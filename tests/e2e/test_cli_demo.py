"""``disburse demo`` and then ``disburse serve`` as real processes, on SQLite and PostgreSQL.

What the README's run command does: build the county, print a key per role, serve it;
an inspector's key then reads the alerts the planted irregularities raised.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import TYPE_CHECKING

from disburse.demo.planted import FRAUD_RULES
from tests.e2e.test_cli import DISBURSE, run
from tests.e2e.test_cli_serve import _env, _free_port, _get

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

    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
    server = subprocess.Popen(  # noqa: S603 - our own console script
        [DISBURSE, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = _get(f"{base}/readyz")
                if status == 200:
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        raised = set()
        for rule in FRAUD_RULES:
            status, body = _get(f"{base}/v1/alerts?rule={rule}", keys["inspector"])
            assert status == 200, body
            if body["items"]:
                raised.add(rule)
        status, body = _get(f"{base}/v1/alerts", keys["claimant"])
        assert status == 403, body
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert raised == set(FRAUD_RULES)


def test_a_year_whose_dates_are_not_all_past_is_refused(settings: Settings, tmp_path: Path) -> None:
    done = run("demo", "--year", "2999", cwd=tmp_path, env=_env(settings))

    assert done.returncode == 1
    assert "DEMO-YEAR" in done.stderr
