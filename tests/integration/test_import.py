"""Bulk import of people, claims and attendance on SQLite and PostgreSQL.

Every report is asserted whole (line, field, rule, message), and a second import of the
same file must write no event.
"""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from openpyxl import Workbook

from disburse.application.claims import external_key, holder_of
from disburse.domain.fund import FundSource
from disburse.domain.organisation import OrganisationKind
from disburse.domain.payout import Payout
from disburse.domain.person import LabourCapacity, Person, PovertyStatus
from disburse.importing.attendance import ATTENDANCE
from disburse.importing.claims import CLAIMS
from disburse.importing.columns import read_header
from disburse.importing.people import PEOPLE
from disburse.importing.reader import digest_of, open_table
from disburse.importing.report import FileError, ReportWriter
from disburse.importing.runner import import_file, run_import
from disburse.importing.seen import SeenKeys
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.importing.people import PersonRow
    from disburse.importing.runner import Kind, Summary

Report = list[tuple[str, str, str, str]]
T = TypeVar("T")
PEOPLE_HEADER: list[object] = [
    "序号",
    "身份证号",
    "姓名",
    "户籍地区划代码",
    "人员类别",
    "劳动能力",
    "户编号",
]
PEOPLE_HEADER += ["银行账号", "财政供养"]
CLAIMS_HEADER: list[object] = [
    *("external_claim_id", "programme", "resident_id", "name", "credit_code"),
    *("beneficiary_resident_ids", "work_province", "employer", "started_on"),
    *("months_worked", "period_start", "months", "amount_yuan", "evidence"),
]
ATTENDANCE_HEADER: list[object] = ["身份证号", "姓名", "月份", "出勤天数", "应出勤天数", "岗位编号"]
JILIN_GRANTS = {"amount_fen": 50_000, "min_months_away": 3}


def write_csv(path: Path, rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def read_report(path: Path) -> Report:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = csv.reader(handle)
    assert header == ["line", "field", "rule", "message"]
    return [(line, field, rule, message) for line, field, rule, message in rows]


def run(ledger: Ledger, kind: Kind[T], path: Path) -> tuple[Summary, Report]:
    report = path.with_suffix(".report.csv")
    summary = import_file(ledger, kind, path, report=report, actor=f.clerk())
    return summary, read_report(report)


def head(ledger: Ledger) -> int:
    return ledger.store.chained.max_notification_id() or 0


def counts(summary: Summary) -> tuple[int, int, int, int]:
    return summary.rows, summary.written, summary.present, summary.rejected


def wrong_check_digit(rid: str) -> str:
    return rid[:-1] + ("1" if rid[-1] == "0" else "0")


# -- people -----------------------------------------------------------------------------------


def test_a_roster_writes_its_good_rows_and_reports_exactly_the_bad_ones(
    ledger: Ledger, tmp_path: Path
) -> None:
    a, b, c, e, g, h = (f.resident_id() for _ in range(6))
    changed, same = f.resident_id(), f.resident_id()
    f.register(ledger, rid=changed, account="6222020200000066")
    f.register(ledger, rid=same, account="6222020200000077")
    known = ["测试人", f.COUNTY, "lifted", "weak"]
    path = write_csv(
        tmp_path / "roster.csv",
        [
            PEOPLE_HEADER,
            [1, a, "张三", f.COUNTY, "脱贫人口", "弱劳力", "H-1", "6222 0202 0000 0011", "否"],
            [
                2,
                wrong_check_digit(b),
                "李四",
                f.COUNTY,
                "脱贫人口",
                "全劳力",
                "H-2",
                "62220202",
                "",
            ],
            [3, c, "王五", "990101", "lifted", "full", "H-3", "6222020200000033", ""],
            [4, a, "张三", f.COUNTY, "脱贫人口", "弱劳力", "H-1", "6222020200000011", "否"],
            [5, e, " ", f.COUNTY, "脱贫人口", "弱劳力", "H-5", "6222020200000055", ""],
            [],
            [7, changed, *known, f"H-{changed[-6:]}", "6222020299999999", ""],
            [8, g, "赵六", f.COUNTY, "监测对象", "半劳力", "H-8", "6222020200000088", "是"],
            [9, same, *known, f"H-{same[-6:]}", "6222020200000077", ""],
            [10, h, "钱七", f.COUNTY, "贫困户", "弱劳力", "H-10", "6222020200000100", ""],
            [11, f.resident_id(), "孙八", f.COUNTY, "脱贫人口", "无劳动力", "H-11", "12AB", ""],
            [
                12,
                f.resident_id(),
                "周九",
                f.COUNTY,
                "脱贫人口",
                "弱劳力",
                "H-12",
                "62220202",
                "",
                "?",
            ],
            [13, "2.20221E+17", "吴十", f.COUNTY, "脱贫人口", "弱劳力", "H-13", "62220202", ""],
        ],
    )

    summary, report = run(ledger, PEOPLE, path)

    assert report == [
        ("3", "身份证号", "ID-RESIDENT", "the check character does not match (GB 11643)"),
        ("4", "户籍地区划代码", "REGION-CODE", "'990101' names no province"),
        (
            "5",
            "身份证号",
            "IMPORT-DUPLICATE-ROW",
            "this resident ID is already on line 2 of this file",
        ),
        ("6", "姓名", "IMPORT-REQUIRED", "a value is required"),
        (
            "8",
            "银行账号",
            "IMPORT-PERSON-DIFFERS",
            (
                "already registered with another bank_account; nothing was changed: record a "
                "change with its own command and reason, not by import"
            ),
        ),
        (
            "11",
            "人员类别",
            "IMPORT-VALUE",
            (
                "'贫困户' is not a poverty status: use one of lifted (脱贫人口/脱贫户), "
                "monitored (防止返贫监测对象/监测对象), low_income (农村低收入人口/低收入人口), "
                "none (一般人口/无)"
            ),
        ),
        (
            "12",
            "劳动能力",
            "IMPORT-VALUE",
            (
                "'无劳动力' is not a labour capacity: use one of full (全劳力/全劳动力), "
                "weak (弱劳力/弱劳动力), half (半劳力/半劳动力)"
            ),
        ),
        ("12", "银行账号", "PERSON-ACCOUNT", "a bank account is 8 to 32 digits"),
        ("13", "", "IMPORT-COLUMNS", "a value in column J, which has no header"),
        (
            "14",
            "身份证号",
            "IMPORT-VALUE",
            (
                "a long code that Excel turned into a number (like 2.2E+17): format the column "
                "as text and enter it again"
            ),
        ),
    ]
    assert counts(summary) == (12, 2, 1, 9)
    assert summary.exit_code == 1
    first = ledger.people.get(ledger.people.id_for(a))
    assert (first.name, first.bank_account, first.household_id) == (
        "张三",
        "6222020200000011",
        "H-1",
    )
    assert (first.poverty_status, first.labour_capacity) == (
        PovertyStatus.LIFTED,
        LabourCapacity.WEAK,
    )
    assert first.public_payroll is False
    other = ledger.people.get(ledger.people.id_for(g))
    assert (other.poverty_status, other.labour_capacity) == (
        PovertyStatus.MONITORED,
        LabourCapacity.HALF,
    )
    assert other.public_payroll is True
    assert ledger.people.get(ledger.people.id_for(changed)).bank_account == "6222020200000066"


def test_importing_the_same_roster_again_writes_no_event(ledger: Ledger, tmp_path: Path) -> None:
    good = [
        [
            n,
            f.resident_id(),
            f"人{n}",
            f.COUNTY,
            "脱贫人口",
            "弱劳力",
            f"H-{n}",
            f"622202020000{n}0",
        ]
        for n in range(5)
    ]
    bad = [9, "220221198005170000", "坏", f.COUNTY, "脱贫人口", "弱劳力", "H-9", "62220202000999"]
    rows: list[list[object]] = [PEOPLE_HEADER[:-1], *good, bad]
    path = write_csv(tmp_path / "roster.csv", rows)

    first, first_report = run(ledger, PEOPLE, path)
    before = head(ledger)
    again, again_report = run(ledger, PEOPLE, path)

    assert counts(first) == (6, 5, 0, 1)
    assert counts(again) == (6, 0, 5, 1)
    assert head(ledger) == before
    assert again_report == first_report
    assert again.exit_code == 1


def test_each_event_names_the_file_and_line_that_wrote_it(ledger: Ledger, tmp_path: Path) -> None:
    rid = f.resident_id()
    path = write_csv(
        tmp_path / "县花名册.csv",
        [
            PEOPLE_HEADER,
            [1, rid, "张三", f.COUNTY, "脱贫人口", "弱劳力", "H-1", "6222020200000011", ""],
        ],
    )

    run(ledger, PEOPLE, path)

    events: list[Any] = list(ledger.store.events.get(ledger.people.id_for(rid)))
    [registered] = events
    digest = digest_of(path)[:12]
    assert registered.meta.request_id == f"import:people:县花名册.csv@{digest}:line-2"
    assert (registered.meta.actor_id, registered.meta.role.value) == ("clerk-1", "clerk")


def test_a_gbk_csv_saved_by_excel_is_read(ledger: Ledger, tmp_path: Path) -> None:
    rid = f.resident_id()
    row: list[object] = [
        1,
        rid,
        "欧阳娜娜",
        f.COUNTY,
        "防止返贫监测对象",
        "全劳力",
        "H-1",
        "6222020200000011",
        "",
    ]
    path = write_csv(tmp_path / "roster.csv", [PEOPLE_HEADER, row], encoding="gb18030")

    summary, report = run(ledger, PEOPLE, path)

    assert (counts(summary), report) == ((1, 1, 0, 0), [])
    assert ledger.people.get(ledger.people.id_for(rid)).name == "欧阳娜娜"
    with open_table(path) as table:
        assert table.source == "CSV, GB18030"


# -- claims -----------------------------------------------------------------------------------


def claim_row(external: str, programme: str, **cells: object) -> list[object]:
    row: dict[str, object] = dict.fromkeys(map(str, CLAIMS_HEADER), "")
    row.update(external_claim_id=external, programme=programme, **cells)
    return list(row.values())


def _claims_county(ledger: Ledger) -> str:
    """Grant amounts for the city, budgets for grants and hiring, and an employer; its code."""
    f.publish(ledger, f.regional_policy(grant=JILIN_GRANTS))
    ledger.funds.allocate(
        f.finance(),
        source=FundSource.RURAL_REVITALISATION,
        region_code=f.COUNTY,
        year=2024,
        amount_fen=10**7,
    )
    f.county(ledger)
    code = f.credit_code()
    ledger.organisations.register(
        f.clerk(),
        credit_code=code,
        kind=OrganisationKind.EMPLOYER,
        name="某制衣厂",
        region_code=f.COUNTY,
        bank_account="6228480012345678",
    )
    return code


def test_a_claims_file_writes_its_good_claims_and_reports_exactly_the_bad_ones(
    ledger: Ledger, tmp_path: Path
) -> None:
    code = _claims_county(ledger)
    worker, other, w1, w2, w3, w4 = (f.resident_id() for _ in range(6))
    for rid in (worker, other, w1, w2, w3, w4):
        f.register(ledger, rid=rid)
    grant: dict[str, object] = {"work_province": "广东省", "employer": "深圳某电子厂"}
    grant |= {"started_on": "2024-01-15"}
    grant |= {"months_worked": 4, "evidence": "contract-1"}
    hire: dict[str, object] = {"credit_code": code, "period_start": "2024-01", "months": 1}
    hire |= {"evidence": "contracts"}
    hire_two = hire | {"months": 2, "evidence": "contracts 2024-01; wage records"}
    hire_two |= {"beneficiary_resident_ids": f"{w1}; {w2}", "amount_yuan": "450.10"}
    far = grant | {"work_province": "99"}
    path = write_csv(
        tmp_path / "claims.csv",
        [
            CLAIMS_HEADER,
            claim_row("G-1", "一次性交通补助", resident_id=worker, name="测试人", **grant),
            claim_row("A-1", "HIRE-WAGE", **hire_two),
            claim_row("G-2", "GRANT-TRANSPORT", resident_id=wrong_check_digit(other), **grant),
            claim_row("G-3", "GRANT-TRANSPORT", resident_id=other, **far),
            claim_row("A-2", "HIRE-WAGE", **hire, beneficiary_resident_ids=w3, amount_yuan="-300"),
            claim_row("A-1", "HIRE-WAGE", **hire_two),
            claim_row(
                "A-3", "HIRE-WAGE", **hire | {"period_start": "2024-13"},
                beneficiary_resident_ids=w4, amount_yuan=300,
            ),
            claim_row("G-4", "GRANT-TRANSPORT", resident_id=f.resident_id(), **grant),
            claim_row("G-5", "GRANT-TRANSPORT", resident_id=other, **grant, amount_yuan=500),
            claim_row(
                "A-4", "HIRE-WAGE", **hire, resident_id=w4, beneficiary_resident_ids=w4,
                amount_yuan=300,
            ),
            claim_row("G-6", "GRANT-TRANSPORT", resident_id=worker, **grant),
        ],
    )  # fmt: skip

    summary, report = run(ledger, CLAIMS, path)

    worker_id = ledger.people.id_for(worker)
    assert report == [
        ("4", "resident_id", "ID-RESIDENT", "the check character does not match (GB 11643)"),
        ("5", "work_province", "REGION-CODE", "'99' is not a province code or name"),
        ("6", "amount_yuan", "MONEY-FEN", "amount must be positive"),
        (
            "7",
            "external_claim_id",
            "IMPORT-DUPLICATE-ROW",
            "this external claim id is already on line 3 of this file",
        ),
        ("8", "period_start", "MONTH-FORMAT", "2024-13 is not a month"),
        (
            "9",
            "resident_id",
            "PERSON-NOT-FOUND",
            (
                "no person is registered under this resident ID: import them with "
                "`disburse import people` first"
            ),
        ),
        ("10", "amount_yuan", "IMPORT-UNUSED", "not used by a transport grant: leave it blank"),
        (
            "11",
            "credit_code",
            "IMPORT-APPLICANT",
            (
                "an application has one applicant: an organisation (credit code) or a person "
                "(resident ID), not both"
            ),
        ),
        (
            "12",
            "resident_id",
            "FRAUD-DUP-GRANT",
            (
                f"person {worker_id} already has a transport grant for 2024, whichever county "
                "or system claimed it"
            ),
        ),
    ]
    assert counts(summary) == (11, 2, 0, 9)
    grant_id = holder_of(ledger.store, external_key("test-client", "G-1"))
    application_id = holder_of(ledger.store, external_key("test-client", "A-1"))
    assert grant_id is not None
    assert application_id is not None
    claimed = ledger.grants.get(grant_id)
    assert (claimed.person_id, claimed.work_province, claimed.amount_fen) == (
        worker_id,
        "44",
        50_000,
    )
    application = ledger.subsidies.get(application_id)
    assert application.chosen_fen == 45_010  # 450.10 yuan, exactly
    assert application.amount_fen == 45_010 * 2 * 2  # per worker and month
    assert application.evidence == ["contracts 2024-01", "wage records"]
    assert sorted(application.beneficiary_ids) == sorted(
        [ledger.people.id_for(w1), ledger.people.id_for(w2)]
    )


def test_claims_imported_again_write_nothing_and_another_claim_under_an_id_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    code = _claims_county(ledger)
    worker, hired = f.resident_id(), f.resident_id()
    for rid in (worker, hired):
        f.register(ledger, rid=rid)
    grant: dict[str, object] = {"work_province": "44", "employer": "深圳某电子厂"}
    grant |= {"started_on": "2024-01-15"}
    grant |= {"months_worked": 4, "evidence": "contract-1"}
    rows: list[list[object]] = [
        CLAIMS_HEADER,
        claim_row("G-1", "GRANT-TRANSPORT", resident_id=worker, **grant),
        claim_row(
            "A-1", "一岗多补", credit_code=code, beneficiary_resident_ids=hired,
            period_start="2024-02", amount_yuan="300", evidence="contract; wages",
        ),
    ]  # fmt: skip
    path = write_csv(tmp_path / "claims.csv", rows)

    first, _ = run(ledger, CLAIMS, path)
    before = head(ledger)
    again, again_report = run(ledger, CLAIMS, path)
    changed, changed_report = run(
        ledger,
        CLAIMS,
        write_csv(
            tmp_path / "changed.csv",
            [
                CLAIMS_HEADER,
                claim_row(
                    "G-1", "GRANT-TRANSPORT", resident_id=worker, **grant | {"employer": "另一家厂"}
                ),
            ],
        ),
    )

    assert counts(first) == (2, 2, 0, 0)
    assert (counts(again), again_report, again.exit_code) == ((2, 0, 2, 0), [], 0)
    assert counts(changed) == (1, 0, 0, 1)
    grant_id = holder_of(ledger.store, external_key("test-client", "G-1"))
    assert changed_report == [
        (
            "2",
            "external_claim_id",
            "CLAIM-EXTERNAL-ID",
            f"external claim id G-1 was used for a different claim ({grant_id})",
        )
    ]
    assert head(ledger) == before


def test_an_amount_for_a_programme_whose_catalogue_fixes_it_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    f.publish(
        ledger,
        f.regional_policy(
            programmes={"STARTUP-ONCE": {"amount": {"kind": "fixed", "amount_fen": 500_000}}}
        ),
    )
    f.county(ledger)
    founder = f.resident_id()
    f.register(ledger, rid=founder)
    path = write_csv(
        tmp_path / "claims.csv",
        [
            CLAIMS_HEADER,
            claim_row(
                "S-1",
                "一次性创业补贴",
                resident_id=founder,
                period_start="2024-02-01",
                amount_yuan=800,
                evidence="licence",
            ),
            claim_row(
                "S-2",
                "STARTUP-ONCE",
                resident_id=founder,
                period_start="2024-02-01",
                evidence="licence",
            ),
        ],
    )

    summary, report = run(ledger, CLAIMS, path)

    assert report == [
        (
            "2",
            "amount_yuan",
            "IMPORT-UNUSED",
            (
                f"STARTUP-ONCE takes its amount from catalogue {f.REGIONAL_VERSION}, not from the "
                "file: leave it blank"
            ),
        )
    ]
    assert counts(summary) == (2, 1, 0, 1)
    application_id = holder_of(ledger.store, external_key("test-client", "S-2"))
    assert application_id is not None
    assert ledger.subsidies.get(application_id).amount_fen == 500_000


# -- attendance -------------------------------------------------------------------------------


def test_an_attendance_workbook_logs_each_holders_month_and_reports_exactly_the_bad_rows(
    ledger: Ledger, tmp_path: Path
) -> None:
    place = f.county(ledger)
    first, second, idle = f.resident_id(), f.resident_id(), f.resident_id()
    posts: dict[str, UUID] = {}
    for rid in (first, second):
        posts[rid], _ = f.staffed_post(ledger, place, f.register(ledger, rid=rid))
    f.register(ledger, rid=idle)
    path = write_xlsx(
        tmp_path / "考勤.xlsx",
        [
            ATTENDANCE_HEADER,
            [first, "测试人", date(2024, 1, 1), 22, 22, None],  # Excel's date for 2024-01
            [second, "测试人", "2024-01", 20, 22, str(posts[second])],
            [first, None, "2024-13", 22, 22, None],
            [first, None, "2024-01", 21, 22, None],
            [idle, None, "2024-01", 22, 22, None],
            [wrong_check_digit(second), None, "2024-01", 22, 22, None],
            [second, None, "2024-02", 23, 22, None],
            [first, "李四", "2024-02", 22, 22, None],
            [f.resident_id(), None, "2024-01", 22, 22, None],
            [second, None, "2024-03", 22, 22, str(posts[first])],
            [float(first[:-1] + "0"), None, "2024-01", 22, 22, None],
            [first, None, "2024-03", "二十", 22, None],
        ],
    )

    summary, report = run(ledger, ATTENDANCE, path)

    assert report == [
        ("4", "月份", "MONTH-FORMAT", "2024-13 is not a month"),
        (
            "5",
            "身份证号",
            "IMPORT-DUPLICATE-ROW",
            "this person's attendance for the same month is already on line 2",
        ),
        (
            "6",
            "身份证号",
            "IMPORT-NOT-HOLDER",
            "this person holds no public-welfare post now: appoint them before logging attendance",
        ),
        ("7", "身份证号", "ID-RESIDENT", "the check character does not match (GB 11643)"),
        ("8", "出勤天数", "POST-ATTENDANCE", "days worked is 0 to days required"),
        (
            "9",
            "姓名",
            "IMPORT-NAME-MISMATCH",
            (
                "the name differs from the one registered under this resident ID: check the "
                "resident ID"
            ),
        ),
        (
            "10",
            "身份证号",
            "PERSON-NOT-FOUND",
            (
                "no person is registered under this resident ID: import them with "
                "`disburse import people` first"
            ),
        ),
        (
            "11",
            "岗位编号",
            "IMPORT-NOT-HOLDER",
            f"this person does not hold that post: they hold post {posts[second]}",
        ),
        (
            "12",
            "身份证号",
            "IMPORT-VALUE",
            (
                "a long code stored as a number, of which Excel keeps only 15 digits: format the "
                "column as text and enter it again"
            ),
        ),
        ("13", "出勤天数", "IMPORT-VALUE", "'二十' is not a whole number"),
    ]
    assert counts(summary) == (12, 2, 0, 10)
    assert ledger.posts.get(posts[first]).sheets == {"2024-01": (22, 22)}
    assert ledger.posts.get(posts[second]).sheets == {"2024-01": (20, 22)}
    # Logging a sheet requests no stipend: the monthly run does.
    assert ledger.store.find(Payout, ledger.posts.stipend_payout_id(posts[first], f.JAN)) is None


def test_attendance_imported_again_writes_nothing_and_another_sheet_for_the_month_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    place = f.county(ledger)
    rid = f.resident_id()
    f.staffed_post(ledger, place, f.register(ledger, rid=rid))
    sheet = write_csv(
        tmp_path / "jan.csv",
        [["resident_id", "month", "days_worked", "days_required"], [rid, "2024-01", 20, 22]],
    )
    other = write_csv(
        tmp_path / "jan-2.csv",
        [["resident_id", "month", "days_worked", "days_required"], [rid, "2024-01", 22, 22]],
    )

    first, _ = run(ledger, ATTENDANCE, sheet)
    before = head(ledger)
    again, again_report = run(ledger, ATTENDANCE, sheet)
    changed, changed_report = run(ledger, ATTENDANCE, other)

    assert counts(first) == (1, 1, 0, 0)
    assert (counts(again), again_report) == ((1, 0, 1, 0), [])
    assert changed_report == [
        (
            "2",
            "month",
            "POST-ATTENDANCE-ONCE",
            "a different attendance for 2024-01 is already recorded",
        )
    ]
    assert counts(changed) == (1, 0, 0, 1)
    assert head(ledger) == before


# -- files the import cannot use --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "身份证号,姓名,户籍地区划代码,人员类别,劳动能力,户编号\n",
            "IMPORT-HEADER: line 1: missing column(s) 银行账号 (bank_account). Accepted",
        ),
        (
            (
                "resident_id,身份证号,name,home_region,poverty_status,labour_capacity,household_id,"
                "bank acount\n"
            ),
            "the same column twice: 'resident_id' and '身份证号'; unknown column(s) 'bank acount'",
        ),
        (b"\xd0\xcf\x11\xe0rest", "an old Excel (.xls) workbook: save it as .xlsx or as CSV"),
        (b"", "is empty"),
        (b"abc,\x80\xff\n", "not UTF-8 or GB18030 text: undecodable bytes at byte 4"),
        (b"PK\x03\x04not a zip", "not a readable XLSX workbook"),
    ],
)
def test_a_file_the_import_cannot_use_is_refused_before_anything_is_written(
    ledger: Ledger, tmp_path: Path, content: str | bytes, expected: str
) -> None:
    path = tmp_path / "roster.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    before = head(ledger)

    with pytest.raises(FileError) as refused:
        import_file(ledger, PEOPLE, path, report=tmp_path / "report.csv", actor=f.clerk())

    assert refused.value.rule_id in {"IMPORT-HEADER", "IMPORT-FILE"}
    assert expected in str(refused.value)
    assert head(ledger) == before
    assert not (tmp_path / "report.csv").exists()


def test_a_line_the_reader_cannot_take_stops_the_import_there_and_says_so(
    ledger: Ledger, tmp_path: Path
) -> None:
    done, later = f.resident_id(), f.resident_id()
    path = tmp_path / "roster.csv"
    write_csv(
        path,
        [
            PEOPLE_HEADER,
            [1, done, "张三", f.COUNTY, "脱贫人口", "弱劳力", "H-1", "6222020200000011", ""],
            [2, "x" * (1 << 20), "", "", "", "", "", "", ""],
            [3, later, "李四", f.COUNTY, "脱贫人口", "弱劳力", "H-3", "6222020200000033", ""],
        ],
    )

    summary, report = run(ledger, PEOPLE, path)

    assert report == [("3", "", "IMPORT-FILE", "a line longer than 1 MiB: not a spreadsheet row")]
    assert summary.stopped is not None
    assert (counts(summary), summary.exit_code) == ((1, 1, 0, 0), 3)
    assert ledger.people.get(ledger.people.id_for(done)).name == "张三"


@pytest.mark.parametrize(
    ("chunked", "stopped_at", "stopped_counts", "resumed_counts"),
    [
        # one row per transaction: line 2 is in, line 3 may or may not be
        (False, "3", (2, 1, 0, 0), (3, 2, 1, 0)),
        # lines 2-4 are one chunk: nothing of it is in, the report names its first line
        (True, "2", (3, 0, 0, 0), (3, 3, 0, 0)),
    ],
)
def test_an_interrupted_import_reports_where_it_stopped_and_a_rerun_completes_it(
    ledger: Ledger,
    tmp_path: Path,
    *,
    chunked: bool,
    stopped_at: str,
    stopped_counts: tuple[int, int, int, int],
    resumed_counts: tuple[int, int, int, int],
) -> None:
    rids = [f.resident_id() for _ in range(3)]
    rows = [
        [n, rid, f"人{n}", f.COUNTY, "脱贫人口", "弱劳力", f"H-{n}", f"622202020000{n}0", ""]
        for n, rid in enumerate(rids)
    ]
    path = write_csv(tmp_path / "roster.csv", [PEOPLE_HEADER, *rows])
    report = tmp_path / "roster.report.csv"

    def operator_presses_ctrl_c_at_line_3(line: int, facts: PersonRow) -> bool:
        if line == 3:
            raise KeyboardInterrupt
        return PEOPLE.write(ledger, f.clerk(), facts)

    with open_table(path) as table, report.open("w", encoding="utf-8-sig") as handle:
        header = read_header(table.header, PEOPLE.columns)
        with SeenKeys() as seen:
            stopped = run_import(
                PEOPLE,
                table,
                header=header,
                report=ReportWriter(handle, header.label),
                seen=seen,
                write=operator_presses_ctrl_c_at_line_3,
                each=ledger.store.transact_each if chunked else None,
            )
    stopped_report = read_report(report)
    first_in = ledger.store.find(Person, ledger.people.id_for(rids[0])) is not None
    resumed, resumed_report = run(ledger, PEOPLE, path)

    assert (counts(stopped), stopped.exit_code) == (stopped_counts, 3)
    assert first_in is not chunked
    assert stopped_report == [
        (
            stopped_at,
            "",
            "IMPORT-STOPPED",
            (
                "interrupted; the lines from this one on may or may not have been written, the "
                "lines after them were not read; importing the same file again is safe and "
                "writes only what is missing"
            ),
        )
    ]
    assert (counts(resumed), resumed_report) == (resumed_counts, [])
    assert all(ledger.people.get(ledger.people.id_for(rid)) for rid in rids)


def test_a_stale_dimension_in_a_workbook_cuts_no_row_off(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "book.xlsx", [["a", "b"], [1, 2], [3, 4], [5, 6]])
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(stale, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:B2"', data)
            target.writestr(item, data)

    with open_table(stale) as table:
        rows = list(table.rows())

    assert rows == [(2, (1, 2)), (3, (3, 4)), (4, (5, 6))]


def test_dates_and_numbers_of_a_workbook_are_read_as_typed(ledger: Ledger, tmp_path: Path) -> None:
    rid = f.resident_id()
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        [
            [
                "resident_id",
                "name",
                "home_region",
                "poverty_status",
                "labour_capacity",
                "household_id",
                "bank_account",
                "public_payroll",
            ],
            [rid, "张三", int(f.COUNTY), "lifted", "weak", 1001, 622202020000001, True],
        ],
    )

    summary, report = run(ledger, PEOPLE, path)

    assert (counts(summary), report) == ((1, 1, 0, 0), [])
    person = ledger.people.get(ledger.people.id_for(rid))
    assert (person.home_region, person.household_id, person.bank_account) == (
        f.COUNTY,
        "1001",
        "622202020000001",
    )
    assert person.public_payroll is True
