# ruff: noqa: INP001 - a script run by path (python benchmarks/readside.py), not a package
"""The read side against same-run baselines: rebuild, catch-up, queries, verify, memory.

One run on one store (a temporary SQLite file, or a throwaway PostgreSQL database) gives
the figures of issue 17, each beside a baseline of the same run:

1. **Rebuild** of all views (``Projector.rebuild``) in events/s over the first county
   (N events), against reading and decoding the same log (``select_notifications`` in
   pages of 500 plus ``mapper.to_domain_event``): ``rebuild_vs_decode``. Both run in a
   child process (``--child-rebuild``), the read first, so the parent's caches and
   memory stay out of it.
2. **Catch-up**: a live projector behind by N. The views stand at the end of county 1
   while three more counties are written (only the roster, which the monthly run needs,
   is kept current); ``Projector.catch_up`` then applies county 2 (about N events) to
   views that already hold county 1.
3. **Queries** at 32 client threads against the real server (``disburse serve``, one
   process, on the N-event store): the payout queue (``GET /v1/payouts?limit=50``), the
   alerts (``GET /v1/alerts?limit=50``), one fund's balance and one post's audit trail
   (``limit=50``), each with its request rate, p50 and p99, against the same server's
   ``/healthz`` at 32 (``queue_vs_healthz_32``).
4. **Verify**: ``audit.verify.verify`` (what ``disburse audit verify`` runs) in events/s
   over the N-event log, against a raw read of the same rows of the events table with
   plain ``sqlite3`` or ``psycopg`` in pages of ``verify.PAGE`` (best of 3 each):
   ``verify_vs_read``.
5. **Memory**: the peak RSS of the rebuild at N (the child of part 1) and of a rebuild of
   the whole 4N log in another child (``VmHWM`` reset through ``/proc/self/clear_refs``
   after the read baseline): ``rebuild_rss_growth_4n`` is the second over the first.

The log is made of counties written through the ordinary services, a chunk of commands
per transaction (``LedgerStore.transact_each``), like ``throughput.py``: each county (its
own region 2202xx) has a stipend fund and a grant fund, a village, P people (one in ten
sharing the previous one's bank account: ``FRAUD-SHARED-ACCOUNT``) on P insured posts
(one in 25 paid half as much again: ``FRAUD-PAY-OUTLIER``), M months of attendance, the
monthly run, rejections, bulk approval, a payment batch and its bank results with
failures (an account change, a re-issue, a second batch), recoveries, income reports,
exits after month 3 and a monthly top-up. The last month is requested and left in the
queue. One person in five claims a transport grant (for work in Guangdong: a claim for
the home province is refused by the domain, so ``FRAUD-SAME-PROVINCE`` never fires). P
and M are chosen so a county is about N events.

Targets are printed beside the figures (PASS/MISS). ``--profile`` rebuilds county 1 once
more in a child under cProfile, apart from the figures. The machine is noisy: only the
ratios to baselines of the same run mean much.

Run: ``.venv/bin/python benchmarks/readside.py --store sqlite|postgresql [--events N]
[--quick] [--json] [--profile]``. By hand, not in CI. ``--quick`` (N about 10,000, smaller
loads) takes a few minutes per store on the 2-core machine of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from projections import CappedProjector, read_log
from pydantic import SecretStr
from stores import postgres_reachable, postgres_store, settings_for, sqlite_store
from throughput import (
    Call,
    Load,
    PeakRss,
    admin,
    chunked,
    clerk,
    drive,
    finance,
    grant_catalogue,
    load_line,
    profile_text,
    serving,
)

from disburse.application.monthly import run_month
from disburse.application.payouts import Approval, BankResult
from disburse.audit.verify import PAGE, verify
from disburse.bootstrap import initialise, open_system
from disburse.domain.batch import Outcome
from disburse.domain.fund import FundSource
from disburse.domain.identity import check_digit
from disburse.domain.meta import Role
from disburse.domain.months import Month
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.post import ExitReason, InsuranceKind
from disburse.domain.site import SiteKind
from disburse.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.application.monthly import Roster
    from disburse.bootstrap import System
    from disburse.readside.views import Views

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET_ENV = "DISBURSE_BENCH_SECRET"  # noqa: S105 - a variable's name; the store's key, handed to the child processes
TODAY = date(2024, 12, 31)
YEAR = 2024
STIPEND_FEN = 150_000
GRANT_FEN = 50_000
DAYS = 22
COUNTIES = 4  # the log at 4N; county 1 is N, county 2 the catch-up
EVENTS_PER_POST = 7  # set-up events per post (person, post, site, seat, appointment, ...)
EVENTS_PER_POST_MONTH = 8  # attendance, request, approval, commitment, batch, payment, ...
# Deterministic variety: one holder in every EVERY[...] does the less common thing.
EVERY_SHARED_ACCOUNT = 10
EVERY_OUTLIER = 25
EVERY_INCOME = 7
EVERY_SHORT_MONTH = 5
EVERY_REJECTED = 23
EVERY_FAILED = 17
EVERY_RECOVERED = 13
EVERY_EXIT = 9
EVERY_GRANT = 5
EXIT_AFTER = 3
CLIENTS = 32
PAGE_SIZE = 50
TARGETS = {  # figure: (comparison, threshold)
    "rebuild_vs_decode": (">=", 0.5),
    "queue_p99_ms_32": ("<", 100.0),
    "queue_vs_healthz_32": (">=", 0.20),
    "alerts_p99_ms_32": ("<", 100.0),
    "alerts_vs_healthz_32": (">=", 0.20),
    "verify_vs_read": (">=", 0.70),
    "rebuild_rss_growth_4n": ("<=", 1.2),
}
PG_TARGETS = {"rebuild_events_per_s": (">=", 1_000_000 / 120)}  # a million in 2 minutes


def emit(line: str = "") -> None:
    """Print one line of the report."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- the counties -----------------------------------------------------------------------------


@dataclass
class County:
    """One county's region, funds, village, and its post holders."""

    region: str
    fund_id: UUID
    grant_fund_id: UUID
    village_id: UUID
    posts: list[UUID] = field(default_factory=list)
    people: list[UUID] = field(default_factory=list)
    exited: set[UUID] = field(default_factory=set)


@dataclass(frozen=True)
class Shape:
    """Posts and months of a county of about ``events`` events."""

    posts: int
    months: int

    @classmethod
    def of(cls, events: int) -> Shape:
        """Six months up to 20,000 events, twelve above; as many posts as it takes."""
        months = 6 if events <= 20_000 else 12  # noqa: PLR2004 - a small county is half a year
        per_post = EVENTS_PER_POST + EVENTS_PER_POST_MONTH * months
        return cls(max(20, round(events / per_post)), months)


@dataclass
class RosterOnly:
    """The monthly run's worklist, catching up the roster alone: the other views lag."""

    views: Views

    @property
    def roster(self) -> Roster:
        """The roster the run reads."""
        return self.views.roster

    def catch_up(self) -> int:
        """Bring the roster (only) up to date."""
        return self.views.projector.catch_up(names=["roster"])


def resident_id(region: str, serial: int) -> str:
    """A valid resident ID, distinct for each ``serial`` below 28,000 in a region."""
    born = date(1970 + serial // 1000, 1 + serial % 12, 1 + serial % 28)
    first17 = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def open_county(ledger: Ledger, number: int, shape: Shape) -> County:
    """Region 2202xx: funds, a village, ``shape.posts`` people on staffed, insured posts."""
    region = f"2202{number + 1:02d}"
    fund_id = ledger.funds.allocate(
        finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=region,
        year=YEAR,
        amount_fen=shape.posts * shape.months * STIPEND_FEN * 2,
    )
    grant_fund_id = ledger.funds.allocate(
        finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=region,
        year=YEAR,
        amount_fen=shape.posts * GRANT_FEN,
    )
    village = ledger.posts.register_site(
        clerk(), region_code=region, kind=SiteKind.VILLAGE, name="东风村", population=5000
    )
    county = County(region, fund_id, grant_fund_id, village)
    county.people = chunked(ledger, range(shape.posts), lambda s: register(ledger, region, s))
    county.posts = chunked(ledger, range(shape.posts), lambda s: create_post(ledger, county, s))
    staff(ledger, county)
    return county


def register(ledger: Ledger, region: str, serial: int) -> UUID:
    """A lifted-out person of the county; one in ten shares the previous one's account."""
    rid = resident_id(region, serial)
    shared = serial % EVERY_SHARED_ACCOUNT == EVERY_SHARED_ACCOUNT - 1
    owner = resident_id(region, serial - 1) if shared else rid
    return ledger.people.register(
        clerk(),
        resident_id=rid,
        name="测试人",
        home_region=region,
        poverty_status=PovertyStatus.LIFTED,
        labour_capacity=LabourCapacity.WEAK,
        household_id=f"H-{rid[-6:]}",
        bank_account=f"62220202{owner[-8:-1]}0",
    ).person_id


def create_post(ledger: Ledger, county: County, serial: int) -> UUID:
    """A full-time post of the village; one in 25 pays half as much again."""
    outlier = serial % EVERY_OUTLIER == EVERY_OUTLIER - 1
    return ledger.posts.create_post(
        clerk(),
        site_id=county.village_id,
        title="保洁员",
        stipend_fen=STIPEND_FEN * 3 // 2 if outlier else STIPEND_FEN,
        fund_id=county.fund_id,
        part_time=False,
    )


def staff(ledger: Ledger, county: County) -> None:
    """Appoint each person to a post for the year and insure the post."""
    term = {"term_start": date(YEAR, 1, 1), "term_end": date(YEAR, 12, 31)}
    chunked(
        ledger,
        zip(county.posts, county.people, strict=True),
        lambda pair: ledger.posts.appoint(clerk(), pair[0], person_id=pair[1], **term),
    )
    chunked(
        ledger,
        enumerate(county.posts),
        lambda item: ledger.posts.record_insurance(
            clerk(),
            item[1],
            kind=InsuranceKind.ACCIDENT,
            policy_number=f"PICC-{county.region}-{item[0]:05d}",
            insurer="PICC",
            valid_from=date(YEAR, 1, 1),
            valid_to=date(YEAR, 12, 31),
        ),
    )


def attend(system: System, county: County, month: Month) -> list[UUID]:
    """Income reports and attendance of the month, then the monthly run; the payouts."""
    ledger = system.ledger
    live = [(i, p) for i, p in enumerate(county.posts) if p not in county.exited]
    chunked(
        ledger,
        [county.people[i] for i, _ in live if i % EVERY_INCOME == 0],
        lambda person: ledger.people.report_income(
            clerk(), person, month=month, amount_fen=30_000, source="flexible work"
        ),
    )
    chunked(
        ledger,
        live,
        lambda item: ledger.posts.log_attendance(
            clerk(),
            item[1],
            month=month,
            days_worked=DAYS - 2 if item[0] % EVERY_SHORT_MONTH == 0 else DAYS,
            days_required=DAYS,
        ),
    )
    run = run_month(ledger, RosterOnly(system.views), clerk(), month=month, region=county.region)
    if run.refusals or run.requested != len(live):
        raise SystemExit(f"{month}: {run.requested} requested, {run.refusals_by_rule()}")
    return run.requested_ids


def pay_month(system: System, county: County, month: Month) -> None:
    """Reject some, approve the rest, pay them (some fail, are re-issued), recover, top up."""
    ledger = system.ledger
    requested = attend(system, county, month)
    rejected = {p for i, p in enumerate(requested) if (i + month.month) % EVERY_REJECTED == 0}
    chunked(
        ledger, rejected, lambda p: ledger.payouts.reject(finance(), p, reason="duplicate sheet")
    )
    approved = [p for p in requested if p not in rejected]
    outcomes = ledger.payouts.approve_many(finance(), [Approval(p) for p in approved])
    if any(a.refusal is not None for a in outcomes):
        raise SystemExit(f"{month}: bulk approval refused some payouts")
    failed = [p for i, p in enumerate(approved) if (i + month.month) % EVERY_FAILED == 0]
    pay(ledger, county, approved, set(failed))
    chunked(ledger, failed, lambda p: reissue(ledger, county, p))
    pay(ledger, county, failed, set())
    recovered = [p for i, p in enumerate(approved) if (i + month.month) % EVERY_RECOVERED == 0]
    chunked(ledger, recovered, lambda p: recover(ledger, p, month))
    ledger.funds.top_up(finance(), county.fund_id, amount_fen=STIPEND_FEN, reason="top-up")
    if month.month == EXIT_AFTER:
        leaving = [p for i, p in enumerate(county.posts) if i % EVERY_EXIT == EVERY_EXIT - 1]
        chunked(
            ledger,
            leaving,
            lambda p: ledger.posts.exit(
                clerk(), p, reason=ExitReason.VOLUNTARY, effective_on=month.last_day
            ),
        )
        county.exited.update(leaving)


def pay(ledger: Ledger, county: County, payouts: list[UUID], failed: set[UUID]) -> None:
    """One payment batch and the bank's results: paid, or failed for ``failed``."""
    if not payouts:
        return
    batch = ledger.payouts.release_batch(finance(), fund_id=county.fund_id, payout_ids=payouts)
    ledger.payouts.record_results(
        finance(),
        batch,
        results=[
            BankResult(p, Outcome.FAILED, reason="account closed")
            if p in failed
            else BankResult(p, Outcome.PAID, bank_reference=f"BOC-{p.hex[:8]}")
            for p in payouts
        ],
        control_count=len(payouts),
        control_total_fen=sum(ledger.payouts.get(p).amount_fen for p in payouts),
    )


def reissue(ledger: Ledger, county: County, payout_id: UUID) -> None:
    """The payee's new account, and the failed payout re-issued to it."""
    person_id = ledger.payouts.get(payout_id).beneficiary_id
    account = f"6228{payout_id.int % 10**12:012d}"
    ledger.people.change_bank_account(
        clerk(), person_id, bank_account=account, reason=f"closed ({county.region})"
    )
    ledger.payouts.reissue(finance(), payout_id, account=account, reason="new account")


def recover(ledger: Ledger, payout_id: UUID, month: Month) -> None:
    """A partial recovery ordered and received."""
    ledger.payouts.order_recovery(
        finance(), payout_id, amount_fen=10_000, case_reference="CASE-1", reason="absences"
    )
    ledger.payouts.record_recovery(
        finance(), payout_id, amount_fen=10_000, received_on=month.last_day
    )


def claim_grants(ledger: Ledger, county: County) -> None:
    """One person in five claims a transport grant for work in Guangdong."""
    chunked(
        ledger,
        county.people[::EVERY_GRANT],
        lambda person: ledger.grants.claim(
            clerk(),
            person_id=person,
            work_province="44",
            employer="深圳某电子厂",
            started_on=date(YEAR, 1, 15),
            months_worked=4,
            evidence_ref="contract-2024-001",
            external_claim_id=f"BENCH-{person}",
        ),
    )


def write_county(system: System, number: int, shape: Shape) -> County:
    """A whole county's year: set-up, every month paid but the last, which is queued."""
    ledger = system.ledger
    county = open_county(ledger, number, shape)
    for m in range(1, shape.months):
        pay_month(system, county, Month(YEAR, m))
    attend(system, county, Month(YEAR, shape.months))  # requested: awaiting a decision
    claim_grants(ledger, county)
    return county


def head(ledger: Ledger) -> int:
    """Position of the last event in the log."""
    return ledger.store.recorder.max_notification_id() or 0


@dataclass
class Store:
    """The store's settings, its API key, the first county and the log's county boundaries."""

    settings: Settings
    key: str
    first: County
    boundaries: list[int] = field(default_factory=list)


def start_store(url: str, shape: Shape) -> Store:
    """Catalogue, a reader's key and county 1 (N events); the views other than roster at 0."""
    settings = settings_for(url)
    with open_system(settings, today=lambda: TODAY) as system:
        ledger = system.ledger
        initialise(ledger)
        ledger.policy.publish(admin(), grant_catalogue(), reason="bench grant amounts")
        issued = system.clients.create(
            admin(), name="bench-reader", role=Role.INSPECTOR, region_code="2202"
        )
        first = write_county(system, 0, shape)
        return Store(settings, issued.key, first, [head(ledger)])


def extend_store(store: Store, shape: Shape) -> None:
    """Counties 2 to 4, keeping only the roster current."""
    with open_system(store.settings, today=lambda: TODAY) as system:
        for number in range(1, COUNTIES):
            write_county(system, number, shape)
            store.boundaries.append(head(system.ledger))


# -- part 1 and 5: rebuild in a child process -------------------------------------------------


def child_rebuild(url: str, cap: int, *, profile: bool) -> dict[str, Any]:
    """In the child: read + decode the first ``cap`` events, then rebuild all views over them."""
    secret = SecretStr(os.environ[SECRET_ENV])
    settings = Settings(env="test", database_url=url, secret_key=secret)
    with open_system(settings, today=lambda: TODAY) as system:
        mapper = system.ledger.store.mapper
        started = time.perf_counter()
        decoded = 0
        for notification in read_log(system.ledger, cap):
            mapper.to_domain_event(notification)
            decoded += 1
        read_s = time.perf_counter() - started
        projector = CappedProjector(system.views.projector, cap=cap, batch_size=500)
        rss = PeakRss()
        rss.reset()
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        done = projector.rebuild()
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - started
        peak = rss.peak_mb()
    if profiler is not None:
        emit(profile_text(profiler))
    return {
        "events": cap,
        "decoded": decoded,
        "rebuilt": done,
        "read_s": read_s,
        "rebuild_s": seconds,
        "start_rss_mb": rss.start_mb,
        "peak_rss_mb": peak,
        "exact_rss": rss.exact,
    }


def rebuild_in_child(store: Store, cap: int, *, profile: bool = False) -> dict[str, Any]:
    """Run :func:`child_rebuild` in a fresh interpreter; its figures (its other output echoed)."""
    secret = store.settings.secret_key
    env = os.environ | {SECRET_ENV: secret.get_secret_value() if secret else ""}
    command = [sys.executable, __file__, "--child-rebuild", str(cap)]
    command += ["--url", store.settings.database_url] + (["--profile"] if profile else [])
    done = subprocess.run(  # noqa: S603 - this script
        command, env=env, capture_output=True, text=True, check=False
    )
    lines = done.stdout.splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the rebuild child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    for line in lines[:-1]:
        emit(line)
    figures: dict[str, Any] = json.loads(lines[-1])
    if figures["rebuilt"] != cap or figures["decoded"] != cap:
        raise SystemExit(f"the child rebuilt {figures['rebuilt']} of {cap} events")
    return figures


def rebuild_line(label: str, child: dict[str, Any]) -> str:
    """One rebuild: its rate, the read + decode rate, the memory."""
    events = child["events"]
    return (
        f"  {label:<14} {events:>7} events: rebuild {events / child['rebuild_s']:8.0f}/s "
        f"({child['rebuild_s']:.2f} s), read + decode {events / child['read_s']:8.0f}/s "
        f"({child['read_s']:.2f} s); peak RSS {child['peak_rss_mb']:.0f} MiB "
        f"(+{child['peak_rss_mb'] - child['start_rss_mb']:.0f})"
    )


# -- part 2: catch-up -------------------------------------------------------------------------


def catch_up(store: Store) -> tuple[int, float]:
    """Views at the end of county 1 catch up county 2; events and seconds."""
    start, until = store.boundaries[0], store.boundaries[1]
    with open_system(store.settings, today=lambda: TODAY) as system:
        projector = system.views.projector
        names = [n for n in projector.views if n != "roster"]  # roster is ahead already
        behind = {n: p for n, p in projector.positions().items() if n in names and p != start}
        if behind:
            raise SystemExit(f"views not at {start} before the catch-up: {behind}")
        started = time.perf_counter()
        done = projector.catch_up(until=until, names=names)
        seconds = time.perf_counter() - started
    return done, seconds


# -- part 3: the queries ----------------------------------------------------------------------


def endpoints(store: Store) -> dict[str, str]:
    """The measured paths: queue, alerts, a fund's balance, a post's trail, /healthz."""
    return {
        "queue": f"/v1/payouts?limit={PAGE_SIZE}",
        "alerts": f"/v1/alerts?limit={PAGE_SIZE}",
        "balance": f"/v1/balances/funds/{store.first.fund_id}",
        "trail": f"/v1/audit/trail/{store.first.posts[0]}?limit={PAGE_SIZE}",
        "healthz": "/healthz",
    }


def queries(store: Store, *, quick: bool) -> tuple[dict[str, Load], list[str]]:
    """Each endpoint at 32 clients against one server; loads, and the log's error lines."""
    count = 960 if quick else 3200
    paths = endpoints(store)
    loads: dict[str, Load] = {}
    with tempfile.TemporaryDirectory(prefix="disburse-serve-") as folder:
        log = Path(folder) / "serve.log"
        with serving(store.settings, log, group_commit=True) as port:
            describe(port, store.key, paths)
            for name, path in paths.items():
                drive(port, store.key, [Call("GET", path)] * CLIENTS, CLIENTS)  # warm up
                calls = [Call("GET", path)] * (count * 4 if name == "healthz" else count)
                loads[name] = drive(port, store.key, calls, CLIENTS)
                emit(load_line(name, loads[name]))
        lines = log.read_text().splitlines()
    return loads, [line for line in lines if "Traceback" in line or "Error" in line]


def describe(port: int, key: str, paths: dict[str, str]) -> None:
    """What the pages hold: the queue's total, how many alerts and trail entries."""
    import http.client  # noqa: PLC0415 - only here

    sizes = []
    for name in ("queue", "alerts", "trail"):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", paths[name], headers={"Authorization": f"Bearer {key}"})
        body = json.loads(connection.getresponse().read())
        connection.close()
        total = f", total {body['total']}" if "total" in body else ""
        sizes.append(f"{name} {len(body.get('items', []))} items{total}")
    emit(f"  pages: {'; '.join(sizes)}")


# -- part 4: verify ---------------------------------------------------------------------------


def verify_vs_read(store: Store, url: str) -> tuple[int, float, float]:
    """Events, best verify seconds and best raw read seconds over the log (3 each, alternated)."""
    with open_system(store.settings, today=lambda: TODAY) as system:
        recorder = system.ledger.store.chained
        table: str = getattr(system.ledger.store.recorder, "events_table_name")  # noqa: B009 - both SQL recorders have it
        verify_s, read_s, checked, rows = [], [], 0, 0
        for _ in range(3):
            started = time.perf_counter()
            report = verify(recorder)
            verify_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            rows = raw_read(url, table)
            read_s.append(time.perf_counter() - started)
            checked = report.checked
            if not report.ok or checked != rows:
                raise SystemExit(f"verify: {report.as_dict()}, raw rows {rows}")
    return checked, min(verify_s), min(read_s)


def raw_read(url: str, table: str) -> int:
    """Every row of the events table, in pages of ``verify.PAGE`` by position; how many."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return paged(lambda after: connection.execute(select(table, "?"), (after,)).fetchall())
        finally:
            connection.close()
    plain, _, schema = url.partition("?schema=")
    with psycopg.connect(plain, autocommit=True) as pg:
        if schema and "." not in table:
            pg.execute(f'SET search_path TO "{schema}"')
        return paged(
            lambda after: pg.execute(select(table, "%s", "notification_id"), (after,)).fetchall()
        )


def select(table: str, marker: str, key: str = "rowid") -> str:
    """One page of the events table after a position."""
    columns = "originator_id, originator_version, topic, state"
    return (
        f"SELECT {key}, {columns} FROM {table} "  # noqa: S608 - the recorder's own table name
        f"WHERE {key} > {marker} ORDER BY {key} LIMIT {PAGE}"
    )


def paged(fetch: Callable[[int], Sequence[Sequence[Any]]]) -> int:
    """Fetch pages until a short one; the rows read."""
    after = count = 0
    while True:
        rows = fetch(after)
        count += len(rows)
        if len(rows) < PAGE:
            return count
        after = rows[-1][0]


# -- the report -------------------------------------------------------------------------------


def targets(store: str) -> dict[str, tuple[str, float]]:
    """The issue's targets for this store."""
    return TARGETS | (PG_TARGETS if store == "postgresql" else {})


def verdict(name: str, value: float, store: str) -> str:
    """PASS or MISS against the figure's target."""
    how, threshold = targets(store)[name]
    ok = {">=": value >= threshold, "<=": value <= threshold, "<": value < threshold}[how]
    return f"{'PASS' if ok else 'MISS'} (target {how} {threshold:g})"


def rebuild_figures(at_n: dict[str, Any], at_4n: dict[str, Any]) -> dict[str, float]:
    """Parts 1 and 5: the rebuild against read + decode, and its memory at N and 4N."""
    rate = at_n["events"] / at_n["rebuild_s"]
    decode = at_n["events"] / at_n["read_s"]
    return {
        "events_n": at_n["events"],
        "events_4n": at_4n["events"],
        "rebuild_events_per_s": round(rate, 1),
        "decode_events_per_s": round(decode, 1),
        "rebuild_vs_decode": round(rate / decode, 3),
        "rebuild_events_per_s_4n": round(at_4n["events"] / at_4n["rebuild_s"], 1),
        "decode_events_per_s_4n": round(at_4n["events"] / at_4n["read_s"], 1),
        "rebuild_rss_mb_n": round(at_n["peak_rss_mb"], 1),
        "rebuild_rss_mb_4n": round(at_4n["peak_rss_mb"], 1),
        "rebuild_rss_start_mb_n": round(at_n["start_rss_mb"], 1),
        "rebuild_rss_start_mb_4n": round(at_4n["start_rss_mb"], 1),
        "rebuild_rss_growth_4n": round(at_4n["peak_rss_mb"] / at_n["peak_rss_mb"], 3),
        "rss_exact": bool(at_n["exact_rss"] and at_4n["exact_rss"]),
    }


def query_figures(loads: dict[str, Load]) -> dict[str, float]:
    """Part 3: each endpoint's rate, p50 and p99 at 32 clients, and its share of /healthz."""
    healthz = loads["healthz"].per_s
    figures: dict[str, float] = {"healthz_per_s_32": round(healthz, 1)}
    for name, load in loads.items():
        if name == "healthz":
            continue
        figures[f"{name}_per_s_32"] = round(load.per_s, 1)
        figures[f"{name}_p50_ms_32"] = round(load.quantile_ms(50), 1)
        figures[f"{name}_p99_ms_32"] = round(load.quantile_ms(99), 1)
        figures[f"{name}_vs_healthz_32"] = round(load.per_s / healthz, 3)
    figures["queries_not_2xx"] = sum(sum(load.failures.values()) for load in loads.values())
    return figures


def report(f: dict[str, Any]) -> None:
    """Each figure with its same-run baseline, the ratio and the target."""
    store = f["store"]
    emit()
    emit(
        f"{store}: N = {f['events_n']} events (county of {f['posts']} posts, {f['months']} "
        f"months), 4N = {f['events_4n']}"
    )
    lines = [
        ("rebuild_events_per_s", f"decode {f['decode_events_per_s']:.0f}/s"),
        ("rebuild_vs_decode", ""),
        ("catchup_events_per_s", f"{f['catchup_vs_decode']:.3f} of decode"),
        ("queue_p99_ms_32", f"p50 {f['queue_p50_ms_32']} ms, {f['queue_per_s_32']}/s"),
        ("queue_vs_healthz_32", f"healthz {f['healthz_per_s_32']}/s"),
        ("alerts_p99_ms_32", f"p50 {f['alerts_p50_ms_32']} ms, {f['alerts_per_s_32']}/s"),
        ("alerts_vs_healthz_32", ""),
        (
            "verify_vs_read",
            f"verify {f['verify_events_per_s']:.0f}/s, read {f['raw_read_rows_per_s']:.0f} rows/s",
        ),
        (
            "rebuild_rss_growth_4n",
            f"{f['rebuild_rss_mb_n']:.0f} -> {f['rebuild_rss_mb_4n']:.0f} MiB peak",
        ),
    ]
    for name, note in lines:
        value = float(f[name])
        mark = verdict(name, value, store) if name in targets(store) else ""
        emit(f"  {name:<24} {value:>10.3f}  {mark:<28} {note}")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--events", type=int, default=50_000, help="events of a county (N)")
    parser.add_argument("--quick", action="store_true", help="N about 10,000, smaller loads")
    parser.add_argument("--json", action="store_true", help="one JSON object as the last line")
    parser.add_argument("--profile", action="store_true", help="cProfile a rebuild of county 1")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DISBURSE_BENCH_POSTGRES_URL", DEFAULT_PG),
        help="an administrative URL; a throwaway database is created and dropped there",
    )
    parser.add_argument("--child-rebuild", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


@contextmanager
def fresh_store(args: argparse.Namespace) -> Iterator[str]:
    """A new empty store of the chosen kind; its URL."""
    with sqlite_store() if args.store == "sqlite" else postgres_store(args.pg_url) as url:
        yield url


def measure(args: argparse.Namespace, url: str, shape: Shape) -> dict[str, Any]:
    """Every part on one store, in order: build N, rebuild, verify, queries, 4N, catch-up."""
    started = time.perf_counter()
    store = start_store(url, shape)
    emit(f"county 1: {store.boundaries[0]} events in {time.perf_counter() - started:.1f} s")
    at_n = rebuild_in_child(store, store.boundaries[0])
    emit(rebuild_line("rebuild at N", at_n))
    if args.profile:
        emit("profile of a rebuild at N (cProfile, in a child):")
        rebuild_in_child(store, store.boundaries[0], profile=True)
    events, verify_s, read_s = verify_vs_read(store, url)
    emit(f"  verify {events} events: {verify_s:.3f} s; raw read of the rows {read_s:.3f} s")
    loads, errors = queries(store, quick=args.quick)
    started = time.perf_counter()
    extend_store(store, shape)
    emit(
        f"counties 2-{COUNTIES}: head {store.boundaries[-1]} in "
        f"{time.perf_counter() - started:.1f} s"
    )
    done, catch_s = catch_up(store)
    emit(f"  catch-up of {done} events: {catch_s:.2f} s ({done / catch_s:.0f}/s)")
    at_4n = rebuild_in_child(store, store.boundaries[-1])
    emit(rebuild_line("rebuild at 4N", at_4n))
    for line in errors[:10]:
        emit(f"  server log: {line}")
    figures: dict[str, Any] = rebuild_figures(at_n, at_4n) | query_figures(loads)
    figures |= {
        "catchup_events": done,
        "catchup_events_per_s": round(done / catch_s, 1),
        "catchup_vs_decode": round(done / catch_s / figures["decode_events_per_s"], 3),
        "verify_events": events,
        "verify_events_per_s": round(events / verify_s, 1),
        "raw_read_rows_per_s": round(events / read_s, 1),
        "verify_vs_read": round(read_s / verify_s, 3),
        "server_log_errors": len(errors),
    }
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with ``--child-rebuild``, one rebuild); the exit status."""
    args = parse(argv)
    if args.child_rebuild is not None:
        emit(json.dumps(child_rebuild(args.url, args.child_rebuild, profile=args.profile)))
        return 0
    if args.store == "postgresql":
        why = postgres_reachable(args.pg_url)
        if why is not None:
            emit(f"PostgreSQL is not reachable at {args.pg_url}: {why}")
            return 1
    shape = Shape.of(10_000 if args.quick else args.events)
    emit(f"{args.store}: counties of {shape.posts} posts and {shape.months} months")
    started = time.perf_counter()
    with fresh_store(args) as url:
        figures = {"store": args.store, "posts": shape.posts, "months": shape.months}
        figures |= measure(args, url, shape)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    chosen = targets(args.store)
    figures["targets"] = {k: verdict(k, float(figures[k]), args.store)[:4] for k in chosen}
    report(figures)
    emit(f"total {figures['seconds']} s")
    if args.json:
        emit(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
