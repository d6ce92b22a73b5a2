"""``disburse project``: a real worker process, killed mid-run, resumes without double counting."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import TYPE_CHECKING

from disburse.domain.fund import Fund
from disburse.domain.meta import Role
from tests import factories as f
from tests.e2e.test_cli import DISBURSE, run

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.application.ledger import Ledger
    from disburse.settings import Settings
    from disburse.views import Views

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
    assert "rebuilt alerts, audit, balances, queue" in rebuilt.stdout
    assert status.returncode == 0
    assert all(name in status.stdout for name in ("alerts", "audit", "balances", "queue"))
    assert checked.returncode == 0, checked.stderr
    assert "1 fund(s) match the ledger" in checked.stdout
    assert unknown.returncode == 2
    assert "unknown view(s): nonsense" in unknown.stderr
