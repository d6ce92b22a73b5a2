# ruff: noqa: INP001 - a script run by path (python benchmarks/chain.py), not a package
"""Cost of the hash chain and of per-person sealing, against the library's plain recorder.

For each backend (a temporary SQLite file; schemas in a throwaway PostgreSQL database),
three comparisons, each against a baseline run in the same process:

1. Writes: saving small aggregates one event per ``save()`` and 2,000 events per
   ``save()``, with the chained recorder (``ChainedSQLiteRecorder`` /
   ``ChainedPostgresRecorder``) against the library's own ``SQLiteApplicationRecorder`` /
   ``PostgresApplicationRecorder``, on otherwise identical stores (same ``LedgerStore``,
   same cipher key). Every repeat writes into a fresh, empty store of each kind.
2. Verification: ``verify(recorder)`` over the chained log against paging through
   ``recorder.select_notifications`` with the same page size (reading, no hashing).
3. Sealing: ``ledger.people.register`` with per-person keys (the default) against the
   same commands on a store without person keys (``mapper.keys`` is None).

Run: ``.venv/bin/python benchmarks/chain.py [--backend sqlite|postgres|both] [--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import psycopg
from eventsourcing.domain import Aggregate, event
from stores import postgres_reachable, settings_for

from disburse.access.context import Context
from disburse.application.ledger import Ledger
from disburse.audit.verify import PAGE, verify
from disburse.bootstrap import store_env
from disburse.domain.identity import check_digit
from disburse.domain.meta import Role
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.persistence.keys import KeyRing, load_keys
from disburse.persistence.sealing import SealingMapper
from disburse.persistence.store import LedgerStore
from disburse.settings import Settings, parse_database_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
TODAY = date(2024, 12, 31)
PLAIN = {
    "sqlite": "eventsourcing.sqlite:SQLiteApplicationRecorder",
    "postgres": "eventsourcing.postgres:PostgresApplicationRecorder",
}
CHAINED = {
    "sqlite": "disburse.persistence.recorders:ChainedSQLiteRecorder",
    "postgres": "disburse.persistence.recorders:ChainedPostgresRecorder",
}
#: The chained store of the last write repeat, which verify then reads.
VERIFIED = "verified"
T = TypeVar("T")


def emit(line: str = "") -> None:
    """Print one line of the report."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Tick(Aggregate):
    """A tiny aggregate: one creation event with two small fields."""

    @event("Created")
    def __init__(self, amount_fen: int, note: str) -> None:
        self.amount_fen = amount_fen
        self.note = note


def clerk() -> Context:
    """The clerk who registers people."""
    return Context(actor_id="clerk-1", role=Role.CLERK, client_id="bench")


MAX_PEOPLE = 99_000


def resident_id(number: int) -> str:
    """A valid 18-character resident ID, distinct for every ``number`` below ``MAX_PEOPLE``."""
    region = f"2202{1 + number // 1000:02d}"
    serial = number % 1000
    born = date(1970 + serial % 28, 1 + serial % 12, 1 + serial % 28)
    first17 = f"{region}{born:%Y%m%d}{serial:03d}"
    return first17 + check_digit(first17)


# -- stores -----------------------------------------------------------------------------------


@dataclass
class Backend:
    """Where fresh stores are made: a folder of SQLite files, or schemas in one database."""

    name: str
    make_url: Callable[[str], str]
    drop: Callable[[str], None]
    settings: Settings
    keys: KeyRing

    def open(self, store: str, *, recorder: str, sealing: bool = True) -> LedgerStore:
        """A new, empty store named ``store``, with this recorder class; sealing on or off."""
        env = store_env(parse_database_url(self.make_url(store)), self.keys, self.settings)
        env["APPLICATION_RECORDER_TOPIC"] = recorder
        if not sealing:
            del env[LedgerStore.PERSON_KEY_WRAP]
        return LedgerStore(env=env)


@contextmanager
def sqlite_backend() -> Iterator[Backend]:
    """SQLite files in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="disburse-bench-") as folder:

        def make_url(store: str) -> str:
            return f"sqlite:///{Path(folder) / f'{store}.db'}"

        def drop(store: str) -> None:
            for suffix in ("", "-wal", "-shm"):
                (Path(folder) / f"{store}.db{suffix}").unlink(missing_ok=True)

        settings = settings_for(make_url("ledger"))
        yield Backend("sqlite", make_url, drop, settings, load_keys(settings))


@contextmanager
def postgres_backend(admin_url: str) -> Iterator[Backend]:
    """Schemas in a database created for this run, dropped afterwards."""
    name = f"disburse_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"

    def make_url(store: str) -> str:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{store}"')
        return f"{url}?schema={store}"

    def drop(store: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{store}" CASCADE')

    try:
        settings = settings_for(f"{url}?schema=bench")
        yield Backend("postgres", make_url, drop, settings, load_keys(settings))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- measurements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One comparison: the same work done by a baseline and by the measured variant."""

    what: str
    baseline_name: str
    measured_name: str
    events: int
    baseline_seconds: float
    measured_seconds: float

    @property
    def baseline_rate(self) -> float:
        """Events per second of the baseline."""
        return self.events / self.baseline_seconds

    @property
    def measured_rate(self) -> float:
        """Events per second of the measured variant."""
        return self.events / self.measured_seconds

    @property
    def ratio(self) -> float:
        """Measured rate over baseline rate (below 1: the measured variant is slower)."""
        return self.measured_rate / self.baseline_rate

    @property
    def extra_us(self) -> float:
        """What the measured variant adds per event, in microseconds."""
        return (self.measured_seconds - self.baseline_seconds) / self.events * 1e6


def timed(run: Callable[[], object]) -> float:
    """Seconds one run takes."""
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def rotated(repeats: int, runs: Sequence[Callable[[int], T]]) -> list[list[T]]:
    """Every run once per repeat, the one that goes first rotating; results per run.

    Each run gets the repeat number and returns what it measured (seconds of its timed
    part, so that setting up a fresh store stays outside the timing). Rotating the order
    keeps a drift of the machine (another process, a checkpoint) from favouring one side.
    """
    results: list[list[T]] = [[] for _ in runs]
    for repeat in range(repeats):
        for k in range(len(runs)):
            index = (repeat + k) % len(runs)
            results[index].append(runs[index](repeat))
    return results


def ticks(count: int) -> list[Tick]:
    """``count`` new aggregates, each with one pending event."""
    return [Tick(amount_fen=i, note="bench") for i in range(count)]


def write(store: LedgerStore, singles: int, bulk: int, per_save: int) -> tuple[float, float]:
    """Seconds to save ``singles`` events one per save(), then ``bulk`` in saves of ``per_save``."""
    single = ticks(singles)
    seconds_single = timed(lambda: [store.save(a) for a in single])
    batches = [ticks(min(per_save, bulk - i)) for i in range(0, bulk, per_save)]
    seconds_bulk = timed(lambda: [store.save(*b) for b in batches])
    total = store.recorder.max_notification_id() or 0
    if total != singles + bulk:
        raise RuntimeError(f"the store holds {total} events, expected {singles + bulk}")
    return seconds_single, seconds_bulk


def bench_writes(backend: Backend, args: argparse.Namespace) -> list[Row]:
    """The two write rows. The last chained store is kept (as ``VERIFIED``) for verify."""
    kind = backend.name

    def variant(recorder: str, label: str) -> Callable[[int], tuple[float, float]]:
        def run(repeat: int) -> tuple[float, float]:
            emit(f"  writes, {label} recorder, repeat {repeat + 1} of {args.repeats} ...")
            last = label == "chained" and repeat == args.repeats - 1
            name = VERIFIED if last else f"write_{label}_{repeat}"
            store = backend.open(name, recorder=recorder)
            try:
                return write(store, args.singles, args.bulk, args.per_save)
            finally:
                store.close()
                if not last:
                    backend.drop(name)

        return run

    plain, chained = rotated(
        args.repeats, [variant(PLAIN[kind], "plain"), variant(CHAINED[kind], "chained")]
    )
    return [
        Row(
            "write, 1 event per save()",
            "plain recorder",
            "chained recorder",
            args.singles,
            min(t[0] for t in plain),
            min(t[0] for t in chained),
        ),
        Row(
            f"write, {args.per_save} events per save()",
            "plain recorder",
            "chained recorder",
            args.bulk,
            min(t[1] for t in plain),
            min(t[1] for t in chained),
        ),
    ]


def read_notifications(store: LedgerStore, page: int) -> int:
    """Page through ``select_notifications`` to the end; returns how many were read."""
    recorder = store.recorder
    after, count = 0, 0
    while True:
        rows = recorder.select_notifications(after, page, inclusive_of_start=False)
        count += len(rows)
        if len(rows) < page:
            return count
        after = rows[-1].id


def read_events_and_links(store: LedgerStore, page: int) -> int:
    """Page through the events and their links as ``verify`` reads them, without hashing."""
    recorder = store.chained
    after, count = 0, 0
    while True:
        rows = recorder.select_stored(after, page)
        links = recorder.select_links(after, page)
        if len(links) != len(rows):
            raise RuntimeError(f"{len(rows)} events but {len(links)} links after {after}")
        count += len(rows)
        if len(rows) < page:
            return count
        after = rows[-1].id


def bench_verify(backend: Backend, repeats: int) -> list[Row]:
    """Verify the chained log against reading it (with and without its links)."""
    store = backend.open(VERIFIED, recorder=CHAINED[backend.name])
    try:
        total = store.recorder.max_notification_id() or 0
        emit(f"  verify over {total} events, pages of {PAGE}, {repeats} repeats ...")

        def check(count: int) -> None:
            if count != total:
                raise RuntimeError(f"read {count} events, expected {total}")

        def run_verify() -> None:
            report = verify(store.chained, page=PAGE)
            if not report.ok or report.checked != total:
                raise RuntimeError(f"verify checked {report.checked} of {total}: {report.finding}")

        read_s, verify_s, links_s = (
            min(times)
            for times in rotated(
                repeats,
                [
                    lambda _: timed(lambda: check(read_notifications(store, PAGE))),
                    lambda _: timed(run_verify),
                    lambda _: timed(lambda: check(read_events_and_links(store, PAGE))),
                ],
            )
        )
    finally:
        store.close()
    return [
        Row("verify", "select_notifications", "verify()", total, read_s, verify_s),
        Row(
            "verify's reads, no hashing",
            "select_notifications",
            "events + links",
            total,
            read_s,
            links_s,
        ),
    ]


def register(backend: Backend, name: str, people: int, *, sealing: bool) -> float:
    """Seconds to register ``people`` people, one command each, in a fresh chained store."""
    store = backend.open(name, recorder=CHAINED[backend.name], sealing=sealing)
    try:
        if not isinstance(store.mapper, SealingMapper) or (store.mapper.keys is None) == sealing:
            raise RuntimeError(f"sealing should be {'on' if sealing else 'off'}")
        ledger = Ledger.assemble(store, backend.keys, lambda: TODAY)
        ids = [resident_id(i) for i in range(people)]

        def run() -> None:
            for rid in ids:
                ledger.people.register(
                    clerk(),
                    resident_id=rid,
                    name="测试人",
                    home_region=rid[:6],
                    poverty_status=PovertyStatus.LIFTED,
                    labour_capacity=LabourCapacity.WEAK,
                    household_id=f"H-{rid[-6:]}",
                    bank_account=f"62220202{rid[-8:-1]}0",
                )

        seconds = timed(run)
        if (store.recorder.max_notification_id() or 0) != people:
            raise RuntimeError(f"expected {people} registrations")
        return seconds
    finally:
        store.close()
        backend.drop(name)


def bench_sealing(backend: Backend, args: argparse.Namespace) -> Row:
    """Registrations with person keys against the same without."""
    emit(f"  register {args.people} people, sealed and unsealed, {args.repeats} repeats ...")
    unsealed, sealed = rotated(
        args.repeats,
        [
            lambda r: register(backend, f"unsealed_{r}", args.people, sealing=False),
            lambda r: register(backend, f"sealed_{r}", args.people, sealing=True),
        ],
    )
    return Row(
        "register a person", "no person keys", "sealed", args.people, min(unsealed), min(sealed)
    )


def run_backend(backend: Backend, args: argparse.Namespace) -> list[Row]:
    """All rows of one backend."""
    emit(
        f"{backend.name}: {args.singles} single saves + {args.bulk} events in saves of "
        f"{args.per_save}, best of {args.repeats}"
    )
    try:
        rows = bench_writes(backend, args)
        rows += bench_verify(backend, args.repeats)
    finally:
        backend.drop(VERIFIED)
    rows.append(bench_sealing(backend, args))
    return rows


def table(backend: str, rows: Sequence[Row]) -> None:
    """The results of one backend."""
    emit()
    emit(backend)
    header = (
        f"{'what':<30} {'events':>7} {'baseline':<20} {'events/s':>9} "
        f"{'measured':<16} {'events/s':>9} {'ratio':>6} {'+us/event':>9}"
    )
    emit(header)
    emit("-" * len(header))
    for row in rows:
        emit(
            f"{row.what:<30} {row.events:>7} {row.baseline_name:<20} {row.baseline_rate:>9.0f} "
            f"{row.measured_name:<16} {row.measured_rate:>9.0f} {row.ratio:>5.2f}x "
            f"{row.extra_us:>9.1f}"
        )
    emit(
        "ratio: measured events/s over baseline events/s (below 1: slower); "
        "+us/event: time the measured variant adds per event"
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--singles", type=int, default=2_000, help="events saved one per save()")
    parser.add_argument("--bulk", type=int, default=100_000, help="events saved in large saves")
    parser.add_argument("--per-save", type=int, default=2_000, help="events per large save()")
    parser.add_argument("--people", type=int, default=500, help="people registered per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per row; the best counts")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DISBURSE_BENCH_POSTGRES_URL", DEFAULT_PG),
        help="an administrative URL; a throwaway database is created and dropped there",
    )
    args = parser.parse_args(argv)
    if args.people > MAX_PEOPLE:
        parser.error(f"--people must be at most {MAX_PEOPLE}")
    if min(args.singles, args.bulk, args.per_save, args.people, args.repeats) < 1:
        parser.error("counts must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse(argv)
    results: dict[str, list[Row]] = {}
    if args.backend in {"sqlite", "both"}:
        with sqlite_backend() as backend:
            results["sqlite"] = run_backend(backend, args)
    if args.backend in {"postgres", "both"}:
        problem = postgres_reachable(args.pg_url)
        if problem is not None:
            emit(f"postgres: skipped, {args.pg_url} is unreachable ({problem})")
            if args.backend == "postgres":
                return 1
        else:
            with postgres_backend(args.pg_url) as backend:
                results["postgres"] = run_backend(backend, args)
    for backend_name, rows in results.items():
        table(backend_name, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
