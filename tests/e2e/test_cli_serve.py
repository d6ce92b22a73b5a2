"""``disburse clients`` and ``disburse serve`` as real processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.e2e.test_cli import DISBURSE, run

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from disburse.settings import Settings


def _env(settings: Settings) -> dict[str, str]:
    assert settings.secret_key is not None
    return {
        "DISBURSE_DATABASE_URL": settings.database_url,
        "DISBURSE_SECRET_KEY": settings.secret_key.get_secret_value(),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str, key: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)  # noqa: S310 - a local test server
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_clients_are_created_listed_and_revoked(settings: Settings, tmp_path: Path) -> None:
    env = _env(settings)
    created = run(
        "clients", "create", "--name", "county-finance", "--role", "finance",
        "--region", "220221", "--json", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    client = json.loads(created.stdout)
    assert client["role"] == "finance"
    assert client["region"] == "220221"
    assert client["key"].startswith("dsb_")

    duplicate = run(
        "clients", "create", "--name", "county-finance", "--role", "clerk",
        "--region", "220221", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert duplicate.returncode == 1
    assert "CLIENT-NAME" in duplicate.stderr

    bad_region = run(
        "clients", "create", "--name", "x", "--role", "clerk", "--region", "2202211",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert bad_region.returncode == 1
    assert "REGION-CODE" in bad_region.stderr

    listed = json.loads(run("clients", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert [(c["name"], c["revoked"]) for c in listed] == [("county-finance", False)]
    assert client["key"] not in json.dumps(listed)

    revoked = run(
        "clients", "revoke", "county-finance", "--reason", "left the bureau", cwd=tmp_path, env=env
    )
    assert revoked.returncode == 0, revoked.stderr
    listed = json.loads(run("clients", "list", "--json", cwd=tmp_path, env=env).stdout)
    assert listed[0]["revoked"] is True


@dataclass
class Served:
    """A ``disburse serve`` process: its address, and what it printed once stopped."""

    base: str
    process: subprocess.Popen[str]
    stderr: str = ""


@contextmanager
def serving(env: dict[str, str], cwd: Path, *, ready: str = "/healthz") -> Iterator[Served]:
    """Run ``disburse serve`` on a free port until ``ready`` answers 200; stop it after."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [DISBURSE, "serve", "--port", str(port)],
        cwd=cwd,
        env=clean | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(served.base + ready)[0] == 200:
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield served
    finally:
        process.terminate()
        _, served.stderr = process.communicate(timeout=30)


def test_serve_answers_with_a_key_and_tells_how_to_make_one(
    settings: Settings, tmp_path: Path
) -> None:
    env = _env(settings)
    with serving(env, tmp_path) as served:
        created = run(
            "clients", "create", "--name", "inspector", "--role", "inspector",
            "--region", "22", "--json", cwd=tmp_path, env=env,
        )  # fmt: skip
        key = json.loads(created.stdout)["key"]
        status, body = _get(f"{served.base}/v1/policy", key)
        assert status == 200, body
        assert body["region_code"] == "220000"
        status, body = _get(f"{served.base}/v1/policy", key + "x")
        assert (status, body["rule_id"]) == (401, "AUTH-INVALID")
        status, body = _get(f"{served.base}/readyz")
        assert status == 200
        assert body["status"] == "ready"
    assert "disburse clients create" in served.stderr
    assert "Traceback" not in served.stderr
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status reports it
    assert served.process.returncode in {0, -15}
