"""Fixtures: a ledger on each backend (memory, SQLite file, PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from typing import TYPE_CHECKING

import psycopg
import pytest
from pydantic import SecretStr

from disburse.application.ledger import Ledger
from disburse.bootstrap import System, initialise, open_system
from disburse.persistence.keys import generate_secret
from disburse.settings import Settings
from tests.api_support import Api, LogTrap, running_api

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.readside.views import Views

#: Console passwords are hashed cheaply in tests, which sign in hundreds of times: argon2id's
#: default cost (64 MiB, 3 passes) is what slows an attacker's guessing, and it is tested
#: as such in tests/unit/test_users.py. CLI tests run ``disburse`` without these.
os.environ.setdefault("DISBURSE_PASSWORD_HASH_MEMORY_KIB", "1024")
os.environ.setdefault("DISBURSE_PASSWORD_HASH_TIME_COST", "1")

TODAY = date(2024, 3, 1)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
LedgerFactory = Callable[[], Ledger]
SystemFactory = Callable[[], System]


def _pg_admin_url() -> str:
    return os.environ.get("DISBURSE_TEST_POSTGRES_URL", DEFAULT_PG)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database for this test run, dropped at the end.

    Unreachable server: skipped on a laptop, but a failure under CI=true.
    """
    admin = _pg_admin_url()
    name = f"disburse_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        message = f"PostgreSQL unreachable at {admin}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    base = admin.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _new_schema(database_url: str) -> str:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database_url}?schema={schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each real backend: a SQLite file, a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    database: str = request.getfixturevalue("pg_database")
    return _new_schema(database)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(env="test", database_url=database_url, secret_key=SecretStr(generate_secret()))


@pytest.fixture
def open_system_at(settings: Settings) -> Iterator[SystemFactory]:
    """Opens systems on the same store (as after a restart); closes them all at the end."""
    with ExitStack() as opened:

        def factory() -> System:
            return opened.enter_context(open_system(settings, today=lambda: TODAY))

        yield factory


@pytest.fixture
def open_ledger(open_system_at: SystemFactory) -> LedgerFactory:
    """Opens ledgers on the same store (as after a restart), each in a system of its own."""
    return lambda: open_system_at().ledger


@pytest.fixture
def system(open_system_at: SystemFactory) -> System:
    """An initialised system on a real backend: the ledger, its views, its clients."""
    opened = open_system_at()
    initialise(opened.ledger)
    return opened


@pytest.fixture
def ledger(system: System) -> Ledger:
    """An initialised ledger on a real backend."""
    return system.ledger


@pytest.fixture
def views(system: System) -> Views:
    """The read side of ``ledger``, in the same database."""
    return system.views


@pytest.fixture
def memory_system() -> Iterator[System]:
    """An initialised in-memory system, for application-level unit tests."""
    settings = Settings(
        env="test", database_url="memory://", secret_key=SecretStr(generate_secret())
    )
    with open_system(settings, today=lambda: TODAY, initialised=True) as opened:
        yield opened


@pytest.fixture
def memory_ledger(memory_system: System) -> Ledger:
    """An initialised in-memory ledger, for application-level unit tests."""
    return memory_system.ledger


_TRAPS: list[LogTrap] = []


@pytest.fixture(scope="session")
def log_trap() -> LogTrap:
    """Logs of the whole session: checked for resident IDs at its end (and by tests)."""
    trap = LogTrap()
    trap.install()
    _TRAPS.append(trap)
    return trap


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if anything logged during it holds a resident ID."""
    leaked = [rid[:6] + "..." for trap in _TRAPS for rid in trap.resident_ids()]
    if leaked and exitstatus == 0:
        print(f"\nlogs captured during the suite hold {len(leaked)} resident ID(s): {leaked}")  # noqa: T201
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def api(system: System, log_trap: LogTrap) -> Iterator[Api]:
    """The real app on a real store (both backends), with a key per role and region."""
    assert log_trap is not None
    with running_api(system) as running:
        yield running
