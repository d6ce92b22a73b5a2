# ruff: noqa: INP001 - a script run by path (python benchmarks/command_cost.py), not a package
"""Per-item cost of the month-end commands at N and at 4N of history, in one run.

Builds one county through the ordinary services (a fund, a village, ``--posts`` staffed
posts) and pays it month after month: attendance logged, the monthly run
(``application/monthly.py:run_month``), approvals one by one (``Payouts.approve``), a
payment batch and its bank results. Month 2 is measured with N = posts payouts of
history in the fund; month 5 with 4N. Each sheet and each approval is timed; the per-item
cost is the median item, so a burst of load from elsewhere on a shared machine moves it
little. A command that costs its own work costs the same at both: ``cost_growth_4n``
(per-item cost at 4N / at N, the worse of the two commands) is then about 1.

Run: ``.venv/bin/python benchmarks/command_cost.py [--store sqlite|postgresql] [--quick]
[--json] [--profile]``
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from stores import postgres_store, settings_for, sqlite_store

from disburse.access.context import Context
from disburse.application.monthly import run_month
from disburse.application.payouts import BankResult
from disburse.bootstrap import initialise, open_system
from disburse.domain.batch import Outcome
from disburse.domain.fund import FundSource
from disburse.domain.identity import check_digit
from disburse.domain.meta import Role
from disburse.domain.months import Month
from disburse.domain.person import LabourCapacity, PovertyStatus
from disburse.domain.post import InsuranceKind
from disburse.domain.site import SiteKind

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.bootstrap import System

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
TODAY = date(2024, 12, 31)
YEAR = 2024
REGION = "220221"
STIPEND_FEN = 150_000
DAYS = 22
AT_N, AT_4N = 2, 5  # measured months: history before them is 1 x posts and 4 x posts payouts
PROFILED = AT_4N + 1  # profiled apart: the profiler's own cost stays out of the figures
MONTHS = PROFILED


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


def resident_id(serial: int) -> str:
    """A valid resident ID, distinct for each ``serial`` below 28,000."""
    born = date(1970 + serial // 1000, 1 + serial % 12, 1 + serial % 28)
    first17 = f"{REGION}{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_digit(first17)


@dataclass
class County:
    """The fund and the staffed posts it pays."""

    fund_id: UUID
    posts: list[UUID] = field(default_factory=list)


def build_county(ledger: Ledger, posts: int) -> County:
    """A fund for the year, one village and ``posts`` staffed, insured posts."""
    initialise(ledger)
    fund_id = ledger.funds.allocate(
        finance(),
        source=FundSource.EMPLOYMENT_SUBSIDY,
        region_code=REGION,
        year=YEAR,
        amount_fen=posts * MONTHS * STIPEND_FEN,
    )
    village = ledger.posts.register_site(
        clerk(), region_code=REGION, kind=SiteKind.VILLAGE, name="东风村", population=5000
    )
    county = County(fund_id)
    for serial in range(posts):
        rid = resident_id(serial)
        person_id = ledger.people.register(
            clerk(),
            resident_id=rid,
            name="测试人",
            home_region=REGION,
            poverty_status=PovertyStatus.LIFTED,
            labour_capacity=LabourCapacity.WEAK,
            household_id=f"H-{rid[-6:]}",
            bank_account=f"62220202{rid[-8:-1]}0",
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
            policy_number=f"PICC-{YEAR}-{serial:05d}",
            insurer="PICC",
            valid_from=date(YEAR, 1, 1),
            valid_to=date(YEAR, 12, 31),
        )
        county.posts.append(post_id)
    return county


@dataclass
class MonthTimes:
    """Seconds the monthly run and the approvals of one month took, in all and per item."""

    items: int
    run_s: float
    approve_s: float
    run_items: list[float] = field(default_factory=list)
    approve_items: list[float] = field(default_factory=list)
    profile: str = ""

    @property
    def run_item_s(self) -> float:
        """The median sheet's cost: robust to bursts of load from elsewhere on the machine."""
        return statistics.median(self.run_items)

    @property
    def approve_item_s(self) -> float:
        """The median approval's cost."""
        return statistics.median(self.approve_items)


def pay_month(system: System, county: County, month: Month, *, profile: bool = False) -> MonthTimes:
    """Attendance, the monthly run, approvals one by one, a batch and its results."""
    ledger = system.ledger
    for post_id in county.posts:
        ledger.posts.log_attendance(
            clerk(), post_id, month=month, days_worked=DAYS, days_required=DAYS
        )
    system.views.catch_up()  # the run's own catch-up then finds nothing to do
    profiler = cProfile.Profile() if profile else None
    stamps: list[float] = []
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    run = run_month(
        ledger,
        system.views,
        clerk(),
        month=month,
        region=REGION,
        progress=lambda _done, _total: stamps.append(time.perf_counter()),
    )
    if profiler is not None:
        profiler.disable()
    run_s = time.perf_counter() - started
    run_items = [b - a for a, b in zip([started, *stamps], stamps, strict=False)]
    if run.refusals or run.requested != len(county.posts):
        msg = f"{month}: {run.requested} requested, refusals {run.refusals_by_rule()}"
        raise SystemExit(msg)
    approve_items: list[float] = []
    for payout_id in run.requested_ids:
        one = time.perf_counter()
        ledger.payouts.approve(finance(), payout_id)
        approve_items.append(time.perf_counter() - one)
    approve_s = sum(approve_items)
    payouts = run.requested_ids
    batch = ledger.payouts.release_batch(finance(), fund_id=county.fund_id, payout_ids=payouts)
    ledger.payouts.record_results(
        finance(),
        batch,
        results=[BankResult(p, Outcome.PAID, bank_reference=f"BOC-{p.hex[:8]}") for p in payouts],
        control_count=len(payouts),
        control_total_fen=len(payouts) * STIPEND_FEN,
    )
    return MonthTimes(
        len(payouts),
        run_s,
        approve_s,
        run_items,
        approve_items,
        profile_text(profiler) if profiler else "",
    )


def profile_text(profiler: cProfile.Profile) -> str:
    """The top 15 functions by cumulative time."""
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(15)
    return out.getvalue()


def measure(system: System, posts: int, *, profile: bool) -> dict[int, MonthTimes]:
    """Build the county and pay ``MONTHS`` months; the times of every month."""
    started = time.perf_counter()
    county = build_county(system.ledger, posts)
    emit(f"county: {posts} staffed posts built in {time.perf_counter() - started:.1f} s")
    times: dict[int, MonthTimes] = {}
    for m in range(1, (PROFILED if profile else AT_4N) + 1):
        times[m] = pay_month(system, county, Month(YEAR, m), profile=m == PROFILED)
        t = times[m]
        emit(
            f"  {YEAR}-{m:02d}{' (profiled)' if m == PROFILED else ''}: "
            f"history {posts * (m - 1):>5} payouts; run month "
            f"{t.items / t.run_s:6.1f} items/s, approvals {t.items / t.approve_s:6.1f}/s"
        )
    return times


def report(times: dict[int, MonthTimes], posts: int, *, as_json: bool, store: str) -> None:
    """Per-item cost at N and 4N and their ratio."""
    n, n4 = times[AT_N], times[AT_4N]
    profiled = times.get(PROFILED)
    rows = {
        "run_month": (n.run_item_s, n4.run_item_s),
        "approve": (n.approve_item_s, n4.approve_item_s),
    }
    emit()
    emit(f"{store}: per-item cost (median item), N = {posts} payouts of history (ms)")
    emit(f"{'command':<10} {'at N':>8} {'at 4N':>8} {'4N / N':>7} {'items/s at 4N':>14}")
    for name, (at_n, at_4n) in rows.items():
        emit(
            f"{name:<10} {at_n * 1000:>8.2f} {at_4n * 1000:>8.2f} {at_4n / at_n:>7.2f} "
            f"{n4.items / (n4.run_s if name == 'run_month' else n4.approve_s):>14.1f}"
        )
    growth = max(at_4n / at_n for at_n, at_4n in rows.values())
    emit(f"cost_growth_4n (the worse of the two): {growth:.2f}")
    if profiled is not None:
        emit()
        emit(f"profile of the monthly run at 5N ({profiled.items} sheets):")
        emit(profiled.profile)
    if as_json:
        emit(
            json.dumps(
                {
                    "store": store,
                    "posts": posts,
                    "run_month_ms_n": round(rows["run_month"][0] * 1000, 3),
                    "run_month_ms_4n": round(rows["run_month"][1] * 1000, 3),
                    "approve_ms_n": round(rows["approve"][0] * 1000, 3),
                    "approve_ms_4n": round(rows["approve"][1] * 1000, 3),
                    "run_month_items_per_s": round(n4.items / n4.run_s, 1),
                    "approvals_per_s": round(n4.items / n4.approve_s, 1),
                    "run_month_growth_4n": round(rows["run_month"][1] / rows["run_month"][0], 3),
                    "approve_growth_4n": round(rows["approve"][1] / rows["approve"][0], 3),
                    "cost_growth_4n": round(growth, 3),
                }
            )
        )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--posts", type=int, default=2500, help="posts paid per month (N)")
    parser.add_argument("--quick", action="store_true", help="1000 posts: a few minutes")
    parser.add_argument("--json", action="store_true", help="one JSON object as the last line")
    parser.add_argument("--profile", action="store_true", help="cProfile a sixth month's run")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("DISBURSE_BENCH_POSTGRES_URL", DEFAULT_PG),
        help="an administrative URL; a throwaway database is created and dropped there",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    args = parse(argv)
    posts = 1000 if args.quick else args.posts
    store = sqlite_store() if args.store == "sqlite" else postgres_store(args.pg_url)
    with store as url, open_system(settings_for(url), today=lambda: TODAY) as system:
        times = measure(system, posts, profile=args.profile)
    report(times, posts, as_json=args.json, store=args.store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
