"""The ``disburse`` console script, run as a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from disburse.persistence.keys import generate_secret
from tests.integration.test_upgrade import restore_old_store

DISBURSE = str(Path(sys.executable).with_name("disburse"))


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
    return subprocess.run(  # noqa: S603 - our own console script
        [DISBURSE, *args],
        cwd=cwd,
        env=clean | {"COLUMNS": "200"} | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("init", "version", "keys"):
        assert command in result.stdout


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = run("version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("disburse 0.")


def test_init_on_the_sqlite_default_creates_the_store_and_its_key_once(tmp_path: Path) -> None:
    first = run("init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "published: CN-2021.1" in first.stdout
    assert (tmp_path / "disburse.db").exists()
    key = tmp_path / "disburse.db.key"
    assert key.stat().st_mode & 0o777 == 0o600
    secret = key.read_text()
    again = run("init", cwd=tmp_path)
    assert again.returncode == 0
    assert "already initialised" in again.stdout
    assert key.read_text() == secret


def test_production_refuses_to_start_without_a_configured_key(tmp_path: Path) -> None:
    result = run("init", cwd=tmp_path, env={"DISBURSE_ENV": "production"})
    assert result.returncode == 1
    assert "DISBURSE_SECRET_KEY is required" in result.stderr
    assert not (tmp_path / "disburse.db").exists()


def test_a_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    result = run("init", cwd=tmp_path, env={"DISBURSE_DATABASE_URL": "mysql://x/y"})
    assert result.returncode == 2
    assert "unsupported database URL scheme" in result.stderr


@pytest.mark.postgres
def test_init_on_postgresql_is_selected_by_one_setting(tmp_path: Path, pg_database: str) -> None:
    env = {"DISBURSE_DATABASE_URL": pg_database, "DISBURSE_SECRET_KEY": generate_secret()}
    first = run("init", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "postgresql://" in first.stdout
    assert "published: CN-2021.1" in first.stdout
    assert "already initialised" in run("init", cwd=tmp_path, env=env).stdout
    assert not (tmp_path / "disburse.db").exists()


def test_a_store_whose_key_file_went_missing_is_refused_not_given_a_new_key(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    (tmp_path / "disburse.db.key").unlink()
    result = run("init", cwd=tmp_path)
    assert result.returncode == 1
    assert "key file" in result.stderr
    assert "missing" in result.stderr
    assert not (tmp_path / "disburse.db.key").exists()


def test_postgresql_url_options_other_than_schema_are_refused(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/x?sslmode=require"
    result = run("init", cwd=tmp_path, env={"DISBURSE_DATABASE_URL": url})
    assert result.returncode == 2
    assert "PGSSLMODE" in result.stderr


def test_migrate_upgrades_a_store_written_before_versions_once_and_it_still_verifies(
    tmp_path: Path,
) -> None:
    """Disburse migrate: the ledger's tables get version 1, alerts and roster are rebuilt."""
    settings = restore_old_store(tmp_path)
    env = {"DISBURSE_DATABASE_URL": settings.database_url}

    first = run("migrate", cwd=tmp_path, env=env)
    again = run("migrate", cwd=tmp_path, env=env)
    verified = run("audit", "verify", cwd=tmp_path, env=env)

    assert first.returncode == 0, first.stderr
    assert "ledger tables: version none -> 1" in first.stdout
    rebuilt = [line for line in first.stdout.splitlines() if "rebuilt from version 1" in line]
    assert [line.split()[1] for line in rebuilt] == ["alerts", "roster"]
    assert again.returncode == 0, again.stderr
    assert "nothing to upgrade" in again.stdout
    assert "rebuilt" not in again.stdout
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "chain intact" in verified.stdout
