"""The app factory of ``disburse serve --workers N``: each worker process opens its own system.

uvicorn starts a worker by importing ``disburse.api.asgi:app_from_environment`` and
calling it, so nothing here is built at import time. A worker reads the same
``DISBURSE_*`` settings as the process that started it and serves requests only: the
supervising ``serve`` process keeps the views current (one projector, however many
workers) and publishes the digests. Run the factory by hand (``uvicorn --factory``)
only with ``disburse project run`` workers beside it.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

from disburse.api.app import create_app
from disburse.api.logs import configure_logging
from disburse.bootstrap import open_system
from disburse.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def app_from_environment() -> FastAPI:
    """Open the system the environment's settings name; the app closes it on shutdown."""
    configure_logging()
    stack = ExitStack()
    system = stack.enter_context(open_system(Settings()))
    return create_app(system, projector=False, digests=False, on_shutdown=stack.close)
