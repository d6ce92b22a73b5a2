"""Publishes head digests into the store's digest log while the service runs.

After every ``every_events`` new events, and at least every ``every_minutes`` while
events keep arriving, the head is appended to ``ledger_digests`` (signed if a key is
configured) and logged as an ``audit_digest`` line, so that a copy also reaches wherever
the logs are collected, outside the database. ``verify`` checks the log's digests.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import structlog

from disburse.audit.digest import publish_digest

if TYPE_CHECKING:
    from collections.abc import Callable

    from disburse.audit.digest import Digest, Signer
    from disburse.persistence.recorders import ChainedRecorder

log = structlog.get_logger("disburse.audit")


class DigestPublisher:
    """Decides when to publish; :meth:`start` runs it in a daemon thread."""

    def __init__(
        self,
        recorder: ChainedRecorder,
        signer: Signer | None,
        *,
        every_events: int,
        every_minutes: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recorder = recorder
        self.signer = signer
        self.every_events = every_events
        self.every_seconds = every_minutes * 60
        self.clock = clock
        self.published_position = self._last_published()
        self.published_at = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        """Whether either trigger is on."""
        return self.every_events > 0 or self.every_seconds > 0

    def _last_published(self) -> int:
        """The highest position already in the digest log."""
        last, after = 0, 0
        while page := self.recorder.select_digests(after, 1000):
            last = after = page[-1][0]
        return last

    def tick(self) -> Digest | None:
        """Publish if a trigger is due; returns the digest published, if any."""
        head = self.recorder.chain_head()
        if head is None or head.position <= self.published_position:
            return None
        by_count = 0 < self.every_events <= head.position - self.published_position
        by_time = 0 < self.every_seconds <= self.clock() - self.published_at
        if not (by_count or by_time):
            return None
        digest = publish_digest(self.recorder, self.signer)
        if digest is None:
            return None
        self.published_position, self.published_at = digest.position, self.clock()
        log.info(
            "audit_digest",
            position=digest.position,
            hash=digest.hash,
            taken_at=digest.taken_at,
            signed=digest.signature is not None,
        )
        return digest

    def run(self, interval: float = 5.0) -> None:
        """Tick until stopped; a failure is logged and retried at the next tick."""
        while not self._stop.wait(interval):
            try:
                self.tick()
            except Exception as error:  # noqa: BLE001 - keep publishing after a store hiccup
                log.warning("audit_digest_failed", error=str(error))

    def start(self, interval: float = 5.0) -> None:
        """Run in a daemon thread (no-op when both triggers are off)."""
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(
                target=self.run, args=(interval,), name="disburse-digests", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the tick in progress."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
