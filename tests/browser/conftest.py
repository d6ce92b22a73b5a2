"""Browser tests: Debian's Chromium, headless, driven by Playwright, against a live server.

The browser is the system's (``/usr/bin/chromium``, from the ``chromium`` package that
``.ci/run`` installs), never Playwright's own download. Under ``CI=true`` a missing browser
fails the run instead of skipping it. Screenshots go to ``$DISBURSE_ARTEFACTS`` (default
``build/artefacts``) under ``console/``.
"""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr
from tests.conftest import TODAY
from tests.console_support import console_app, console_world, live_server

from disburse.bootstrap import initialise, open_system
from disburse.persistence.keys import generate_secret
from disburse.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.console_support import ConsoleWorld

CHROMIUM = os.environ.get("DISBURSE_CHROMIUM", "/usr/bin/chromium")
#: As the machine's notes advise: no background networking (the network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright launches Debian's Chromium, headless."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Where screenshots of the console's pages are kept."""
    folder = Path(os.environ.get("DISBURSE_ARTEFACTS", "build/artefacts")) / "console"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleWorld]:
    """One county on SQLite for the module's tests, with its users and facts."""
    folder = tmp_path_factory.mktemp("console")
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{folder / 'ledger.db'}",
        secret_key=SecretStr(generate_secret()),
    )
    with ExitStack() as stack:
        system = stack.enter_context(open_system(settings, today=lambda: TODAY))
        initialise(system.ledger)
        yield console_world(system)


@pytest.fixture(scope="module")
def console_url(world: ConsoleWorld) -> Iterator[str]:
    """The console served by uvicorn on a local port ."""
    with live_server(console_app(world.system)) as url:
        yield url
