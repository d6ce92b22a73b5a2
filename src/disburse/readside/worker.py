"""Following the log: a projector's loop, in a worker process or a thread of the service."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from collections.abc import Iterable

    from disburse.readside.runner import Projector

log = structlog.get_logger("disburse.readside")


def follow(
    projector: Projector,
    stop: threading.Event,
    *,
    interval: float = 0.2,
    names: Iterable[str] | None = None,
    max_backoff: float = 30.0,
) -> None:
    """Follow the log until ``stop`` is set, polling every ``interval`` seconds when idle.

    A batch that fails with the database (locked, unreachable, a lost connection) was
    rolled back whole; the worker logs it, keeps it as ``projector.last_error``, waits
    (doubling up to ``max_backoff``) and tries again rather than dying silently. A view
    that cannot apply an event stalls on it (see ``Projector.catch_up``); the loop goes on.
    """
    backoff = interval
    while not stop.is_set():
        try:
            applied = projector.catch_up(names=names)
        except Exception as error:  # noqa: BLE001 - a worker outlives any one failed batch
            projector.last_error = f"{type(error).__name__}: {error}"
            log.warning("projection_batch_failed", error=projector.last_error, retry_in=backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        projector.last_error = None
        backoff = interval
        if applied == 0:
            stop.wait(interval)


class BackgroundProjector:
    """Runs a projector in a daemon thread inside the service (the SQLite default)."""

    def __init__(self, projector: Projector, *, interval: float = 0.2) -> None:
        self.projector = projector
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start following the log."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=follow,
                args=(self.projector, self._stop),
                kwargs={"interval": self.interval},
                name="disburse-projector",
                daemon=True,
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
