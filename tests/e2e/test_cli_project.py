"""``disburse project``: a real worker process, killed mid-run, resumes without double counting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import TYPE_CHECKING, Any

from disburse.domain.fund import Fund
from disburse.domain.meta import Role
from tests import factories as f
from tests.e2e.test_cli import DISBURSE, run
from tests.planting import poison, unreadable_registration

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views
    from disburse.settings import Settings
    from tests.e2e.test_cli_audit import Cli

TOP_UPS = 6000


def _env(settings: Settings) -> dict[str, str]:
    assert settings.secret_key is not None
    return {
        "DISBURSE_DATABASE_URL": settings.database_url,
        "DISBURSE_SECRET_KEY": settings.secret_key.get_secret_value(),
    }


def _long_log(ledger: Ledger) -> int:
    """A county's money story and thousands of small top-ups; returns the head position."""
    story = f.money_story(ledger)
    fund = ledger.store.load(Fund, story.place.fund_id, "fund")
    for _ in range(TOP_UPS):
        fund.top_up(amount_fen=1, meta=f.meta("finance-1", Role.FINANCE))
    ledger.store.save(fund)
    return ledger.store.recorder.max_notification_id() or 0


def test_a_worker_killed_mid_run_resumes_and_equals_a_rebuild(
    ledger: Ledger, views: Views, settings: Settings, tmp_path: Path
) -> None:
    head = _long_log(ledger)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
    worker = subprocess.Popen(  # noqa: S603 - our own console script
        [DISBURSE, "project", "run", "balances", "--batch-size", "5"],
        cwd=tmp_path,
        env=clean | _env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    position = 0
    while position == 0 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.005)
        position = views.projector.positions()["balances"]
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    killed_at = views.projector.positions()["balances"]
    assert 0 < killed_at < head, f"the kill landed at {killed_at} of {head}"

    resumed = run("project", "run", "--once", cwd=tmp_path, env=_env(settings))

    assert resumed.returncode == 0, resumed.stderr
    assert views.projector.positions()["balances"] == head
    assert views.check(ledger.store) == []
    after_restart = f.dump_views(views)["balance_entries"]
    views.projector.rebuild(["balances"])
    assert f.dump_views(views)["balance_entries"] == after_restart


def test_status_rebuild_and_check_report_on_the_views(
    ledger: Ledger, settings: Settings, tmp_path: Path
) -> None:
    f.money_story(ledger)
    env = _env(settings)

    rebuilt = run("project", "rebuild", cwd=tmp_path, env=env)
    status = run("project", "status", cwd=tmp_path, env=env)
    checked = run("project", "check", cwd=tmp_path, env=env)
    unknown = run("project", "rebuild", "nonsense", cwd=tmp_path, env=env)

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (
        "rebuilt alerts, audit, balances, directory, entitlements, queue, roster" in rebuilt.stdout
    )
    assert status.returncode == 0
    assert all(name in status.stdout for name in ("alerts", "audit", "balances", "queue"))
    assert checked.returncode == 0, checked.stderr
    assert "1 fund(s) match the ledger" in checked.stdout
    assert unknown.returncode == 2
    assert "unknown view(s): nonsense" in unknown.stderr


def test_views_rebuilt_in_parallel_processes_equal_the_live_ones(
    ledger: Ledger, views: Views, settings: Settings, tmp_path: Path
) -> None:
    f.money_story(ledger)
    views.catch_up()
    live = f.dump_views(views)

    rebuilt = run("project", "rebuild", "--jobs", "3", cwd=tmp_path, env=_env(settings))

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "3 at a time" in rebuilt.stdout
    assert f.dump_views(views) == live
    head = ledger.store.recorder.max_notification_id()
    assert set(views.projector.positions().values()) == {head}


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_project_run_writes_json_log_lines_when_not_on_a_terminal(ledger: Ledger, cli: Cli) -> None:
    f.county(ledger)
    head = ledger.store.last_written()

    done = cli("project", "run", "--once")

    assert done.returncode == 0, done.stderr
    logged = _json_lines(done.stderr)
    assert [e["event"] for e in logged] == ["projector_started", "views_caught_up"]
    assert logged[1]["head"] == head
    assert all({"level", "timestamp"} <= set(entry) for entry in logged)


def test_check_and_rebuild_pass_on_a_store_holding_a_lone_surrogate_and_a_nul(
    ledger: Ledger, cli: Cli
) -> None:
    poison(ledger)

    ran = cli("project", "run", "--once")
    checked = cli("project", "check")
    rebuilt = cli("project", "rebuild")

    assert ran.returncode == 0, ran.stderr
    assert checked.returncode == 0, checked.stderr
    assert "1 fund(s) match the ledger" in checked.stdout
    assert rebuilt.returncode == 0, rebuilt.stderr


def test_a_stalled_view_is_reported_and_an_operator_skips_its_event_with_a_reason(
    ledger: Ledger, cli: Cli
) -> None:
    f.county(ledger)
    poisoned = unreadable_registration(ledger)
    f.register(ledger)

    ran = cli("project", "run", "--once")
    status = cli("project", "status")
    checked = cli("project", "check")
    refused = cli("project", "skip", "alerts", "--position", str(poisoned + 1), "--reason", "x")
    skipped = cli("project", "skip", "alerts", "--position", str(poisoned), "--reason", "INC-7")
    after = cli("project", "status")
    checked_after = cli("project", "check")
    rebuilt = cli("project", "rebuild")

    assert ran.returncode == 1
    [stalled] = [e for e in _json_lines(ran.stderr) if e["event"] == "view_stalled"]
    assert (stalled["view"], stalled["position"]) == ("alerts", poisoned)
    assert stalled["event_type"] == "Person.Registered"
    assert f"view alerts is stalled on the event at position {poisoned}" in ran.stderr
    assert status.returncode == 0, status.stderr
    assert f"{poisoned} Person.Registered: AttributeError" in status.stdout
    assert checked.returncode == 1
    assert f"view alerts is stalled on the event at position {poisoned}" in checked.stderr
    assert refused.returncode == 2
    assert f"is stalled at position {poisoned}" in refused.stderr
    assert skipped.returncode == 0, skipped.stderr
    assert f"view alerts passes over position {poisoned} (Person.Registered): INC-7" in (
        skipped.stdout
    )
    assert "Events skipped by operators" in after.stdout
    assert "INC-7" in after.stdout
    assert "AttributeError" not in after.stdout.split("Events skipped")[0]
    assert checked_after.returncode == 0, checked_after.stderr
    assert rebuilt.returncode == 0, rebuilt.stderr
