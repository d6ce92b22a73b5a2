# ruff: noqa: INP001 - a script run by path (python benchmarks/import_memory.py), not a package
"""Peak memory of ``disburse import people``: flat from a tenth of the rows to all of them.

Generates a roster CSV of N rows on disk (one row in a hundred with a wrong check digit,
one in a hundred repeating the resident ID of the row before), then, in a fresh child
process per size, reads and checks it exactly as ``disburse import people`` does: the
streaming reader, the header, every cell parser, the on-disk table of keys met and the
report written as it goes. Each child prints its peak traced Python memory
(``tracemalloc``) and its peak RSS (``getrusage``); the script prints both sizes and the
ratios. A flat import has ratios near 1, however many rows.

By default the rows are validated and not written (a million registrations, each a
transaction with its encryption and hash chain, take hours): ``--store`` also writes
every valid row into a temporary SQLite store through the ledger's own command; use it
with fewer rows (``--rows 20000``).

Run: ``.venv/bin/python benchmarks/import_memory.py [--rows N] [--store]``
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from pydantic import SecretStr

from disburse.access.context import Context
from disburse.bootstrap import open_system
from disburse.domain.identity import check_digit
from disburse.domain.meta import Role
from disburse.importing.columns import read_header
from disburse.importing.people import PEOPLE
from disburse.importing.reader import open_table
from disburse.importing.report import ReportWriter
from disburse.importing.runner import import_table, run_import
from disburse.importing.seen import SeenKeys
from disburse.persistence.keys import generate_secret
from disburse.settings import Settings

DEFAULT_ROWS = 1_000_000
HEADER = ["身份证号", "姓名", "户籍地区划代码", "人员类别", "劳动能力", "户编号", "银行账号"]
MIB = 1024 * 1024


def generate(path: Path, rows: int) -> None:
    """A roster of ``rows`` people: valid, except 1% bad check digits and 1% repeats."""
    born = date(1950, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        rid = ""
        for i in range(rows):
            if i % 100 != 99 or not rid:  # noqa: PLR2004 - one row in a hundred repeats
                day = born + timedelta(days=(i // 1000) % 20_000)
                first17 = f"220221{day:%Y%m%d}{i % 1000:03d}"
                rid = first17 + check_digit(first17)
            shown = rid[:-1] + ("1" if rid[-1] == "0" else "0") if i % 100 == 50 else rid  # noqa: PLR2004
            writer.writerow(
                [shown, f"人{i}", "220221", "脱贫人口", "弱劳力", f"H-{i // 4}", f"6222{i:012d}"]
            )


def measure(path: Path, *, store: bool) -> dict[str, float]:
    """Import (or only check) ``path`` in this process; peak memory and time."""
    tracemalloc.start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "report.csv"
        with open_table(path) as table:
            header = read_header(table.header, PEOPLE.columns)
            if store:
                settings = Settings(
                    env="test",
                    database_url=f"sqlite:///{Path(work) / 'ledger.db'}",
                    secret_key=SecretStr(generate_secret()),
                )
                with open_system(settings, initialised=True) as system:
                    ledger = system.ledger
                    actor = Context(actor_id="benchmark", role=Role.CLERK, client_id="benchmark")
                    summary = import_table(
                        ledger, PEOPLE, table, header=header, report=report, actor=actor
                    )
            else:
                with (
                    report.open("w", encoding="utf-8-sig", newline="") as handle,
                    SeenKeys() as seen,
                ):
                    summary = run_import(
                        PEOPLE,
                        table,
                        header=header,
                        report=ReportWriter(handle, header.label),
                        seen=seen,
                        write=lambda _line, _facts: False,
                    )
    _, peak = tracemalloc.get_traced_memory()
    return {
        "rows": summary.rows,
        "problems": summary.problems,
        "seconds": time.perf_counter() - started,
        "traced_peak_mib": peak / MIB,
        "rss_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(path: Path, *, store: bool) -> dict[str, float]:
    """``measure`` in a fresh interpreter, so each size starts from the same baseline."""
    args = [sys.executable, __file__, "--child", str(path), *(["--store"] if store else [])]
    done = subprocess.run(args, capture_output=True, text=True, check=True)  # noqa: S603
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    """Generate two rosters, measure each in a child process, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the large file")
    parser.add_argument("--store", action="store_true", help="also write into a SQLite store")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, store=args.store)))  # noqa: T201
        return
    sizes = (max(args.rows // 10, 1), args.rows)
    mode = "validated and written to a temporary SQLite store" if args.store else "validated"
    print(f"people roster, {mode}; each size in its own process")  # noqa: T201
    print(f"{'rows':>10} {'seconds':>9} {'traced peak MiB':>16} {'peak RSS MiB':>13}")  # noqa: T201
    results = []
    with tempfile.TemporaryDirectory() as work:
        for rows in sizes:
            path = Path(work) / f"roster-{rows}.csv"
            generate(path, rows)
            result = child(path, store=args.store)
            results.append(result)
            size = path.stat().st_size / MIB
            print(  # noqa: T201
                f"{int(result['rows']):>10} {result['seconds']:>9.1f} "
                f"{result['traced_peak_mib']:>16.2f} {result['rss_peak_mib']:>13.1f}"
                f"   ({int(result['problems'])} rows reported, file {size:.0f} MiB)"
            )
            path.unlink()
    small, large = results
    print(  # noqa: T201
        f"ratio {sizes[1]:,} / {sizes[0]:,} rows: traced peak "
        f"{large['traced_peak_mib'] / small['traced_peak_mib']:.2f}x, peak RSS "
        f"{large['rss_peak_mib'] / small['rss_peak_mib']:.2f}x"
    )


if __name__ == "__main__":
    main()
