"""``disburse import`` run as a real process, on SQLite and PostgreSQL.

Exit codes: 0 every row imported or already there, 1 some rows rejected (the report
lists them), 2 the file refused before any row was read (nothing written), 3 stopped
part-way (the rows before were imported; importing again completes the file).
"""

from __future__ import annotations

import csv
import getpass
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook

from disburse.domain.fund import FundSource
from disburse.domain.organisation import OrganisationKind
from disburse.importing.reader import digest_of
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from disburse.application.ledger import Ledger
    from tests.e2e.test_cli_audit import Cli

ROSTER_HEADER: list[object] = [
    "序号",
    "身份证号",
    "姓名",
    "户籍地区划代码",
    "人员类别",
    "劳动能力",
    "户编号",
]
ROSTER_HEADER += ["银行账号", "备注"]


def write_csv(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def read_report(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def head(ledger: Ledger) -> int:
    return ledger.store.chained.max_notification_id() or 0


def roster_row(n: int, rid: str, name: str = "张三", region: str = f.COUNTY) -> list[object]:
    return [n, rid, name, region, "脱贫人口", "弱劳力", f"H-{n}", f"62220202000{n:05d}", ""]


def test_a_county_imports_its_roster_claims_and_attendance_and_imports_again_safely(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    f.publish(ledger, f.regional_policy(grant={"amount_fen": 50_000, "min_months_away": 3}))
    ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=10**7,
    )
    place = f.county(ledger)
    code = f.credit_code()
    ledger.organisations.register(
        f.clerk(),
        credit_code=code,
        kind=OrganisationKind.EMPLOYER,
        name="某制衣厂",
        region_code=f.COUNTY,
        bank_account="6228480012345678",
    )
    migrant, holder, hired = f.resident_id(), f.resident_id(), f.resident_id()
    roster = write_csv(
        tmp_path / "roster.csv",
        [
            ROSTER_HEADER,
            roster_row(1, migrant),
            roster_row(2, holder, "李四"),
            roster_row(3, hired, "王五"),
            roster_row(4, migrant[:-1] + ("1" if migrant[-1] == "0" else "0")),
            roster_row(5, f.resident_id(), "赵六", "990101"),
        ],
    )

    people = cli("import", "people", "roster.csv")
    written = head(ledger)
    people_again = cli("import", "people", str(roster))

    assert people.returncode == 1, people.stderr
    assert "rows read 5: written 3, already present 0, rejected 2" in people.stdout
    assert "problems by rule: ID-RESIDENT 1, REGION-CODE 1" in people.stdout
    assert "report: roster.report.csv (2 problem(s))" in people.stdout
    assert read_report(tmp_path / "roster.report.csv") == [
        ["line", "field", "rule", "message"],
        ["5", "身份证号", "ID-RESIDENT", "the check character does not match (GB 11643)"],
        ["6", "户籍地区划代码", "REGION-CODE", "'990101' names no province"],
    ]
    assert people_again.returncode == 1, people_again.stderr
    assert "rows read 5: written 0, already present 3, rejected 2" in people_again.stdout
    assert head(ledger) == written
    events: list[Any] = list(ledger.store.events.get(ledger.people.id_for(holder)))
    assert events[0].meta.request_id == (
        f"import:people:roster.csv@{digest_of(roster)[:12]}:line-3"
    )
    assert events[0].meta.actor_id == f"cli:{getpass.getuser()}"

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            *("申报编号", "补贴项目", "身份证号", "统一社会信用代码", "受益人身份证号", "务工省份"),
            *("用工单位", "务工开始日期", "务工月数", "补贴起始", "补贴标准(元)", "证明材料"),
        ]
    )
    grant = ("G-1", "一次性交通补助", migrant, None, None, "广东", "深圳某电子厂")
    sheet.append([*grant, date(2024, 1, 15), 4, None, None, "合同-001"])
    hire = ("A-1", "一岗多补", None, code, hired, None, None, None, None)
    sheet.append([*hire, date(2024, 2, 1), 300.1, "劳动合同; 工资表"])
    book.save(tmp_path / "claims.xlsx")
    claims = cli("import", "claims", "claims.xlsx", "--report", "out.csv", "--json")
    claims_again = cli("import", "claims", "claims.xlsx", "--report", "out.csv", "--json")

    assert claims.returncode == 0, claims.stderr
    summary = json.loads(claims.stdout)
    assert {k: summary[k] for k in ("rows", "written", "already_present", "rejected")} == {
        "rows": 2,
        "written": 2,
        "already_present": 0,
        "rejected": 0,
    }
    assert (summary["source"], summary["report"], summary["exit_code"]) == (
        "XLSX, sheet 'Sheet'",
        "out.csv",
        0,
    )
    assert read_report(tmp_path / "out.csv") == [["line", "field", "rule", "message"]]
    assert claims_again.returncode == 0, claims_again.stderr
    assert json.loads(claims_again.stdout)["already_present"] == 2

    post_id, _ = f.staffed_post(ledger, place, ledger.people.id_for(holder))
    write_csv(
        tmp_path / "考勤.csv",
        [
            ["身份证号", "姓名", "月份", "出勤天数", "应出勤天数"],
            [holder, "李四", "2024-01", 21, 22],
        ],
    )
    sheets = cli("import", "attendance", "考勤.csv")
    sheets_again = cli("import", "attendance", "考勤.csv")

    assert sheets.returncode == 0, sheets.stderr
    assert "rows read 1: written 1, already present 0, rejected 0" in sheets.stdout
    assert sheets_again.returncode == 0, sheets_again.stderr
    assert "rows read 1: written 0, already present 1, rejected 0" in sheets_again.stdout
    assert ledger.posts.get(post_id).sheets == {"2024-01": (21, 22)}


def test_a_file_the_import_cannot_use_exits_2_and_writes_nothing(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    write_csv(tmp_path / "short.csv", [ROSTER_HEADER[:4], [1, f.resident_id(), "张三", f.COUNTY]])
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    write_csv(tmp_path / "roster.csv", [ROSTER_HEADER, roster_row(1, f.resident_id())])
    book = Workbook()
    book.save(tmp_path / "book.xlsx")
    before = head(ledger)

    missing = cli("import", "people", "short.csv")
    absent = cli("import", "people", "absent.csv")
    old = cli("import", "people", "old.xls")
    onto_itself = cli("import", "people", "roster.csv", "--report", "roster.csv")
    sheet_of_text = cli("import", "people", "roster.csv", "--sheet", "Sheet1")
    no_sheet = cli("import", "attendance", "book.xlsx", "--sheet", "考勤")
    bad_encoding = cli("import", "people", "roster.csv", "--encoding", "klingon")

    for done in (missing, absent, old, onto_itself, sheet_of_text, no_sheet, bad_encoding):
        assert done.returncode == 2, (done.args, done.stdout, done.stderr)
        assert "nothing was imported" in done.stderr
    assert (
        "refused IMPORT-HEADER: line 1: missing column(s) 人员类别 (poverty_status), "
        "劳动能力 (labour_capacity), 户编号 (household_id), 银行账号 (bank_account)."
    ) in missing.stderr
    assert "Accepted columns: 身份证号 (resident_id), 姓名 (name)" in missing.stderr
    assert "refused IMPORT-FILE: cannot read absent.csv" in absent.stderr
    assert "an old Excel (.xls) workbook: save it as .xlsx or as CSV" in old.stderr
    assert "the report would overwrite the file imported" in onto_itself.stderr
    assert "--sheet is for XLSX workbooks" in sheet_of_text.stderr
    assert "no worksheet '考勤'; the workbook has 'Sheet'" in no_sheet.stderr
    assert "unknown encoding 'klingon'" in bad_encoding.stderr
    assert head(ledger) == before
    assert sorted(p.name for p in tmp_path.iterdir() if "report" in p.name) == []


def test_an_import_stopped_part_way_exits_3_and_importing_again_completes_it(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    first, second = f.resident_id(), f.resident_id()
    rows: list[list[object]] = [ROSTER_HEADER, roster_row(1, first), roster_row(2, second, "李四")]
    broken: list[list[object]] = [*rows[:2], ["x" * (1 << 20)], rows[2]]
    write_csv(tmp_path / "roster.csv", broken)

    stopped = cli("import", "people", "roster.csv")
    write_csv(tmp_path / "roster.csv", rows)
    resumed = cli("import", "people", "roster.csv")

    assert stopped.returncode == 3, stopped.stderr
    assert "rows read 1: written 1, already present 0, rejected 0" in stopped.stdout
    assert "stopped at line 3: IMPORT-FILE: a line longer than 1 MiB" in stopped.stderr
    assert resumed.returncode == 0, resumed.stderr
    assert "rows read 2: written 1, already present 1, rejected 0" in resumed.stdout
    assert ledger.people.get(ledger.people.id_for(second)).name == "李四"


def test_a_civil_affairs_list_records_deaths_prints_the_alerts_and_imports_again_safely(
    ledger: Ledger, cli: Cli, tmp_path: Path
) -> None:
    """``import facts --source civil-affairs-deaths``: FRAUD-PAID-AFTER-EXIT, then nothing new."""
    from tests.integration.test_alerts import stipends  # noqa: PLC0415 - a shared story
    from tests.integration.test_import_facts import resident_id_of  # noqa: PLC0415

    _, person, (_, february) = stipends(ledger)
    rid, stranger = resident_id_of(ledger, person), f.resident_id()
    listed = write_csv(
        tmp_path / "民政死亡名单.csv",
        [
            ["身份证号", "姓名", "死亡日期"],
            [rid, "测试人", "2024-01-20"],
            [stranger, "某人", "2024-02-01"],
        ],
    )
    args = ("import", "facts", str(listed), "--source", "civil-affairs-deaths")

    first = cli(*args)
    before = head(ledger)
    again = cli.json(*args, "--json")
    report = cli("report", "alerts", "--format", "csv", "--out", str(tmp_path / "alerts.csv"))

    assert first.returncode == 0, first.stderr
    assert "written 1, already present 0, rejected 0, unknown people 1" in first.stdout
    assert "FRAUD-PAID-AFTER-EXIT payout " + str(february) in first.stdout
    for text in (first.stdout, first.stderr, json.dumps(again)):
        assert rid not in text
        assert stranger not in text
    assert [row[2] for row in read_report(listed.with_suffix(".report.csv"))[1:]] == [
        "PERSON-NOT-FOUND"
    ]
    assert head(ledger) == before  # the same file again writes nothing
    assert (again["written"], again["already_present"], again["unknown_people"]) == (0, 1, 1)
    assert again["alerts"] == []
    assert again["sha256"] == digest_of(listed)
    assert report.returncode == 0, report.stderr
    rows = read_report(tmp_path / "alerts.csv")
    assert ["FRAUD-PAID-AFTER-EXIT", "1", "0", "0", "1"] in rows


def test_an_unknown_source_is_refused_before_anything_is_read(cli: Cli, tmp_path: Path) -> None:
    listed = write_csv(tmp_path / "x.csv", [["身份证号", "死亡日期"]])

    done = cli("import", "facts", str(listed), "--source", "tax")

    assert done.returncode == 2
    assert "social-insurance" in done.stderr
