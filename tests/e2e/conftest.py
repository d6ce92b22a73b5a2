"""Fixtures of the end-to-end tests that run ``disburse`` as a real process."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_cli_audit import Cli

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.settings import Settings


@pytest.fixture
def cli(settings: Settings, tmp_path: Path) -> Cli:
    """``disburse`` on the test's store (SQLite or PostgreSQL), run in ``tmp_path``."""
    assert settings.secret_key is not None
    return Cli(
        tmp_path,
        {
            "DISBURSE_DATABASE_URL": settings.database_url,
            "DISBURSE_SECRET_KEY": settings.secret_key.get_secret_value(),
        },
    )
