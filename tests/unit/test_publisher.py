"""The digest publisher decides when to append the head to the digest log: by count, by time.

A fake clock drives the time trigger; events are appended to an in-memory store (a fresh,
empty one, so that positions are known exactly).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, cast

import pytest
from pydantic import SecretStr

from disburse.audit.digest import Digest, Signer, generate_signing_key
from disburse.audit.publisher import DigestPublisher
from disburse.audit.verify import verify
from disburse.bootstrap import build_ledger
from disburse.domain.fund import Fund, FundSource
from disburse.domain.meta import Role
from disburse.persistence.keys import generate_secret
from disburse.settings import Settings
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Iterator

    from disburse.application.ledger import Ledger
    from disburse.persistence.chain import Link
    from disburse.persistence.recorders import ChainedRecorder
    from tests.api_support import LogTrap


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


class Events:
    """Appends events to one fund: each top-up is one event (the first is its allocation)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.fund_id = ledger.funds.allocate(
            f.finance(),
            source=FundSource.EMPLOYMENT_SUBSIDY,
            region_code=f.COUNTY,
            year=2024,
            amount_fen=1,
        )

    def add(self, count: int) -> int:
        """Append ``count`` events in one save; returns the head position."""
        fund = self.ledger.store.load(Fund, self.fund_id, "fund")
        for _ in range(count):
            fund.top_up(amount_fen=1, meta=f.meta("finance-1", Role.FINANCE))
        self.ledger.store.save(fund)
        return self.head()

    def head(self) -> int:
        return self.ledger.store.chained.max_notification_id() or 0


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    """An empty in-memory store (not initialised: no catalogue events)."""
    opened = build_ledger(
        Settings(env="test", database_url="memory://", secret_key=SecretStr(generate_secret()))
    )
    yield opened
    opened.close()


@pytest.fixture
def recorder(ledger: Ledger) -> ChainedRecorder:
    return ledger.store.chained


@pytest.fixture
def clock() -> Clock:
    return Clock()


def publisher(
    recorder: ChainedRecorder,
    clock: Clock,
    *,
    every_events: int = 0,
    every_minutes: float = 0,
    signer: Signer | None = None,
) -> DigestPublisher:
    return DigestPublisher(
        recorder, signer, every_events=every_events, every_minutes=every_minutes, clock=clock
    )


def logged(recorder: ChainedRecorder) -> list[tuple[int, str]]:
    """(position, hash) of every entry of the digest log."""
    return [(row[0], row[1]) for row in recorder.select_digests(0, 100_000)]


def head_link(recorder: ChainedRecorder) -> Link:
    link = recorder.chain_head()
    assert link is not None
    return link


# -- by count ---------------------------------------------------------------------------------


def test_publishes_once_every_n_new_events(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock
) -> None:
    digests = publisher(recorder, clock, every_events=5)
    assert digests.tick() is None  # an empty store: nothing to publish
    events = Events(ledger)  # position 1
    events.add(3)  # 4
    assert digests.tick() is None
    assert events.add(1) == 5

    first = digests.tick()

    assert first is not None
    assert (first.position, first.hash) == (5, head_link(recorder).hash)
    assert first.signature is None
    assert logged(recorder) == [(5, first.hash)]
    assert digests.tick() is None  # nothing new since
    events.add(4)  # 9
    assert digests.tick() is None
    events.add(3)  # 12: more than enough at once, published at the head

    second = digests.tick()

    assert second is not None
    assert second.position == 12
    assert logged(recorder) == [(5, first.hash), (12, head_link(recorder).hash)]
    report = verify(recorder)
    assert (report.ok, report.digests_checked) == (True, 2)


# -- by time ----------------------------------------------------------------------------------


def test_publishes_by_time_only_while_events_arrive(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock
) -> None:
    digests = publisher(recorder, clock, every_minutes=10)
    events = Events(ledger)  # position 1
    assert digests.tick() is None  # new events, but not yet ten minutes
    clock.advance(9.9)
    assert digests.tick() is None
    clock.advance(0.1)

    first = digests.tick()

    assert first is not None
    assert first.position == 1
    clock.advance(60)
    assert digests.tick() is None  # an hour without events: nothing to publish
    events.add(1)  # 2
    second = digests.tick()  # at once: more than ten minutes since the last one
    assert second is not None
    assert second.position == 2
    events.add(1)  # 3
    clock.advance(9)
    assert digests.tick() is None  # the clock restarted at the last publication
    clock.advance(1)
    third = digests.tick()
    assert third is not None
    assert third.position == 3
    assert [p for p, _ in logged(recorder)] == [1, 2, 3]


def test_time_does_not_trigger_when_only_the_count_is_on(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock
) -> None:
    digests = publisher(recorder, clock, every_events=1000)
    Events(ledger).add(10)
    clock.advance(24 * 60)
    assert digests.tick() is None
    assert logged(recorder) == []


def test_the_same_position_is_never_published_twice(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock
) -> None:
    digests = publisher(recorder, clock, every_events=1, every_minutes=1)
    Events(ledger).add(2)
    assert digests.tick() is not None
    for _ in range(3):
        clock.advance(5)
        assert digests.tick() is None
    assert [p for p, _ in logged(recorder)] == [3]


def test_both_triggers_off_disables_the_publisher(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock
) -> None:
    digests = publisher(recorder, clock)
    Events(ledger).add(50)
    clock.advance(10_000)

    assert digests.enabled is False
    assert digests.tick() is None
    before = set(threading.enumerate())
    digests.start(interval=0.01)
    try:
        started = set(threading.enumerate()) - before
    finally:
        digests.stop()
    assert started == set()
    assert logged(recorder) == []
    assert publisher(recorder, clock, every_events=1).enabled
    assert publisher(recorder, clock, every_minutes=0.5).enabled


# -- restarts ---------------------------------------------------------------------------------


def test_a_restarted_publisher_resumes_from_the_last_published_position(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock
) -> None:
    events = Events(ledger)
    events.add(4)  # 5
    before = publisher(recorder, clock, every_events=5)
    assert before.tick() is not None
    events.add(3)  # 8: three new events when the service stops

    after = publisher(recorder, clock, every_events=5)  # the service starts again

    assert after.published_position == 5
    assert after.tick() is None  # 3 since the last digest, not 8
    events.add(2)  # 10
    resumed = after.tick()
    assert resumed is not None
    assert resumed.position == 10
    assert [p for p, _ in logged(recorder)] == [5, 10]


def test_the_last_published_position_is_found_past_the_first_page_of_the_log(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock
) -> None:
    head = Events(ledger).add(1)
    hash_ = head_link(recorder).hash
    for position in range(1, 2_346):  # more than two pages of 1000
        recorder.append_digest(position, hash_, "2024-03-01T00:00:00+00:00", None, None)

    restarted = publisher(recorder, clock, every_events=1)

    assert head == 2
    assert restarted.published_position == 2_345
    assert restarted.tick() is None  # the head is behind what the log already holds


# -- what is published ------------------------------------------------------------------------


def test_a_digest_is_signed_with_the_key_and_logged_as_an_audit_digest_line(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock, log_trap: LogTrap
) -> None:
    signer = Signer(generate_signing_key())
    before = len(log_trap.lines())
    signed = publisher(recorder, clock, every_events=2, signer=signer)
    Events(ledger).add(1)  # 2

    published = signed.tick()

    assert published is not None
    assert published.public_key == signer.public_key
    assert published.check_signature(signer.public_key) is True
    [row] = recorder.select_digests(0, 10)
    assert row == (
        published.position,
        published.hash,
        published.taken_at,
        published.signature,
        published.public_key,
    )
    stored = Digest(*row[:3], signature=row[3], public_key=row[4])
    assert stored.check_signature(signer.public_key) is True
    lines = [line for line in log_trap.lines()[before:] if line.get("event") == "audit_digest"]
    assert lines == [
        {
            "event": "audit_digest",
            "level": "info",
            "position": 2,
            "hash": published.hash,
            "taken_at": published.taken_at,
            "signed": True,
        }
    ]


def test_an_unsigned_digest_is_logged_as_unsigned(
    ledger: Ledger, recorder: ChainedRecorder, clock: Clock, log_trap: LogTrap
) -> None:
    before = len(log_trap.lines())
    Events(ledger)
    published = publisher(recorder, clock, every_events=1).tick()
    assert published is not None
    lines = [line for line in log_trap.lines()[before:] if line.get("event") == "audit_digest"]
    assert [(line["position"], line["signed"]) for line in lines] == [(1, False)]


# -- the thread -------------------------------------------------------------------------------


class Flaky:
    """A recorder whose first ``chain_head`` fails (a store hiccup), then recovers."""

    def __init__(self, inner: ChainedRecorder) -> None:
        self.inner = inner
        self.failures = 1

    def chain_head(self) -> Link | None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("connection reset")
        return self.inner.chain_head()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_the_thread_publishes_and_keeps_going_after_a_failed_tick(
    ledger: Ledger, recorder: ChainedRecorder, log_trap: LogTrap
) -> None:
    before = len(log_trap.lines())
    Events(ledger).add(2)
    flaky = cast("ChainedRecorder", Flaky(recorder))
    running = DigestPublisher(flaky, None, every_events=1, every_minutes=0)
    others = set(threading.enumerate())
    running.start(interval=0.01)
    started = set(threading.enumerate()) - others
    try:
        deadline = time.monotonic() + 10
        while not logged(recorder) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        running.stop()

    assert [p for p, _ in logged(recorder)] == [3]
    assert [thread.name for thread in started] == ["disburse-digests"]
    assert not any(thread.is_alive() for thread in started)  # stopped
    failed = [line for line in log_trap.lines()[before:] if line["event"] == "audit_digest_failed"]
    assert [line["error"] for line in failed] == ["connection reset"]
