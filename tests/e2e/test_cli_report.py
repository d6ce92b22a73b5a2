"""``disburse report`` run as a real process, on SQLite and PostgreSQL.

Every report in every format: the terminal table, CSV (to a file with a UTF-8 BOM, or to
stdout) read back with the csv module, XLSX read back with openpyxl. The ledger is
``books`` of the integration tests, built in-process; the command catches the views up
and reads them from its own process.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from tests import factories as f
from tests.e2e.test_cli_audit import Cli
from tests.integration.test_reports import books

if TYPE_CHECKING:
    from pathlib import Path

    from disburse.application.ledger import Ledger
    from disburse.readside.views import Views
    from disburse.settings import Settings

REPORTS = ("funds", "region", "programme", "alerts")
FUNDS_HEADER = [
    "fund source 资金来源",
    "region 区划",
    "year 年度",
    "allocated 预算",
    "committed 已批待付",
    "paid 已支付",
    "recovered 已追回",
    "available 可用余额",
    "execution % 执行率",
]
ES, RR, EW = "employment_subsidy", "rural_revitalisation", "east_west"
#: The funds report as CSV holds it: yuan with two decimals, rates in percent.
FUNDS_CSV = [
    [ES, f.COUNTY, "2023", "50000.00", "0.00", "0.00", "0.00", "50000.00", "0.00"],
    [ES, f.COUNTY, "2024", "1000000.00", "750.00", "3000.00", "500.00", "996750.00", "0.25"],
    [RR, f.COUNTY, "2024", "100000.00", "0.00", "0.00", "0.00", "100000.00", "0.00"],
    [EW, f.OTHER_COUNTY, "2024", "0.00", "0.00", "0.00", "0.00", "0.00", ""],
    [RR, f.OTHER_COUNTY, "2024", "123456.78", "0.00", "0.00", "0.00", "123456.78", "0.00"],
    ["total 合计", "", "", "1273456.78", "750.00", "3000.00", "500.00", "1270206.78", "0.20"],
]
PROGRAMME_CSV = [
    ["programme 项目", "status 状态", "payouts 笔数", "amount 金额", "recovered 已追回"],
    ["GRANT-TRANSPORT", "requested", "1", "500.00", "0.00"],
    ["GRANT-TRANSPORT", "all 全部", "1", "500.00", "0.00"],
    ["POST-STIPEND", "requested", "1", "1500.00", "0.00"],
    ["POST-STIPEND", "approved", "1", "750.00", "0.00"],
    ["POST-STIPEND", "paid", "1", "1500.00", "0.00"],
    ["POST-STIPEND", "recovered", "1", "1500.00", "500.00"],
    ["POST-STIPEND", "rejected", "1", "1500.00", "0.00"],
    ["POST-STIPEND", "all 全部", "5", "6750.00", "500.00"],
    ["total 合计", "", "6", "7250.00", "500.00"],
]


@pytest.fixture
def cli(settings: Settings, tmp_path: Path) -> Cli:
    assert settings.secret_key is not None
    return Cli(
        tmp_path,
        {
            "DISBURSE_DATABASE_URL": settings.database_url,
            "DISBURSE_SECRET_KEY": settings.secret_key.get_secret_value(),
        },
    )


def table_rows(stdout: str) -> list[list[str]]:
    """The body rows of a rich table, cell by cell."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in stdout.splitlines()
        if line.startswith("│")
    ]


def note(views: Views, region: str = "all") -> str:
    return f"as of log position {views.projector.head()}; region {region}"


def test_each_report_prints_a_table_with_its_totals_and_log_position(
    ledger: Ledger, views: Views, cli: Cli
) -> None:
    books(ledger, views)

    shown = {name: cli("report", name) for name in REPORTS}

    for name, done in shown.items():
        assert done.returncode == 0, (name, done.stderr)
        assert note(views) in done.stdout
    funds = shown["funds"].stdout
    assert "Budget execution by fund 分资金预算执行情况" in funds
    assert all(header in funds for header in FUNDS_HEADER)
    assert table_rows(funds)[1] == [
        ES, f.COUNTY, "2024", "1,000,000.00", "750.00", "3,000.00", "500.00", "996,750.00", "0.25%",
    ]  # fmt: skip
    assert table_rows(funds)[3][-1] == "—"  # nothing allocated, no rate
    assert table_rows(funds)[-1] == [
        "total 合计", "", "", "1,273,456.78", "750.00", "3,000.00", "500.00", "1,270,206.78",
        "0.20%",
    ]  # fmt: skip
    assert [row[:2] for row in table_rows(shown["region"].stdout)] == [
        [f.COUNTY, ES],
        [f.COUNTY, RR],
        [f.COUNTY, "subtotal 小计"],
        [f.OTHER_COUNTY, EW],
        [f.OTHER_COUNTY, RR],
        [f.OTHER_COUNTY, "subtotal 小计"],
        ["total 合计", ""],
    ]
    assert table_rows(shown["programme"].stdout)[-2:] == [
        ["POST-STIPEND", "all 全部", "5", "6,750.00", "500.00"],
        ["total 合计", "", "6", "7,250.00", "500.00"],
    ]
    assert table_rows(shown["alerts"].stdout) == [
        ["FRAUD-DUP-GRANT", "1", "0", "0", "1"],
        ["FRAUD-SHARED-ACCOUNT", "1", "1", "1", "3"],
        ["total 合计", "2", "1", "1", "4"],
    ]


def test_csv_files_start_with_a_bom_and_hold_yuan_to_the_fen(
    ledger: Ledger, views: Views, cli: Cli, tmp_path: Path
) -> None:
    books(ledger, views)

    read: dict[str, list[list[str]]] = {}
    for name in REPORTS:
        out = tmp_path / f"{name}.csv"
        done = cli("report", name, "--format", "csv", "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert f"wrote {out}" in done.stdout
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")
        with out.open(encoding="utf-8-sig", newline="") as text:
            read[name] = list(csv.reader(text))

    assert read["funds"] == [FUNDS_HEADER, *FUNDS_CSV, [note(views)]]
    assert read["programme"] == [*PROGRAMME_CSV, [note(views)]]
    assert read["region"][3] == [
        f.COUNTY, "subtotal 小计", "1150000.00", "750.00", "3000.00", "500.00", "1146750.00",
        "0.22",
    ]  # fmt: skip
    assert read["alerts"] == [
        ["rule 规则", "open 待处理", "confirmed 已确认", "dismissed 已排除", "total 合计"],
        ["FRAUD-DUP-GRANT", "1", "0", "0", "1"],
        ["FRAUD-SHARED-ACCOUNT", "1", "1", "1", "3"],
        ["total 合计", "2", "1", "1", "4"],
        [note(views)],
    ]
    assert not list(tmp_path.glob("*.partial"))
    nowhere = cli("report", "funds", "--format", "csv", "--out", str(tmp_path / "no" / "f.csv"))
    assert nowhere.returncode == 1
    assert "cannot write" in nowhere.stderr


def test_csv_without_out_is_printed_and_filters_apply(
    ledger: Ledger, views: Views, cli: Cli
) -> None:
    books(ledger, views)

    programme = cli("report", "programme", "--format", "csv")
    funds = cli("report", "funds", "--format", "csv", "--region", f.OTHER_COUNTY, "--year", "2024")
    city = cli("report", "funds", "--format", "csv", "--region", "220200")

    for done in (programme, funds, city):
        assert done.returncode == 0, done.stderr
        assert not done.stdout.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(programme.stdout))) == [*PROGRAMME_CSV, [note(views)]]
    assert list(csv.reader(io.StringIO(funds.stdout))) == [
        FUNDS_HEADER,
        FUNDS_CSV[3],
        FUNDS_CSV[4],
        ["total 合计", "", "", "123456.78", "0.00", "0.00", "0.00", "123456.78", "0.00"],
        [f"{note(views, f.OTHER_COUNTY)}; year 2024"],
    ]
    assert list(csv.reader(io.StringIO(city.stdout)))[1:-1] == FUNDS_CSV


def test_xlsx_files_hold_yuan_as_exact_numbers_shown_with_two_decimals(
    ledger: Ledger, views: Views, cli: Cli, tmp_path: Path
) -> None:
    books(ledger, views)

    sheets = {}
    for name in REPORTS:
        out = tmp_path / f"{name}.xlsx"
        done = cli("report", name, "--format", "xlsx", "--out", str(out))
        assert done.returncode == 0, done.stderr
        book = load_workbook(out)
        assert book.sheetnames == [name]
        sheets[name] = book[name]

    funds = [list(row) for row in sheets["funds"].iter_rows()]
    assert [cell.value for cell in funds[0]] == FUNDS_HEADER
    assert all(cell.font.b for cell in funds[0])
    assert sheets["funds"].freeze_panes == "A2"
    other = funds[5]
    assert [other[0].value, other[1].value, other[2].value] == [RR, f.OTHER_COUNTY, 2024]
    assert Decimal(str(other[3].value)) == Decimal("123456.78")
    assert other[3].number_format == "#,##0.00"
    assert [other[8].value, other[8].number_format] == [0, "0.00"]
    total = funds[6]
    assert total[0].value == "total 合计"
    assert all(cell.font.b for cell in total)
    assert Decimal(str(total[3].value)) == Decimal("1273456.78")
    assert [Decimal(str(cell.value)) for cell in total[4:8]] == [
        Decimal(750),
        Decimal(3000),
        Decimal(500),
        Decimal("1270206.78"),
    ]
    assert Decimal(str(total[8].value)) == Decimal("0.20")
    assert funds[4][8].value is None  # nothing allocated, no rate
    assert funds[-1][0].value == note(views)
    assert not any(funds[-2][i].value for i in range(len(funds[-2])))  # a blank line before

    programme = [[c.value for c in row] for row in sheets["programme"].iter_rows()]
    assert programme[-3] == ["total 合计", None, 6, 7250, 500]
    alerts = [[c.value for c in row] for row in sheets["alerts"].iter_rows()]
    assert alerts[1:4] == [
        ["FRAUD-DUP-GRANT", 1, 0, 0, 1],
        ["FRAUD-SHARED-ACCOUNT", 1, 1, 1, 3],
        ["total 合计", 2, 1, 1, 4],
    ]
    region = [[c.value for c in row] for row in sheets["region"].iter_rows()]
    assert region[3][:3] == [f.COUNTY, "subtotal 小计", 1150000]


def test_options_that_cannot_work_are_refused_before_the_store_is_opened(
    tmp_path: Path,
) -> None:
    store = tmp_path / "ledger.db"
    cli = Cli(tmp_path, {"DISBURSE_DATABASE_URL": f"sqlite:///{store}"})

    no_out = cli("report", "funds", "--format", "xlsx")
    table_out = cli("report", "funds", "--out", str(tmp_path / "funds.txt"))
    bad_format = cli("report", "funds", "--format", "pdf")
    bad_year = cli("report", "region", "--year", "1999")
    year_of_alerts = cli("report", "alerts", "--year", "2024")
    bad_region = cli("report", "programme", "--region", "2x")

    for done in (no_out, table_out, bad_format, bad_year, year_of_alerts):
        assert done.returncode == 2, (done.args, done.stdout, done.stderr)
    assert "--format xlsx needs --out FILE" in no_out.stderr
    assert "add --format csv or --format xlsx" in table_out.stderr
    assert "pdf" in bad_format.stderr
    assert "Invalid value for '--year'" in bad_year.stderr
    assert "--year" in year_of_alerts.stderr
    assert bad_region.returncode == 1
    assert "refused REGION-CODE (region)" in bad_region.stderr
    assert not store.exists()
    assert not (tmp_path / "funds.txt").exists()
