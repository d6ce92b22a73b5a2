"""Structured logs: JSON off a terminal, and never a resident ID."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_RESIDENT_ID = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9])")
#: Full-width digits and X (as typed with a Chinese input method) read as ASCII, as the
#: ledger itself reads resident IDs.
_FULL_WIDTH = {0xFF10 + digit: ord("0") + digit for digit in range(10)} | {
    0xFF38: ord("X"),
    0xFF58: ord("x"),
}


def _mask(value: object) -> object:
    if isinstance(value, str):
        return _RESIDENT_ID.sub(r"\1********\2", value.translate(_FULL_WIDTH))
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value


def scrub_resident_ids(_: object, __: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    """Mask anything shaped like a resident ID, whatever logged it (defence in depth)."""
    return {key: _mask(value) for key, value in event.items()}


def configure_logging(*, json: bool | None = None, level: int = logging.INFO) -> None:
    """JSON lines when not on a terminal (or when asked), readable lines on one."""
    as_json = not sys.stderr.isatty() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrub_resident_ids,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
