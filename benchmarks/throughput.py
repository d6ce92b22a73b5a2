# ruff: noqa: INP001 - a script run by path (python benchmarks/throughput.py), not a package
"""Throughput of the month-end cycle and of the claims API, each against a same-run baseline.

Four figures, all from one run on one store (a temporary SQLite file, or a throwaway
PostgreSQL database):

1. **The month-end cycle** in payouts/s for N = ``--posts`` staffed posts: request, bulk
   approval, one payment batch, its bank results. A county is built through the ordinary
   services (a fund, a village, N people appointed to insured posts; the set-up commands
   are committed a chunk per transaction with ``LedgerStore.transact_each``) and paid
   month after month on the batched path: ``run_month`` (the monthly run, the path the
   chunked run lands on), ``Payouts.approve_many``, ``release_batch``, ``record_results``.
   Month 2 (N payouts of history) is the figure. Its baselines, in the same run:

   - the per-command path on the same shape of data: a second county, its month 1 paid on
     the batched path, its month 2 requested one sheet at a time
     (``Posts.request_stipend``) and approved one payout at a time (``Payouts.approve``),
     then the same batch and results. ``cycle_vs_percommand`` = batched payouts/s over
     per-command payouts/s;
   - raw inserts: as many rows as the batched month wrote events, of the same mean size
     (topic and stored state), into a plain table with plain ``sqlite3`` or ``psycopg``,
     ``RAW_CHUNK`` rows per ``executemany`` and transaction (median of three).
     ``cycle_vs_raw`` = raw seconds over cycle seconds: the share of the store's own
     write speed the cycle reaches.

2. **Cost growth**: the per-payout cost of the batched cycle at month 2 (N of history)
   and at month 5 (4N); ``cost_growth_4n`` is the second over the first (1.0: no growth).
3. **The API**: a store with a published grant catalogue, a fund and registered people;
   then the real server (``disburse serve``, one process, as ``serve_workers.py`` starts
   it) twice, group commit on and off (``DISBURSE_GROUP_COMMIT``). Each run posts
   transport grant claims (``POST /v1/transport-grants``, one person per claim, each with
   its own ``external_claim_id``) from 1, 8 and 32 threads, each with its own keep-alive
   connection, and ``GET /healthz`` from 32. Accepted claims/s, p50 and p99 latency.
   ``group_commit_gain`` = claims/s at 32 with group commit over without;
   ``api_vs_healthz_32`` = claims/s at 32 (group commit on) over healthz/s at 32.
4. **Peak memory**: the peak RSS of the process during the batched cycle at N and 4N
   (``VmHWM`` reset through ``/proc/self/clear_refs`` before each cycle; where that is
   not possible, the process's peak so far from ``getrusage``).

Attendance is logged (chunked) and the read side caught up before each cycle, outside
the timing. Targets are printed beside the figures (PASS/MISS). ``--profile`` profiles a
sixth month's slowest phase (by its month-5 time) with cProfile, apart from the figures.
The machine is noisy: only the ratios to baselines of the same run mean much.

Run: ``.venv/bin/python benchmarks/throughput.py --store sqlite|postgresql [--posts N]
[--quick] [--json] [--profile] [--only cycle|api]``. By hand, not in CI. ``--quick`` (1,000
posts, smaller loads) takes about 1.5 min on SQLite and 2.5 min on PostgreSQL on the 2-core
machine of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import psycopg
from stores import postgres_reachable, postgres_store, settings_for, sqlite_store

from disburse.access.context import Context
from disburse.application.monthly import run_month
from disburse.application.payouts import Approval, BankResult
from disburse.bootstrap import initialise, open_system
from disburse.domain.batch import Outcome
from disburse.domain.fund import FundSource
from disburse.domain.identity import check_digit
from disburse.domain.meta import Role
from disburse.domain.months import Month
from disburse.domain.payout import PayoutStatus
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.post import InsuranceKind
from disburse.domain.rules import PolicyDocument
from disburse.domain.site import SiteKind
from disburse.policy.default import national

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.bootstrap import System
    from disburse.persistence.batching import Changes
    from disburse.settings import Settings

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DISBURSE = str(Path(sys.executable).with_name("disburse"))
TODAY = date(2024, 12, 31)
YEAR = 2024
REGION = "220221"
STIPEND_FEN = 150_000
GRANT_FEN = 50_000
DAYS = 22
AT_N, AT_4N = 2, 5  # measured months: history before them is 1 x posts and 4 x posts payouts
PROFILED = AT_4N + 1  # profiled apart: the profiler's own cost stays out of the figures
RAW_CHUNK = 500  # rows per executemany and transaction of the raw baseline
WARM_UP = 20  # claims each server answers before the measured loads
CLIENTS = (1, 8, 32)
TARGETS = {  # figure: (comparison, threshold)
    "cycle_vs_percommand": (">=", 30.0),
    "cycle_vs_raw": (">=", 0.10),
    "cost_growth_4n": ("<=", 1.2),
    "api_p99_ms_32": ("<", 250.0),
    "api_vs_healthz_32": (">=", 0.20),
    "group_commit_gain": (">=", 5.0),
}


def emit(line: str = "") -> None:
    """Print one line of the report."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def clerk() -> Context:
    """Registers people, logs attendance, runs the month."""
    return Context(actor_id="clerk-1", role=Role.CLERK, client_id="bench")


def finance() -> Context:
    """Allocates, approves and pays (never the requester)."""
    return Context(actor_id="finance-1", role=Role.FINANCE, client_id="bench")


def admin() -> Context:
    """Publishes the catalogue and creates the API client."""
    return Context(actor_id="admin-1", role=Role.ADMIN, client_id="bench")


def resident_id(serial: int) -> str:
    """A valid resident ID, distinct for each ``serial`` below 28,000."""
    born = date(1970 + serial // 1000, 1 + serial % 12, 1 + serial % 28)
    first17 = f"{REGION}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def chunked(ledger: Ledger, items: Iterable[T], decide: Callable[[T], R]) -> list[R]:
    """One service command per item, a chunk of them per transaction; a refusal stops the run."""
    results: list[R] = []

    def command(item: T, _: Changes) -> R:
        return decide(item)  # the command's own transaction joins the chunk's

    for item, result, refusal in ledger.store.transact_each(items, command):
        if refusal is not None:
            raise SystemExit(f"set-up refused for {item}: {refusal.rule_id}: {refusal}")
        results.append(cast("R", result))  # not refused: the command's result (maybe None)
    return results


def register(ledger: Ledger, serial: int) -> UUID:
    """Register a lifted-out, weak-labour person of the county; the person id."""
    rid = resident_id(serial)
    return ledger.people.register(
        clerk(),
        resident_id=rid,
        name="测试人",
        home_region=REGION,
        poverty_status=PovertyStatus.LIFTED,
        labour_capacity=LabourCapacity.WEAK,
        household_id=f"H-{rid[-6:]}",
        bank_account=f"62220202{rid[-8:-1]}0",
    ).person_id


# -- the county -------------------------------------------------------------------------------


@dataclass
class County:
    """The fund and the staffed posts it pays."""

    fund_id: UUID
    posts: list[UUID] = field(default_factory=list)


def build_county(ledger: Ledger, posts: int, months: int) -> County:
    """A fund for ``months`` months, one village and ``posts`` staffed, insured posts."""
    initialise(ledger)
    fund_id = ledger.funds.allocate(
        finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=REGION,
        year=YEAR,
        amount_fen=posts * months * STIPEND_FEN,
    )
    village = ledger.posts.register_site(
        clerk(), region_code=REGION, kind=SiteKind.VILLAGE, name="东风村", population=5000
    )
    people = chunked(ledger, range(posts), lambda serial: register(ledger, serial))
    post_ids = chunked(
        ledger,
        people,
        lambda _: ledger.posts.create_post(
            clerk(),
            site_id=village,
            title="保洁员",
            stipend_fen=STIPEND_FEN,
            fund_id=fund_id,
            part_time=False,
        ),
    )
    term = {"term_start": date(YEAR, 1, 1), "term_end": date(YEAR, 12, 31)}
    chunked(
        ledger,
        zip(post_ids, people, strict=True),
        lambda pair: ledger.posts.appoint(clerk(), pair[0], person_id=pair[1], **term),
    )
    chunked(
        ledger,
        enumerate(post_ids),
        lambda item: ledger.posts.record_insurance(
            clerk(),
            item[1],
            kind=InsuranceKind.ACCIDENT,
            policy_number=f"PICC-{YEAR}-{item[0]:05d}",
            insurer="PICC",
            valid_from=date(YEAR, 1, 1),
            valid_to=date(YEAR, 12, 31),
        ),
    )
    return County(fund_id, post_ids)


def log_attendance(system: System, county: County, month: Month) -> None:
    """Every post worked the whole month; the read side then holds the sheets."""
    ledger = system.ledger
    chunked(
        ledger,
        county.posts,
        lambda post_id: ledger.posts.log_attendance(
            clerk(), post_id, month=month, days_worked=DAYS, days_required=DAYS
        ),
    )
    system.views.catch_up()  # the run's own catch-up then finds nothing to do


# -- the cycle --------------------------------------------------------------------------------


class Stopwatch:
    """Seconds per named phase; one phase may be profiled."""

    def __init__(self, profiled: str | None = None) -> None:
        self.phases: dict[str, float] = {}
        self.profiled = profiled
        self.profiler = cProfile.Profile() if profiled else None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as ``name`` (and profile it if it is the profiled phase)."""
        profiler = self.profiler if name == self.profiled else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        try:
            yield
        finally:
            if profiler is not None:
                profiler.disable()
            self.phases[name] = time.perf_counter() - started


def pay(ledger: Ledger, county: County, payouts: list[UUID], watch: Stopwatch) -> None:
    """One payment batch of the approved payouts, and a bank file paying every line."""
    with watch.phase("release_batch"):
        batch = ledger.payouts.release_batch(finance(), fund_id=county.fund_id, payout_ids=payouts)
    with watch.phase("record_results"):
        ledger.payouts.record_results(
            finance(),
            batch,
            results=[
                BankResult(p, Outcome.PAID, bank_reference=f"BOC-{p.hex[:8]}") for p in payouts
            ],
            control_count=len(payouts),
            control_total_fen=len(payouts) * STIPEND_FEN,
        )


def batched(system: System, county: County, month: Month, watch: Stopwatch) -> int:
    """The month on the batched path: monthly run, bulk approval, batch, results."""
    ledger = system.ledger
    with watch.phase("run_month"):
        run = run_month(ledger, system.views, clerk(), month=month, region=REGION)
    if run.refusals or run.requested != len(county.posts):
        msg = f"{month}: {run.requested} requested, refusals {run.refusals_by_rule()}"
        raise SystemExit(msg)
    with watch.phase("approve_many"):
        approved = ledger.payouts.approve_many(finance(), [Approval(p) for p in run.requested_ids])
    statuses = Counter(a.refusal.rule_id if a.refusal else str(a.status) for a in approved)
    if statuses != {str(PayoutStatus.APPROVED): len(county.posts)}:
        raise SystemExit(f"{month}: bulk approval came to {dict(statuses)}")
    pay(ledger, county, run.requested_ids, watch)
    return len(run.requested_ids)


def per_command(system: System, county: County, month: Month, watch: Stopwatch) -> int:
    """The month one command at a time: each sheet requested, each payout approved."""
    ledger = system.ledger
    with watch.phase("request"):
        payouts = [ledger.posts.request_stipend(clerk(), p, month) for p in county.posts]
    requested = [p for p in payouts if p is not None]
    if len(requested) != len(county.posts):
        raise SystemExit(f"{month}: {len(requested)} of {len(county.posts)} requested")
    with watch.phase("approve"):
        for payout_id in requested:
            ledger.payouts.approve(finance(), payout_id)
    pay(ledger, county, requested, watch)
    return len(requested)


# -- one measured month -----------------------------------------------------------------------


class PeakRss:
    """The peak resident set of this process from :meth:`reset` on, in MiB."""

    def __init__(self) -> None:
        self.exact = False
        self.start_mb = 0.0

    def reset(self) -> None:
        """Forget the peak so far (Linux ``clear_refs``), if the kernel allows it."""
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.exact = True
        except OSError:
            self.exact = False
        self.start_mb = self._status("VmRSS")

    def peak_mb(self) -> float:
        """The peak since :meth:`reset` (else the process's peak so far)."""
        if self.exact:
            return self._status("VmHWM")
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    @staticmethod
    def _status(key: str) -> float:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


@dataclass
class Cycle:
    """One month-end cycle: payouts, seconds per phase, what it wrote, its peak memory."""

    payouts: int
    seconds: float
    phases: dict[str, float]
    events: int
    topic_bytes: int  # mean length of the events' topics
    state_bytes: int  # mean length of their stored (encrypted) state
    peak_rss_mb: float
    rss_growth_mb: float  # the peak over the resident set when the cycle began
    profile: str = ""

    @property
    def per_s(self) -> float:
        """Payouts per second."""
        return self.payouts / self.seconds

    @property
    def item_ms(self) -> float:
        """Milliseconds per payout."""
        return self.seconds / self.payouts * 1000


class PayMonth(Protocol):
    """A path from logged attendance to paid payouts; the number of payouts paid."""

    def __call__(self, system: System, county: County, month: Month, watch: Stopwatch) -> int:
        """Pay ``month`` of ``county``, timing its phases on ``watch``."""
        ...


def measure_month(
    system: System, county: County, month: Month, path: PayMonth, profiled: str | None = None
) -> Cycle:
    """Log the month's attendance, then time ``path`` paying it; count what it wrote."""
    log_attendance(system, county, month)
    recorder = system.ledger.store.recorder
    before = recorder.max_notification_id() or 0
    rss = PeakRss()
    rss.reset()
    watch = Stopwatch(profiled)
    started = time.perf_counter()
    payouts = path(system, county, month, watch)
    seconds = time.perf_counter() - started
    peak = rss.peak_mb()
    after = recorder.max_notification_id() or 0
    topic, state = event_sizes(system.ledger, before, after)
    return Cycle(
        payouts,
        seconds,
        watch.phases,
        after - before,
        topic,
        state,
        peak,
        peak - rss.start_mb,
        profile_text(watch.profiler) if watch.profiler else "",
    )


def event_sizes(ledger: Ledger, before: int, after: int) -> tuple[int, int]:
    """Mean topic and stored-state length of the events after ``before`` up to ``after``."""
    topics = states = count = 0
    start = before + 1
    while start <= after:
        page = ledger.store.recorder.select_notifications(start, 1000, stop=after)
        if not page:
            break
        for notification in page:
            topics += len(notification.topic)
            states += len(notification.state)
        count += len(page)
        start = page[-1].id + 1
    return (topics // count, states // count) if count else (0, 0)


def profile_text(profiler: cProfile.Profile) -> str:
    """The top 25 functions by cumulative time, then the top 15 by own time."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def cycle_line(label: str, cycle: Cycle) -> str:
    """One row of the cycle table."""
    phases = ", ".join(f"{k} {v:.2f}" for k, v in cycle.phases.items())
    return (
        f"  {label:<28} {cycle.per_s:8.1f} payouts/s {cycle.item_ms:6.2f} ms/payout "
        f"{cycle.events:>6} events  peak RSS {cycle.peak_rss_mb:6.0f} MiB "
        f"(+{cycle.rss_growth_mb:.0f})  [{phases} s]"
    )


# -- the raw baseline -------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRows:
    """Rows the size of the cycle's events: how many, topic and state lengths."""

    count: int
    topic_bytes: int
    state_bytes: int

    def rows(self) -> list[tuple[uuid.UUID, int, str, bytes]]:
        """Fresh rows (random state: the stored state is encrypted, so incompressible)."""
        topic = "t" * self.topic_bytes
        return [(uuid.uuid4(), 1, topic, os.urandom(self.state_bytes)) for _ in range(self.count)]


def batches(rows: Sequence[T], size: int = RAW_CHUNK) -> Iterator[Sequence[T]]:
    """``rows`` in slices of ``size``."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def raw_sqlite(path: Path, shape: RawRows) -> float:
    """Seconds to insert the rows into a plain table of a SQLite file (WAL, as the store)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS raw_events (id INTEGER PRIMARY KEY, "
            "originator_id BLOB NOT NULL, originator_version INTEGER NOT NULL, "
            "topic TEXT NOT NULL, state BLOB NOT NULL)"
        )
        rows = [(u.bytes, v, t, s) for u, v, t, s in shape.rows()]
        started = time.perf_counter()
        for chunk in batches(rows):
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO raw_events (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                chunk,
            )
            connection.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        connection.close()


def raw_postgres(url: str, shape: RawRows) -> float:
    """Seconds to insert the rows into a plain table of the PostgreSQL database."""
    with psycopg.connect(url) as connection:
        with connection.transaction():
            connection.execute("CREATE SCHEMA IF NOT EXISTS raw")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS raw.raw_events (id bigserial PRIMARY KEY, "
                "originator_id uuid NOT NULL, originator_version integer NOT NULL, "
                "topic text NOT NULL, state bytea NOT NULL)"
            )
        rows = shape.rows()
        started = time.perf_counter()
        for chunk in batches(rows):
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO raw.raw_events (originator_id, originator_version, topic, state) "
                    "VALUES (%s, %s, %s, %s)",
                    chunk,
                )
        return time.perf_counter() - started


def raw_seconds(url: str, shape: RawRows) -> float:
    """The median of three raw insert runs into the store's own database (or folder)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")).with_name("raw.db")
        return statistics.median(raw_sqlite(path, shape) for _ in range(3))
    plain = url.split("?", 1)[0]
    return statistics.median(raw_postgres(plain, shape) for _ in range(3))


# -- part 1, 2 and 4: the cycles --------------------------------------------------------------


@dataclass
class Cycles:
    """The batched months of one county, the per-command month of another, the raw inserts."""

    batched: dict[int, Cycle]
    per_command: Cycle
    raw_s: float

    @property
    def at_n(self) -> Cycle:
        """The batched month with N payouts of history: the headline figure."""
        return self.batched[AT_N]


def batched_months(url: str, posts: int, *, profile: bool) -> tuple[dict[int, Cycle], float]:
    """Months 1 to 5 (6 profiled) on the batched path; the raw baseline for month 2."""
    raw_s = 0.0
    cycles: dict[int, Cycle] = {}
    with open_system(settings_for(url), today=lambda: TODAY) as system:
        started = time.perf_counter()
        county = build_county(system.ledger, posts, PROFILED)
        emit(f"batched county: {posts} posts built in {time.perf_counter() - started:.1f} s")
        for m in range(1, AT_4N + 1):
            cycle = cycles[m] = measure_month(system, county, Month(YEAR, m), batched)
            emit(cycle_line(f"{YEAR}-{m:02d} batched, history {posts * (m - 1)}", cycle))
            if m == AT_N:
                shape = RawRows(cycle.events, cycle.topic_bytes, cycle.state_bytes)
                raw_s = raw_seconds(url, shape)
                emit(
                    f"  raw inserts of {shape.count} rows of {shape.topic_bytes} + "
                    f"{shape.state_bytes} bytes, {RAW_CHUNK} per transaction: {raw_s:.3f} s "
                    f"({shape.count / raw_s:,.0f} rows/s)"
                )
        if profile:
            phases = cycles[AT_4N].phases
            slowest = max(phases, key=lambda name: phases[name])
            month = Month(YEAR, PROFILED)
            cycles[PROFILED] = measure_month(system, county, month, batched, slowest)
            emit(cycle_line(f"{YEAR}-{PROFILED:02d} batched, profiled", cycles[PROFILED]))
    return cycles, raw_s


def per_command_month(url: str, posts: int) -> Cycle:
    """A second county: month 1 batched, month 2 one command at a time (the baseline)."""
    with open_system(settings_for(url), today=lambda: TODAY) as system:
        started = time.perf_counter()
        county = build_county(system.ledger, posts, AT_N)
        emit(f"per-command county: {posts} posts built in {time.perf_counter() - started:.1f} s")
        measure_month(system, county, Month(YEAR, 1), batched)  # N payouts of history
        cycle = measure_month(system, county, Month(YEAR, AT_N), per_command)
        emit(cycle_line(f"{YEAR}-{AT_N:02d} per command, history {posts}", cycle))
    return cycle


# -- part 3: the API --------------------------------------------------------------------------


def grant_catalogue() -> PolicyDocument:
    """The national catalogue for the city, with a grant amount (the national one has none)."""
    data = national().model_dump()
    data.update(version="CN-22-2202-BENCH", title="Bench grant amounts", region_prefix="2202")
    data["grant"].update(amount_fen=GRANT_FEN, min_months_away=3)
    return PolicyDocument.model_validate(data)


def prepare_api_store(settings: Settings, people: int) -> tuple[str, list[str]]:
    """A catalogue with grants, a fund for them, ``people`` people; a claimant key."""
    with open_system(settings, initialised=True) as system:
        ledger = system.ledger
        ledger.policy.publish(admin(), grant_catalogue(), reason="bench grant amounts")
        ledger.funds.allocate(
            finance(),
            source=FundSource.RURAL_REVITALISATION,
            region_code=REGION,
            year=YEAR,
            amount_fen=people * GRANT_FEN,
        )
        ids = chunked(ledger, range(people), lambda serial: register(ledger, serial))
        issued = system.clients.create(
            admin(), name="bench-claims", role=Role.CLAIMANT, region_code=REGION
        )
    return issued.key, [str(i) for i in ids]


def claim_body(person_id: str) -> str:
    """A claim for work in Guangdong since January 2024, with the submitter's own id."""
    return json.dumps(
        {
            "person_id": person_id,
            "work_province": "44",
            "employer": "深圳某电子厂",
            "started_on": "2024-01-15",
            "months_worked": 4,
            "evidence_ref": "contract-2024-001",
            "external_claim_id": f"BENCH-{person_id}",
        }
    )


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(settings: Settings, log: Path, *, group_commit: bool) -> Iterator[int]:
    """``disburse serve`` (one process) on the store; its port. Its stderr goes to ``log``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    env = clean | {
        "DISBURSE_DATABASE_URL": settings.database_url,
        "DISBURSE_SECRET_KEY": secret,
        "DISBURSE_GROUP_COMMIT": "true" if group_commit else "false",
    }
    with open_system(settings) as system:
        system.views.catch_up()  # the server's projector starts with nothing to catch up
    port = free_port()
    with log.open("a") as errors:
        server = subprocess.Popen(  # noqa: S603 - our own console script
            [DISBURSE, "serve", "--port", str(port)],
            env=env,
            cwd=log.parent,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            wait_for(port, server)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    """Until the server answers /healthz (60 s at most)."""
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise SystemExit(f"disburse serve exited with {server.returncode}")
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            probe.getresponse().read()
            probe.close()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        else:
            return


@dataclass(frozen=True)
class Call:
    """One request of a load."""

    method: str
    path: str
    body: str | None = None


@dataclass
class Load:
    """What a load came to: seconds, latency of each 2xx answer, the other answers."""

    clients: int
    seconds: float
    latencies: list[float]
    failures: Counter[str]

    @property
    def per_s(self) -> float:
        """2xx answers per second."""
        return len(self.latencies) / self.seconds

    def quantile_ms(self, q: int) -> float:
        """The ``q``-th percentile latency in milliseconds."""
        if len(self.latencies) < 2:  # noqa: PLR2004 - quantiles need two points
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


def refusal(status: int, body: bytes) -> str:
    """A short name of an answer other than 2xx: its status and rule."""
    try:
        rule = json.loads(body).get("rule_id", "")
    except (ValueError, AttributeError):
        rule = ""
    return f"{status} {rule}".strip()


def drive(port: int, key: str, calls: Sequence[Call], clients: int) -> Load:
    """Send ``calls`` from ``clients`` threads, each on its own keep-alive connection."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: Counter[str] = Counter()
    lock = threading.Lock()

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for call in calls[index::clients]:
            one = time.perf_counter()
            try:
                connection.request(call.method, call.path, call.body, headers)
                response = connection.getresponse()
                body = response.read()
            except (http.client.HTTPException, OSError) as error:
                with lock:
                    failures[type(error).__name__] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            if response.status < 300:  # noqa: PLR2004 - a success
                latencies[index].append(time.perf_counter() - one)
            else:
                with lock:
                    failures[refusal(response.status, body)] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return Load(clients, seconds, [x for each in latencies for x in each], failures)


@dataclass
class ServerRun:
    """One server's loads: claims at each client count, /healthz at the most."""

    group_commit: bool
    claims: dict[int, Load]
    healthz: Load


def claims_per_load(quick: bool) -> dict[int, int]:
    """Claims sent at each client count: enough for a p99 at 32 clients."""
    return {1: 150, 8: 600, 32: 1200} if quick else {1: 300, 8: 1500, 32: 3000}


def server_run(
    settings: Settings,
    log: Path,
    key: str,
    people: Iterator[str],
    *,
    group_commit: bool,
    quick: bool,
) -> ServerRun:
    """Start a server; warm it up; claims at 1, 8 and 32 clients; /healthz at 32."""
    claims: dict[int, Load] = {}
    with serving(settings, log, group_commit=group_commit) as port:
        post = [
            Call("POST", "/v1/transport-grants", claim_body(next(people))) for _ in range(WARM_UP)
        ]
        drive(port, key, post, 1)
        for clients, count in claims_per_load(quick).items():
            post = [
                Call("POST", "/v1/transport-grants", claim_body(next(people))) for _ in range(count)
            ]
            claims[clients] = load = drive(port, key, post, clients)
            emit(load_line(f"claims, group commit {'on' if group_commit else 'off'}", load))
        healthz = drive(port, key, [Call("GET", "/healthz")] * (4000 if quick else 8000), 32)
        emit(load_line("healthz", healthz))
    return ServerRun(group_commit, claims, healthz)


def load_line(label: str, load: Load) -> str:
    """One row of the API table."""
    failed = f"  not 2xx: {dict(load.failures)}" if load.failures else ""
    return (
        f"  {label:<24} {load.clients:>3} clients {load.per_s:8.1f}/s  "
        f"p50 {load.quantile_ms(50):7.1f} ms  p99 {load.quantile_ms(99):7.1f} ms  "
        f"({len(load.latencies)} in {load.seconds:.1f} s){failed}"
    )


def api_runs(store: str, pg_url: str, *, quick: bool) -> tuple[ServerRun, ServerRun, list[str]]:
    """Two servers on one store, group commit on then off; tracebacks seen in their logs."""
    per_run = WARM_UP + sum(claims_per_load(quick).values())
    with (
        sqlite_store() if store == "sqlite" else postgres_store(pg_url) as url,
        tempfile.TemporaryDirectory(prefix="disburse-serve-") as folder,
    ):
        settings = settings_for(url)
        started = time.perf_counter()
        key, person_ids = prepare_api_store(settings, 2 * per_run)
        emit(f"API store: {2 * per_run} people in {time.perf_counter() - started:.1f} s")
        people = iter(person_ids)
        log = Path(folder) / "serve.log"
        on = server_run(settings, log, key, people, group_commit=True, quick=quick)
        off = server_run(settings, log, key, people, group_commit=False, quick=quick)
        lines = log.read_text().splitlines()
    tracebacks = [line for line in lines if "Traceback" in line or "Error" in line]
    return on, off, tracebacks


# -- the report -------------------------------------------------------------------------------


def verdict(name: str, value: float) -> str:
    """PASS or MISS against the figure's target."""
    how, threshold = TARGETS[name]
    ok = {">=": value >= threshold, "<=": value <= threshold, "<": value < threshold}[how]
    return f"{'PASS' if ok else 'MISS'} (target {how} {threshold:g})"


def cycle_figures(cycles: Cycles) -> dict[str, float]:
    """Part 1, 2 and 4: the cycle against its baselines, growth, memory."""
    n, n4 = cycles.at_n, cycles.batched[AT_4N]
    return {
        "cycle_payouts_per_s": round(n.per_s, 1),
        "percommand_payouts_per_s": round(cycles.per_command.per_s, 1),
        "cycle_vs_percommand": round(n.per_s / cycles.per_command.per_s, 2),
        "cycle_s": round(n.seconds, 3),
        "cycle_events": n.events,
        "cycle_event_bytes": n.topic_bytes + n.state_bytes,
        "raw_s": round(cycles.raw_s, 3),
        "raw_rows_per_s": round(n.events / cycles.raw_s, 1),
        "cycle_vs_raw": round(cycles.raw_s / n.seconds, 3),
        "item_ms_n": round(n.item_ms, 3),
        "item_ms_4n": round(n4.item_ms, 3),
        "cost_growth_4n": round(n4.item_ms / n.item_ms, 3),
        "peak_rss_mb_n": round(n.peak_rss_mb, 1),
        "peak_rss_mb_4n": round(n4.peak_rss_mb, 1),
        "rss_growth_mb_n": round(n.rss_growth_mb, 1),
        "rss_growth_mb_4n": round(n4.rss_growth_mb, 1),
    }


def api_figures(on: ServerRun, off: ServerRun) -> dict[str, float]:
    """Part 3: claims/s and latency at each client count, with and without group commit."""
    figures: dict[str, float] = {}
    for run, tag in ((on, ""), (off, "_nogc")):
        for clients, load in run.claims.items():
            figures[f"api_claims_per_s_{clients}{tag}"] = round(load.per_s, 1)
            figures[f"api_p50_ms_{clients}{tag}"] = round(load.quantile_ms(50), 1)
            figures[f"api_p99_ms_{clients}{tag}"] = round(load.quantile_ms(99), 1)
        figures[f"healthz_per_s_32{tag}"] = round(run.healthz.per_s, 1)
    top = max(CLIENTS)
    figures["api_vs_healthz_32"] = round(on.claims[top].per_s / on.healthz.per_s, 3)
    figures["group_commit_gain"] = round(on.claims[top].per_s / off.claims[top].per_s, 2)
    figures["api_not_2xx"] = sum(
        sum(load.failures.values()) for run in (on, off) for load in [*run.claims.values()]
    )
    return figures


def report(figures: dict[str, Any]) -> None:
    """Each figure with its same-run baseline, the ratio and the target."""
    f = figures
    emit()
    emit(f"{f['store']}: N = {f['posts']} posts")
    if "cycle_payouts_per_s" in f:
        report_cycle(f)
    if "api_claims_per_s_32" in f:
        emit(
            f"API claims/s at 32     {f['api_claims_per_s_32']:8.1f} (group commit on), "
            f"{f['api_claims_per_s_32_nogc']:.1f} (off); healthz {f['healthz_per_s_32']:.1f}/s"
        )
        for name in ("api_p99_ms_32", "api_vs_healthz_32", "group_commit_gain"):
            emit(f"  {name:<20} {f[name]:8.2f}  {verdict(name, f[name])}")


def report_cycle(f: dict[str, Any]) -> None:
    """The cycle's figures: against per-command and raw, growth, memory."""
    emit(
        f"cycle (month {AT_N}, batched)   {f['cycle_payouts_per_s']:8.1f} payouts/s; "
        f"per command {f['percommand_payouts_per_s']:.1f}/s"
    )
    emit(
        f"  cycle_vs_percommand  {f['cycle_vs_percommand']:8.2f}  "
        + verdict("cycle_vs_percommand", f["cycle_vs_percommand"])
    )
    emit(
        f"  cycle_vs_raw         {f['cycle_vs_raw']:8.3f}  "
        f"{verdict('cycle_vs_raw', f['cycle_vs_raw'])}"
        f"  (raw {f['raw_s']:.3f} s vs cycle {f['cycle_s']:.3f} s for {f['cycle_events']} "
        f"events of ~{f['cycle_event_bytes']} bytes)"
    )
    emit(
        f"  cost_growth_4n       {f['cost_growth_4n']:8.3f}  "
        f"{verdict('cost_growth_4n', f['cost_growth_4n'])}  "
        f"({f['item_ms_n']:.3f} -> {f['item_ms_4n']:.3f} ms/payout)"
    )
    emit(
        f"  peak RSS             {f['peak_rss_mb_n']:.0f} MiB at N, {f['peak_rss_mb_4n']:.0f} MiB "
        f"at 4N (+{f['rss_growth_mb_n']:.0f} / +{f['rss_growth_mb_4n']:.0f} over the start)"
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--posts", type=int, default=2500, help="posts paid per month (N)")
    parser.add_argument("--quick", action="store_true", help="1000 posts, smaller loads")
    parser.add_argument("--json", action="store_true", help="one JSON object as the last line")
    parser.add_argument("--profile", action="store_true", help="cProfile the slowest phase")
    parser.add_argument(
        "--only", choices=("cycle", "api"), help="run one part (the other's figures are missing)"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DISBURSE_BENCH_POSTGRES_URL", DEFAULT_PG),
        help="an administrative URL; throwaway databases are created and dropped there",
    )
    return parser.parse_args(argv)


@contextmanager
def fresh_store(args: argparse.Namespace) -> Iterator[str]:
    """A new empty store of the chosen kind; its URL."""
    with sqlite_store() if args.store == "sqlite" else postgres_store(args.pg_url) as url:
        yield url


def cycle_part(args: argparse.Namespace, posts: int) -> dict[str, float]:
    """Parts 1, 2 and 4, each county on its own fresh store; prints the profile if asked."""
    emit(f"{args.store}: month-end cycle, {posts} posts")
    with fresh_store(args) as url:
        batched_cycles, raw_s = batched_months(url, posts, profile=args.profile)
    with fresh_store(args) as url:
        cycles = Cycles(batched_cycles, per_command_month(url, posts), raw_s)
    profiled = batched_cycles.get(PROFILED)
    if profiled is not None:
        slowest = max(cycles.batched[AT_4N].phases.items(), key=lambda kv: kv[1])
        emit()
        emit(f"profile of {slowest[0]} (the slowest phase at 4N, {slowest[1]:.2f} s), month 6:")
        emit(profiled.profile)
    return cycle_figures(cycles)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse(argv)
    posts = 1000 if args.quick else args.posts
    if args.store == "postgresql":
        why = postgres_reachable(args.pg_url)
        if why is not None:
            emit(f"PostgreSQL is not reachable at {args.pg_url}: {why}")
            return 1
    started = time.perf_counter()
    figures: dict[str, Any] = {"store": args.store, "posts": posts}
    if args.only != "api":
        figures |= cycle_part(args, posts)
    if args.only != "cycle":
        emit(f"{args.store}: API, claims at {', '.join(map(str, CLIENTS))} clients")
        on, off, tracebacks = api_runs(args.store, args.pg_url, quick=args.quick)
        figures |= api_figures(on, off)
        for line in tracebacks[:10]:
            emit(f"  server log: {line}")
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["targets"] = {k: verdict(k, float(figures[k]))[:4] for k in TARGETS if k in figures}
    report(figures)
    emit(f"total {figures['seconds']} s")
    if args.json:
        emit(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
