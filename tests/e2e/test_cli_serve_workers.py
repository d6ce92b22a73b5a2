"""``disburse serve --workers 2`` as real processes, on SQLite and PostgreSQL.

Requests are answered by more than one process, the request counters of ``/metrics`` add
up across them, one projector keeps the views current for all, and killing the whole
server mid-write leaves a store whose chain verifies and whose views check out.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client.parser import text_string_to_metric_families

from tests import factories as f
from tests.e2e.test_api_smoke import person_body
from tests.e2e.test_cli import DISBURSE, run
from tests.e2e.test_cli_serve import _env, _free_port

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from disburse.settings import Settings

WORKERS = 2


@dataclass
class Server:
    """A ``disburse serve --workers`` process group, its address and its log file."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def requests_logged(self) -> list[dict[str, Any]]:
        """The ``request`` lines the workers logged so far."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        return [r for r in records if r.get("event") == "request"]

    def kill(self) -> None:
        """SIGKILL the supervisor and every worker at once: nothing gets to finish."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def call(
    method: str, url: str, key: str | None = None, body: object = None, **headers: str
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request on a fresh connection: status, headers, JSON body (or text)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - local
    request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    for name, value in headers.items():
        request.add_header(name.replace("_", "-"), value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, answer, raw = response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer, raw = error.code, _lower(error.headers), error.read()
    text = raw.decode()
    try:
        return status, answer, json.loads(text)
    except json.JSONDecodeError:
        return status, answer, text


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@contextmanager
def server(env: dict[str, str], cwd: Path, name: str) -> Iterator[Server]:
    """``disburse serve --workers 2`` in its own process group, until ``/readyz`` is 200."""
    port = _free_port()
    log = cwd / f"{name}.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [DISBURSE, "serve", "--port", str(port), "--workers", str(WORKERS)],
            cwd=cwd,
            env=clean | env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,
        )
    served = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if call("GET", served.base + "/readyz")[0] == 200:
                    break
            except OSError:
                assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _key(cwd: Path, env: dict[str, str], name: str, role: str) -> str:
    created = run(
        "clients", "create", "--name", name, "--role", role, "--region", f.COUNTY, "--json",
        cwd=cwd, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key: str = json.loads(created.stdout)["key"]
    return key


def _tally(answers: list[tuple[int, dict[str, str], Any]]) -> dict[int, float]:
    tally: dict[int, float] = {}
    for status, _, _ in answers:
        tally[status] = tally.get(status, 0) + 1
    return tally


def _requests_counted(base: str) -> dict[tuple[str, str, str], float]:
    _, _, text = call("GET", base + "/metrics")
    counted = {}
    for family in text_string_to_metric_families(text):
        if family.name == "disburse_http_requests":
            for sample in family.samples:
                labels = sample.labels
                counted[labels["method"], labels["route"], labels["status"]] = sample.value
    return counted


def test_two_workers_share_the_requests_count_them_together_and_project_once(
    settings: Settings, tmp_path: Path
) -> None:
    env = _env(settings)
    clerk = _key(tmp_path, env, "clerk", "clerk")
    inspector = _key(tmp_path, env, "inspector", "inspector")
    people = [person_body() for _ in range(12)]
    contested = person_body()

    with server(env, tmp_path, "first") as served, ThreadPoolExecutor(8) as pool:
        register = f"{served.base}/v1/people"
        # Twelve people at once, and one person registered four times at once.
        answers = list(pool.map(lambda body: call("POST", register, clerk, body), people))
        races = list(pool.map(lambda _: call("POST", register, clerk, contested), range(4)))

        assert [status for status, _, _ in answers] == [201] * len(people)
        # Exactly one of the racing registrations creates the person; the others are told
        # it exists (200) or that they lost the race (409 CONCURRENT-CHANGE), never a 500.
        assert [status for status, _, _ in races].count(201) == 1
        assert {status for status, _, _ in races} <= {200, 201, 409}
        assert len({body["id"] for status, _, body in races if status != 409}) == 1

        # Read-your-writes through the views, in whichever worker answers.
        trails = list(
            pool.map(
                lambda answer: call(
                    "GET",
                    f"{served.base}/v1/audit/trail/{answer[2]['id']}",
                    inspector,
                    X_Min_Position=answer[1]["x-ledger-position"],
                ),
                answers,
            )
        )
        assert [status for status, _, _ in trails] == [200] * len(people)
        assert all(body["items"] for _, _, body in trails)

        # Both workers answer: keep reading until two pids have logged a request. A worker
        # still starting (its own store to open, on a busy machine) takes none at first,
        # so this polls for a while rather than for a fixed number of rounds.
        health_checks = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len({r["pid"] for r in served.requests_logged()}) >= WORKERS:
                break
            list(pool.map(lambda _: call("GET", f"{served.base}/healthz"), range(16)))
            health_checks += 16
        pids = {r["pid"] for r in served.requests_logged()}
        assert len(pids) == WORKERS
        assert served.process.pid not in pids

        # /metrics, answered by one worker, counts what every worker answered.
        counted = _requests_counted(served.base)
        posts = {s: n for (m, route, s), n in counted.items() if route == "/v1/people"}
        assert posts == {str(s): n for s, n in _tally(answers + races).items()}
        assert counted["GET", "/v1/audit/trail/{entity_id}", "200"] == len(people)
        assert counted.get(("GET", "/healthz", "200"), 0) == health_checks
        # Nothing failed while serving. (A worker terminated on PostgreSQL can, rarely,
        # print a traceback as its connection pool closes; that is shutdown, not serving.)
        logged = served.log.read_text(encoding="utf-8")
        assert "Traceback" not in logged, logged[logged.find("Traceback") - 300 :]

    assert served.process.returncode in {0, -15}


def test_killing_every_process_mid_write_leaves_nothing_half_written(
    settings: Settings, tmp_path: Path
) -> None:
    env = _env(settings)
    clerk = _key(tmp_path, env, "clerk", "clerk")
    acknowledged: list[str] = []
    enough = threading.Event()

    with server(env, tmp_path, "killed") as served, ThreadPoolExecutor(4) as pool:
        register = f"{served.base}/v1/people"

        def register_one(_: int) -> None:
            try:
                answer = call("POST", register, clerk, person_body())
            except (OSError, http.client.HTTPException):
                return  # the server died under this request (even mid-answer): not acknowledged
            status, body = answer[0], answer[2]
            if status == 201:
                acknowledged.append(body["id"])
                if len(acknowledged) >= 8:
                    enough.set()

        pending = [pool.submit(register_one, n) for n in range(40)]
        enough.wait(timeout=30)
        served.kill()
        for future in pending:
            future.result()

    with server(env, tmp_path, "restarted") as again:
        for person_id in acknowledged:
            status, _, body = call("GET", f"{again.base}/v1/people/{person_id}", clerk)
            assert status == 200, body
    checked = run("project", "check", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verified = run("audit", "verify", cwd=tmp_path, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
