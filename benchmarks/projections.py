# ruff: noqa: INP001 - a script run by path (python benchmarks/projections.py), not a package
"""Projector rebuild throughput: batch transactions against one commit per event.

Builds a fresh store per backend (a temporary SQLite file; a PostgreSQL schema in a
throwaway database), fills it with a realistic log through the ledger's own commands
(counties of post holders paid month by month, with rejections, failed payments and
re-issues, recoveries, exits, income reports and fund top-ups), then times
``Projector.rebuild`` at several batch sizes and per view. Every rate is compared with
batch size 1 measured in the same process on the same store: per-event transactions,
which is what a tracking commit per event costs. The read + decode rate of the
notification log is the ceiling no projector can beat.

``--holders N`` puts N post holders in each county (default 20): the posts of a county share
one region, so a large N shows what the per-region fraud rules cost as a region grows.
``--quick`` leaves out the slow batch-1 rows: all views and each view at batch 500, and
read + decode.

Run: ``.venv/bin/python benchmarks/projections.py [--events N] [--backend sqlite|postgres|both]
[--holders N] [--quick]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from stores import postgres_reachable, postgres_store, settings_for, sqlite_store

from disburse.access.context import Context
from disburse.application.payouts import BankResult
from disburse.bootstrap import initialise, open_system
from disburse.domain.batch import Outcome
from disburse.domain.fund import FundSource
from disburse.domain.identity import check_digit
from disburse.domain.meta import Role
from disburse.domain.months import Month
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.post import ExitReason, InsuranceKind
from disburse.domain.site import SiteKind
from disburse.readside.base import event_type
from disburse.readside.runner import Projector

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from uuid import UUID

    from eventsourcing.persistence import Notification

    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views

DEFAULT_EVENTS = 20_000
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
TODAY = date(2024, 12, 31)
YEAR = 2024
MONTHS = 6  # stipend months per county
HOLDERS = 20  # post holders per county
STIPEND_FEN = 150_000
DAYS_REQUIRED = 22
VIEWS = ("balances", "queue", "alerts", "audit")
BATCH_SIZES = (1, 50, 500)
PER_VIEW_BATCH = 500
READ_PAGE = 500
# Deterministic variety: one holder in every EVERY[...] does the less common thing.
EVERY_SHARED_ACCOUNT = 10
EVERY_INCOME = 7
EVERY_SHORT_MONTH = 5
EVERY_REJECTED = 23
EVERY_FAILED = 17
EVERY_RECOVERED = 13
EVERY_EXIT = 9
EXIT_AFTER = 3  # months worked before the exits


def emit(line: str = "") -> None:
    """Print one line of the report."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- actors -----------------------------------------------------------------------------------


def clerk() -> Context:
    """The clerk who registers people and records attendance."""
    return Context(actor_id="clerk-1", role=Role.CLERK, client_id="bench")


def finance() -> Context:
    """The finance officer who allocates, approves and pays (never the requester)."""
    return Context(actor_id="finance-1", role=Role.FINANCE, client_id="bench")


# -- the log ----------------------------------------------------------------------------------


@dataclass
class County:
    """One county's fund, its village, and the post holders it pays."""

    region: str
    fund_id: UUID
    village_id: UUID
    holders: list[tuple[UUID, UUID]] = field(default_factory=list)  # (post, person)
    exited: set[UUID] = field(default_factory=set)  # posts


def resident_id(region: str, serial: int) -> str:
    """A valid 18-character resident ID, distinct for each ``serial`` below 1000 in a region."""
    born = date(1970 + serial // 1000 % 28, 1 + serial % 12, 1 + serial % 28)
    first17 = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def open_county(ledger: Ledger, number: int, holders: int = HOLDERS) -> County:
    """A county (2202xx, 2203xx, ...) with its fund, a village and ``holders`` staffed posts."""
    region = f"22{2 + number // 99:02d}{1 + number % 99:02d}"
    fund_id = ledger.funds.allocate(
        finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=region,
        year=YEAR,
        amount_fen=holders * MONTHS * STIPEND_FEN,
    )
    village = ledger.posts.register_site(
        clerk(), region_code=region, kind=SiteKind.VILLAGE, name="东风村", population=1200
    )
    county = County(region, fund_id, village)
    account = ""
    for serial in range(holders):
        rid = resident_id(region, serial)
        if serial % EVERY_SHARED_ACCOUNT != EVERY_SHARED_ACCOUNT - 1:
            account = f"62220202{rid[-8:-1]}0"  # otherwise shares the previous one's account
        person_id = ledger.people.register(
            clerk(),
            resident_id=rid,
            name="测试人",
            home_region=region,
            poverty_status=PovertyStatus.LIFTED,
            labour_capacity=LabourCapacity.WEAK,
            household_id=f"H-{rid[-6:]}",
            bank_account=account,
        ).person_id
        post_id = ledger.posts.create_post(
            clerk(),
            site_id=village,
            title="保洁员",
            stipend_fen=STIPEND_FEN,
            fund_id=fund_id,
            part_time=False,
        )
        ledger.posts.appoint(
            clerk(),
            post_id,
            person_id=person_id,
            term_start=date(YEAR, 1, 1),
            term_end=date(YEAR, 12, 31),
        )
        ledger.posts.record_insurance(
            clerk(),
            post_id,
            kind=InsuranceKind.ACCIDENT,
            policy_number=f"PICC-{YEAR}-{serial:03d}",
            insurer="PICC",
            valid_from=date(YEAR, 1, 1),
            valid_to=date(YEAR, 12, 31),
        )
        county.holders.append((post_id, person_id))
    return county


def pay_month(ledger: Ledger, county: County, month: Month) -> None:
    """Attendance, approval, a payment batch and its bank results for one month."""
    approved: list[UUID] = []
    for serial, (post_id, person_id) in enumerate(county.holders):
        if post_id in county.exited:
            continue
        if serial % EVERY_INCOME == 0:
            ledger.people.report_income(
                clerk(), person_id, month=month, amount_fen=30_000, source="flexible work"
            )
        short = serial % EVERY_SHORT_MONTH == 0
        payout = ledger.posts.record_attendance(
            clerk(),
            post_id,
            month=month,
            days_worked=DAYS_REQUIRED - 2 if short else DAYS_REQUIRED,
            days_required=DAYS_REQUIRED,
        )
        if payout is None:
            continue
        ledger.payouts.approve(finance(), payout)
        if (serial + month.month) % EVERY_REJECTED == 0:
            ledger.payouts.reject(finance(), payout, reason="duplicate attendance sheet")
        else:
            approved.append(payout)
    failed = [p for i, p in enumerate(approved) if (i + month.month) % EVERY_FAILED == 0]
    _pay(ledger, county, approved, failed)
    for payout in failed:
        person_id = ledger.payouts.get(payout).beneficiary_id
        account = f"6228{uuid.uuid5(county.fund_id, str(payout)).int % 10**12:012d}"
        ledger.people.change_bank_account(
            clerk(), person_id, bank_account=account, reason="the old account was closed"
        )
        ledger.payouts.reissue(finance(), payout, account=account, reason="new account")
    if failed:
        _pay(ledger, county, failed, [])
    for i, payout in enumerate(approved):
        if (i + month.month) % EVERY_RECOVERED == 0:
            ledger.payouts.order_recovery(
                finance(), payout, amount_fen=10_000, case_reference="CASE-1", reason="absences"
            )
            ledger.payouts.record_recovery(
                finance(), payout, amount_fen=10_000, received_on=month.last_day
            )
    ledger.funds.top_up(
        finance(), county.fund_id, amount_fen=STIPEND_FEN, reason="supplementary allocation"
    )


def _pay(ledger: Ledger, county: County, payouts: list[UUID], failed: list[UUID]) -> None:
    if not payouts:
        return
    batch = ledger.payouts.release_batch(finance(), fund_id=county.fund_id, payout_ids=payouts)
    amounts = [ledger.payouts.get(p).amount_fen for p in payouts]
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
        control_total_fen=sum(amounts),
    )


def exits(ledger: Ledger, county: County, month: Month) -> None:
    """Some holders leave at the end of ``month``."""
    for serial, (post_id, _) in enumerate(county.holders):
        if serial % EVERY_EXIT == EVERY_EXIT - 1:
            ledger.posts.exit(
                clerk(), post_id, reason=ExitReason.VOLUNTARY, effective_on=month.last_day
            )
            county.exited.add(post_id)


def fill(ledger: Ledger, events: int, holders: int = HOLDERS) -> list[int]:
    """Run whole counties until the log holds at least ``events`` events.

    Returns the head of the log after each county. Each county's story is complete
    before the next begins, so a prefix of the log that ends at a county boundary has
    the same mix of event types as the whole log.
    """
    initialise(ledger)
    boundaries: list[int] = []
    while head(ledger) < events:
        county = open_county(ledger, len(boundaries), holders)
        for m in range(1, MONTHS + 1):
            pay_month(ledger, county, Month(YEAR, m))
            if m == EXIT_AFTER:
                exits(ledger, county, Month(YEAR, m))
        boundaries.append(head(ledger))
    return boundaries


def head(ledger: Ledger) -> int:
    """Position of the last event in the log."""
    return ledger.store.recorder.max_notification_id() or 0


def event_mix(ledger: Ledger, limit: int) -> Counter[str]:
    """How many events of each type the first ``limit`` events hold."""
    counts: Counter[str] = Counter()
    for notification in read_log(ledger, limit):
        counts[event_type(ledger.store.mapper.to_domain_event(notification))] += 1
    return counts


def read_log(ledger: Ledger, limit: int) -> Iterator[Notification]:
    """The first ``limit`` notifications, page by page."""
    recorder = ledger.store.recorder
    last = 0
    while last < limit:
        page = recorder.select_notifications(
            start=last, limit=READ_PAGE, stop=limit, inclusive_of_start=False
        )
        if not page:
            return
        yield from page
        last = page[-1].id


# -- measurements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One measured line of the table."""

    what: str
    batch: int | None
    events: int
    seconds: float
    baseline: float | None = None  # events/s of the row this one is compared with

    @property
    def rate(self) -> float:
        """Events per second."""
        return self.events / self.seconds

    @property
    def ratio(self) -> str:
        """Speed-up against the baseline row."""
        return "" if self.baseline is None else f"{self.rate / self.baseline:.1f}x"


class CappedProjector(Projector):
    """A projector that treats position ``cap`` as the head of the log.

    ``rebuild`` then replays the first ``cap`` events only, through exactly the same
    code path; with ``cap`` at the head it is the plain projector. The slow per-event
    rows use it to replay a prefix of the log.
    """

    def __init__(self, base: Projector, *, cap: int, batch_size: int) -> None:
        super().__init__(base.store, base.db, list(base.views.values()), batch_size=batch_size)
        self.cap = cap

    def head(self) -> int:
        """The real head, or the cap if lower."""
        return min(super().head(), self.cap)


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """The shortest of ``repeats`` timed runs, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def time_rebuild(
    views: Views, names: Sequence[str], batch: int, events: int, repeats: int
) -> float:
    """Best time of ``Projector.rebuild(names)`` over the first ``events`` events."""
    projector = CappedProjector(views.projector, cap=events, batch_size=batch)

    def run() -> None:
        done = projector.rebuild(names)
        if done != events:
            raise RuntimeError(f"rebuilt {done} events, expected {events}")

    return best_of(repeats, run)


def time_read(ledger: Ledger, events: int, repeats: int) -> float:
    """Best time to read and decode the first ``events`` notifications."""
    mapper = ledger.store.mapper

    def run() -> None:
        decoded = 0
        for notification in read_log(ledger, events):
            mapper.to_domain_event(notification)
            decoded += 1
        if decoded != events:
            raise RuntimeError(f"decoded {decoded} events, expected {events}")

    return best_of(repeats, run)


def bench(
    ledger: Ledger, views: Views, *, small: int, repeats: int, quick: bool = False
) -> list[Row]:
    """Every row of the table for one store; the batch-1 rows replay ``small`` events.

    ``quick``: no batch-1 rows (the batch-500 rows then have no baseline).
    """
    total = head(ledger)
    rows: list[Row] = []
    if quick:
        emit(f"  all views: batch {PER_VIEW_BATCH} on {total} events ...")
        seconds = time_rebuild(views, VIEWS, PER_VIEW_BATCH, total, repeats)
        rows.append(Row("all views", PER_VIEW_BATCH, total, seconds))
        for name in VIEWS:
            emit(f"  {name}: batch {PER_VIEW_BATCH} on {total} events ...")
            seconds = time_rebuild(views, [name], PER_VIEW_BATCH, total, repeats)
            rows.append(Row(name, PER_VIEW_BATCH, total, seconds))
        emit(f"  read + decode on {total} events ...")
        seconds = time_read(ledger, total, repeats)
        rows.append(Row("read + decode (ceiling)", None, total, seconds))
        return rows
    emit(f"  all views: batch 1 on {small} events ...")
    seconds = time_rebuild(views, VIEWS, 1, small, repeats)
    base = small / seconds
    rows.append(Row("all views", 1, small, seconds))
    for batch in BATCH_SIZES[1:]:
        emit(f"  all views: batch {batch} on {total} events ...")
        seconds = time_rebuild(views, VIEWS, batch, total, repeats)
        rows.append(Row("all views", batch, total, seconds, base))
    for name in VIEWS:
        emit(f"  {name}: batch 1 on {small} events, batch {PER_VIEW_BATCH} on {total} ...")
        seconds = time_rebuild(views, [name], 1, small, repeats)
        rows.append(Row(name, 1, small, seconds))
        view_base = small / seconds
        seconds = time_rebuild(views, [name], PER_VIEW_BATCH, total, repeats)
        rows.append(Row(name, PER_VIEW_BATCH, total, seconds, view_base))
    emit(f"  read + decode on {total} events ...")
    seconds = time_read(ledger, total, repeats)
    rows.append(Row("read + decode (ceiling)", None, total, seconds, base))
    return rows


# -- stores -----------------------------------------------------------------------------------


def run_backend(backend: str, url: str, args: argparse.Namespace) -> list[Row]:
    """Fill a fresh store and measure it."""
    settings = settings_for(url)
    with open_system(settings, today=lambda: TODAY) as system:
        ledger = system.ledger
        started = time.perf_counter()
        boundaries = fill(ledger, args.events, args.holders)
        total = boundaries[-1]
        emit(
            f"{backend}: {total} events (counties: {len(boundaries)}) written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        mix = event_mix(ledger, total)
        top = ", ".join(f"{name} {count}" for name, count in mix.most_common(6))
        emit(f"  {len(mix)} event types; most common: {top}")
        # The per-event rows replay whole counties only, so their mix is the log's mix.
        small = next((b for b in boundaries if b >= args.small), total)
        return bench(ledger, system.views, small=small, repeats=args.repeats, quick=args.quick)


def table(backend: str, rows: Sequence[Row]) -> None:
    """The results of one backend."""
    emit()
    emit(f"{backend}")
    header = (
        f"{'views':<24} {'batch':>5} {'events':>7} {'best s':>8} {'events/s':>9} {'vs batch 1':>10}"
    )
    emit(header)
    emit("-" * len(header))
    for row in rows:
        batch = "-" if row.batch is None else str(row.batch)
        emit(
            f"{row.what:<24} {batch:>5} {row.events:>7} {row.seconds:>8.2f} "
            f"{row.rate:>9.0f} {row.ratio:>10}"
        )
    emit(
        "vs batch 1: events/s against the same views at batch size 1 "
        "(read + decode: against all views at batch size 1)"
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="log size (about)")
    parser.add_argument(
        "--small",
        type=int,
        default=5_000,
        help="about how many events the slow batch-1 rows replay (whole counties, from the "
        "start of the log)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per row; the best counts")
    parser.add_argument(
        "--holders",
        type=int,
        default=HOLDERS,
        help="post holders per county (one region): more shows the per-region rules' cost",
    )
    parser.add_argument(
        "--quick", action="store_true", help="leave out the batch-1 rows (batch 500 only)"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DISBURSE_BENCH_POSTGRES_URL", DEFAULT_PG),
        help="an administrative URL; a throwaway database is created and dropped there",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse(argv)
    results: dict[str, list[Row]] = {}
    if args.backend in {"sqlite", "both"}:
        with sqlite_store() as url:
            results["sqlite"] = run_backend("sqlite", url, args)
    if args.backend in {"postgres", "both"}:
        problem = postgres_reachable(args.pg_url)
        if problem is not None:
            emit(f"postgres: skipped, {args.pg_url} is unreachable ({problem})")
            if args.backend == "postgres":
                return 1
        else:
            with postgres_store(args.pg_url) as url:
                results["postgres"] = run_backend("postgres", url, args)
    for backend, rows in results.items():
        table(backend, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
