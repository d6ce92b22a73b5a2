"""``disburse report posts`` run as a real process, on SQLite and PostgreSQL.

The ledger is ``villages`` of the integration tests, built in-process; the command reads
the catalogue in force and the roster view from its own process.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from openpyxl import load_workbook

from tests import factories as f
from tests.e2e.test_cli_report import note, table_rows
from tests.integration.test_posts_report import villages

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views
    from tests.e2e.test_cli_audit import Cli

HEADER = [
    "region 区划",
    "village 村",
    "population 人口",
    "posts 已设岗位",
    "on post 在岗",
    "minimum 最低",
    "shortfall 缺口",
]
ROWS = [
    [f.COUNTY, "新立村", "900", "5", "2", "5", "3"],
    [f.OTHER_COUNTY, "太平村", "700", "0", "0", "3", "3"],
    ["total 合计", "2 of 3 villages", "", "5", "2", "8", "6"],
]


def test_the_posts_report_lists_villages_below_their_minimum_as_a_table_csv_and_xlsx(
    ledger: Ledger, views: Views, cli: Cli, tmp_path: Path
) -> None:
    """POST-QUOTA-VILLAGE: `disburse report posts` in every format, and with --region."""
    villages(ledger, views)
    out = tmp_path / "posts.xlsx"

    shown = cli("report", "posts")
    printed = cli("report", "posts", "--format", "csv")
    other = cli("report", "posts", "--format", "csv", "--region", f.OTHER_COUNTY)
    written = cli("report", "posts", "--format", "xlsx", "--out", str(out))

    for done in (shown, printed, other, written):
        assert done.returncode == 0, done.stderr
    assert "POST-QUOTA-VILLAGE" in shown.stdout
    assert table_rows(shown.stdout) == ROWS
    assert note(views) in shown.stdout
    assert list(csv.reader(io.StringIO(printed.stdout))) == [HEADER, *ROWS, [note(views)]]
    assert list(csv.reader(io.StringIO(other.stdout)))[1:-1] == [
        ROWS[1],
        ["total 合计", "1 of 1 villages", "", "0", "0", "3", "3"],
    ]
    sheet = load_workbook(out)["posts"]
    assert [cell.value for cell in sheet[2]] == [f.COUNTY, "新立村", 900, 5, 2, 5, 3]


def test_a_posts_report_for_a_region_that_is_no_prefix_is_refused(cli: Cli) -> None:
    done = cli("report", "posts", "--region", "2202x")

    assert done.returncode == 1
    assert "REGION-CODE" in done.stderr
