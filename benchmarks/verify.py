# ruff: noqa: INP001 - a script run by path (python benchmarks/verify.py), not a package
"""Speed of ``disburse audit verify`` against a raw read of the rows it checks.

One store (a temporary SQLite file, or a schema in a throwaway PostgreSQL database) of
``--events`` events:

- a demo county built through the ordinary services (``build_demo``, 300 people: a few
  thousand events of every kind the ledger writes, ~550 bytes of stored state on
  average);
- then, up to N, copies of those events' stored rows (same topics, same encrypted state
  bytes), each under a fresh originator id, inserted through the store's own chained
  recorder (``insert_events``, 2,000 per call), which links them as in production.
  ``verify`` never decodes an event, so the copies cost it exactly what originals would.

Then, best of ``--repeats`` (alternating, so a drift of the machine favours neither):

- **raw read**: every column ``verify`` needs, with plain ``sqlite3`` / ``psycopg`` and
  nothing else: the events (position, originator id, version, topic, state) and the chain
  (position, previous, digest, hash), each by one streaming SELECT read a page of
  ``PAGE`` rows at a time (``fetchmany``; a server-side cursor on PostgreSQL);
- **verify**: ``verify(recorder)`` on the store's own recorder, as ``audit verify`` runs
  it (no progress bar), which must come out clean over all N events.

``verify_vs_read`` = verify events/s over raw-read events/s (the target is >= 0.70).

Run: ``.venv/bin/python benchmarks/verify.py --store sqlite|postgresql [--events N]
[--repeats R] [--json]``. By hand, not in CI. The machine is noisy: only the ratio means
much.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import psycopg
from eventsourcing.persistence import StoredEvent
from stores import postgres_reachable, postgres_store, settings_for, sqlite_store

from disburse.audit.verify import verify
from disburse.bootstrap import open_system
from disburse.demo import MIN_PEOPLE, build_demo

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from disburse.persistence.recorders import ChainedRecorder
    from disburse.settings import Settings

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
PAGE = 5000  # rows per fetchmany of the raw read
INSERT_CHUNK = 2000  # stored events per insert_events call when filling the store
TARGET = 0.70


def emit(line: str = "") -> None:
    """Print one line of the report."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- the store ---------------------------------------------------------------------------------


@contextmanager
def store_url(kind: str, pg_url: str) -> Iterator[str]:
    """A throwaway store of this kind, removed afterwards."""
    if kind == "sqlite":
        with sqlite_store() as url:
            yield url
    else:
        with postgres_store(pg_url) as url:
            yield url


def build(settings: Settings, events: int) -> int:
    """Fill the store with a demo county, then copies of its rows up to ``events``; the head."""
    with open_system(settings, initialised=True) as system:
        build_demo(system, people=MIN_PEOPLE, seed=7, year=date.today().year - 1)  # noqa: DTZ011
        recorder = system.ledger.store.recorder
        base = [
            (n.topic, n.state)
            for n in recorder.select_notifications(0, 1_000_000, inclusive_of_start=False)
        ]
        head = recorder.max_notification_id() or 0
        emit(f"  demo county: {head} events, mean state {mean_state(base):.0f} bytes")
        filled = 0
        while head < events:
            chunk = [
                StoredEvent(
                    originator_id=uuid.uuid4(),
                    originator_version=1,
                    topic=base[(filled + i) % len(base)][0],
                    state=base[(filled + i) % len(base)][1],
                )
                for i in range(min(INSERT_CHUNK, events - head))
            ]
            recorder.insert_events(chunk)
            filled += len(chunk)
            head = recorder.max_notification_id() or 0
        return head


def mean_state(rows: Sequence[tuple[str, bytes]]) -> float:
    """Mean size of the stored states."""
    return sum(len(state) for _, state in rows) / max(1, len(rows))


# -- the raw read ------------------------------------------------------------------------------


def raw_sqlite(settings: Settings) -> Callable[[], int]:
    """Read the events and the chain with plain sqlite3; returns how many events were read."""
    path = settings.store.path
    if path is None:
        raise RuntimeError("a SQLite store without a path")

    def run() -> int:
        conn = sqlite3.connect(path)
        try:
            events = conn.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                "FROM stored_events ORDER BY rowid"
            )
            count = drain(events.fetchmany)
            links = conn.execute(
                "SELECT position, previous, digest, hash FROM ledger_chain ORDER BY position"
            )
            if drain(links.fetchmany) != count:
                raise RuntimeError("as many links as events expected")
            return count
        finally:
            conn.close()

    return run


def raw_postgres(settings: Settings) -> Callable[[], int]:
    """Read the events and the chain with plain psycopg (server-side cursors)."""
    store = settings.store
    schema = store.schema

    def run() -> int:
        with psycopg.connect(
            host=store.host, port=store.port, user=store.user, dbname=store.dbname
        ) as conn:
            with conn.cursor(name="events") as events:
                events.execute(
                    "SELECT notification_id, originator_id, originator_version, topic, state "  # noqa: S608
                    f'FROM "{schema}".ledger_events ORDER BY notification_id'
                )
                count = drain(events.fetchmany)
            with conn.cursor(name="links") as links:
                links.execute(
                    "SELECT position, previous, digest, hash "  # noqa: S608
                    f'FROM "{schema}".ledger_chain ORDER BY position'
                )
                if drain(links.fetchmany) != count:
                    raise RuntimeError("as many links as events expected")
            return count

    return run


def drain(fetchmany: Callable[[int], Sequence[Any]]) -> int:
    """Fetch pages of ``PAGE`` rows to the end; how many rows there were."""
    count = 0
    while rows := fetchmany(PAGE):
        count += len(rows)
    return count


# -- measuring ---------------------------------------------------------------------------------


def timed(run: Callable[[], int], expected: int) -> float:
    """Seconds one run takes; it must have handled ``expected`` events."""
    started = time.perf_counter()
    handled = run()
    seconds = time.perf_counter() - started
    if handled != expected:
        raise RuntimeError(f"handled {handled} events, expected {expected}")
    return seconds


def verifier(recorder: ChainedRecorder) -> Callable[[], int]:
    """One clean verification of the whole store; how many events it checked."""

    def run() -> int:
        report = verify(recorder)
        if not report.ok:
            raise RuntimeError(f"verify found {report.finding}")
        return report.checked

    return run


def measure(settings: Settings, total: int, repeats: int) -> dict[str, float]:
    """Best seconds of the raw read and of verify, alternating which goes first."""
    raw = raw_sqlite(settings) if settings.store.kind == "sqlite" else raw_postgres(settings)
    with open_system(settings) as system:
        runs = {"read": raw, "verify": verifier(system.ledger.store.chained)}
        best = {name: float("inf") for name in runs}
        for repeat in range(repeats):
            order = list(runs) if repeat % 2 == 0 else list(reversed(runs))
            for name in order:
                best[name] = min(best[name], timed(runs[name], total))
                emit(f"  repeat {repeat + 1}: {name} {total / best[name]:,.0f} events/s (best)")
    return best


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--events", type=int, default=200_000, help="events in the store")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--json", action="store_true", help="a JSON object as the last line")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DISBURSE_BENCH_POSTGRES_URL", DEFAULT_PG),
        help="an administrative URL; a throwaway database is created and dropped there",
    )
    args = parser.parse_args(argv)
    if min(args.events, args.repeats) < 1:
        parser.error("counts must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse(argv)
    if args.store == "postgresql" and (problem := postgres_reachable(args.pg_url)) is not None:
        emit(f"postgresql: {args.pg_url} is unreachable ({problem})")
        return 1
    with store_url(args.store, args.pg_url) as url:
        settings = settings_for(url)
        emit(f"{args.store}: building a store of {args.events} events ...")
        started = time.perf_counter()
        total = build(settings, args.events)
        emit(f"  built {total} events in {time.perf_counter() - started:.0f}s")
        best = measure(settings, total, args.repeats)
    read_rate, verify_rate = total / best["read"], total / best["verify"]
    result = {
        "store": args.store,
        "events": total,
        "read_events_per_s": round(read_rate),
        "verify_events_per_s": round(verify_rate),
        "verify_vs_read": round(verify_rate / read_rate, 3),
    }
    emit()
    emit(f"{'':<10} {'events/s':>10}")
    emit(f"{'raw read':<10} {read_rate:>10,.0f}")
    emit(f"{'verify':<10} {verify_rate:>10,.0f}")
    verdict = "PASS" if result["verify_vs_read"] >= TARGET else "MISS"
    emit(f"verify_vs_read {result['verify_vs_read']:.3f} (target >= {TARGET:.2f}: {verdict})")
    if args.json:
        emit(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
