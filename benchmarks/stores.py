# ruff: noqa: INP001 - imported by the benchmark scripts run by path, not a package
"""Throwaway stores for the benchmarks: a SQLite file or a PostgreSQL database, removed after."""

from __future__ import annotations

import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from pydantic import SecretStr

from disburse.persistence.keys import generate_secret
from disburse.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator


def settings_for(url: str) -> Settings:
    """Settings of a throwaway store with a fresh key."""
    return Settings(env="test", database_url=url, secret_key=SecretStr(generate_secret()))


@contextmanager
def sqlite_store() -> Iterator[str]:
    """A SQLite file in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="disburse-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'ledger.db'}"


@contextmanager
def postgres_store(admin_url: str) -> Iterator[str]:
    """A schema in a database created for this run, dropped afterwards."""
    name = f"disburse_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute('CREATE SCHEMA "bench"')
        yield f"{url}?schema=bench"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable(admin_url: str) -> str | None:
    """None if the server answers, else why not."""
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]
    return None
