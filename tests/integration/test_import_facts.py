"""Cross-checks (比对) on SQLite and PostgreSQL: departments' lists become facts on people.

Each source's columns are read (Chinese headers, as the lists come), the facts are
recorded on the people named, unknown people are reported and not created, the FRAUD-*
rules fire on the facts, and importing the same file again writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from disburse.domain.months import Month
from disburse.domain.person import Person
from disburse.importing.facts import fact_kind
from disburse.importing.reader import digest_of
from disburse.importing.runner import import_file
from tests import factories as f
from tests.integration.test_alerts import raised, stipends
from tests.integration.test_import import Report, read_report, write_csv, write_xlsx

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from uuid import UUID

    from disburse.application.ledger import Ledger
    from disburse.importing.runner import Summary
    from disburse.readside.views import Views


def head(ledger: Ledger) -> int:
    return ledger.store.recorder.max_notification_id() or 0


def resident_id_of(ledger: Ledger, person: UUID) -> str:
    return ledger.store.load(Person, person, "person").resident_id


def import_facts(ledger: Ledger, source: str, path: Path) -> tuple[Summary, Report]:
    report = path.with_suffix(".report.csv")
    summary = import_file(
        ledger,
        fact_kind(source, digest_of(path)),
        path,
        report=report,
        actor=f.clerk("clerk-exchange"),
    )
    return summary, read_report(report)


def rows(path: Path, lines: Sequence[Sequence[object]]) -> Path:
    return write_csv(path, lines)


def test_a_death_on_the_civil_affairs_list_flags_the_stipends_paid_after_it_once(
    ledger: Ledger, views: Views, tmp_path: Path
) -> None:
    """FRAUD-PAID-AFTER-EXIT for February's paid stipend; the same file again writes nothing."""
    _, person, (january, february) = stipends(ledger)
    stranger = f.resident_id()
    listed = rows(
        tmp_path / "deaths-2024-02.csv",
        [
            ["序号", "身份证号", "姓名", "死亡日期"],
            [1, resident_id_of(ledger, person), "测试人", "2024-01-20"],
            [2, stranger, "陌生人", "2024/2/3"],
        ],
    )

    summary, report = import_facts(ledger, "civil-affairs-deaths", listed)

    assert (summary.written, summary.noted, summary.rejected, summary.exit_code) == (1, 1, 0, 0)
    assert [(line, rule) for line, _, rule, _ in report] == [("3", "PERSON-NOT-FOUND")]
    assert stranger not in listed.with_suffix(".report.csv").read_text(encoding="utf-8-sig")
    assert ledger.store.find(Person, ledger.people.id_for(stranger)) is None  # not created
    died = ledger.people.get(person)
    assert died.died_on == date(2024, 1, 20)
    [alert] = raised(views, "FRAUD-PAID-AFTER-EXIT")
    assert alert.subject_id == str(february) != str(january)
    assert "died on 2024-01-20" in alert.summary
    events = f.stored_events(ledger, person)
    death = events[-1]
    meta = f.meta_of(death)
    assert meta.request_id.startswith("import:facts-civil-affairs-deaths:deaths-2024-02.csv@")
    assert meta.request_id.endswith(":line-2")
    assert digest_of(listed) in death.evidence  # type: ignore[attr-defined]
    before = head(ledger)

    again, _ = import_facts(ledger, "civil-affairs-deaths", listed)

    assert head(ledger) == before
    assert (again.written, again.present, again.noted) == (0, 1, 1)


def test_a_death_on_another_date_than_the_one_on_record_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    person = f.register(ledger)
    ledger.people.record_death(f.clerk(), person, died_on=date(2024, 1, 2), evidence="family")
    listed = rows(
        tmp_path / "deaths.csv",
        [["身份证号", "死亡日期"], [resident_id_of(ledger, person), "2024-01-05"]],
    )

    summary, report = import_facts(ledger, "civil-affairs-deaths", listed)

    assert (summary.rejected, summary.exit_code) == (1, 1)
    assert [(r[1], r[2]) for r in report] == [("死亡日期", "PERSON-DEATH")]


def test_the_social_insurance_list_records_work_and_wages(
    ledger: Ledger, views: Views, tmp_path: Path
) -> None:
    """Columns: 身份证号, 姓名, 参保单位, 参保地, 参保日期, 缴费月份, 缴费工资."""
    person = f.register(ledger)
    rid = resident_id_of(ledger, person)
    listed = write_xlsx(
        tmp_path / "si-2024-02.xlsx",
        [
            ["身份证号", "姓名", "参保单位", "参保地", "参保日期", "缴费月份", "缴费工资"],
            [rid, "测试人", "深圳某电子厂", "440300", "2024-01-08", "2024-02", "4500.00"],
            [rid, "别人", "深圳某电子厂", "广东", "2024-01-08", "2024-01", ""],
        ],
    )

    summary, report = import_facts(ledger, "social-insurance", listed)

    assert (summary.written, summary.rejected) == (1, 1)
    assert [(r[0], r[2]) for r in report] == [("3", "IMPORT-NAME-MISMATCH")]
    recorded = ledger.people.get(person)
    [work] = recorded.employments
    assert (work["province_code"], work["employer"], work["started_on"]) == (
        "44",
        "深圳某电子厂",
        date(2024, 1, 8),
    )
    assert recorded.income_in(Month(2024, 2)) == 450_000
    reason = f.meta_of(f.stored_events(ledger, person)[-2]).reason or ""
    assert reason.endswith(f"file sha256:{digest_of(listed)}")
    before = head(ledger)
    again, _ = import_facts(ledger, "social-insurance", listed)
    assert (head(ledger), again.present, again.written) == (before, 1, 0)
    views.catch_up()
    assert views.entitlements.with_work_in(2024, f.COUNTY) == [str(person)]


def test_the_unemployment_list_ends_the_work_on_record(ledger: Ledger, tmp_path: Path) -> None:
    """Columns: 身份证号, 姓名, 登记日期."""
    person = f.register(ledger)
    ledger.people.record_employment(
        f.clerk(), person, province_code="44", employer="某厂", started_on=date(2024, 1, 2)
    )
    listed = rows(
        tmp_path / "unemployment.csv",
        [
            ["身份证号", "姓名", "登记日期"],
            [resident_id_of(ledger, person), "测试人", "2024-02-10"],
        ],
    )

    summary, _ = import_facts(ledger, "unemployment", listed)
    before = head(ledger)
    again, _ = import_facts(ledger, "unemployment", listed)

    assert (summary.written, again.present, head(ledger)) == (1, 1, before)
    recorded = ledger.people.get(person)
    assert recorded.unemployed_on == [date(2024, 2, 10)]
    assert recorded.employments[0]["ended_on"] == date(2024, 2, 10)


def test_a_post_holder_on_the_payroll_list_is_flagged(
    ledger: Ledger, views: Views, tmp_path: Path
) -> None:
    """Columns: 身份证号, 姓名, 单位, 入编日期; FRAUD-INELIGIBLE-PLACEMENT for the holder."""
    post_id, person = f.staffed_post(ledger, f.county(ledger))
    listed = rows(
        tmp_path / "payroll.csv",
        [
            ["身份证号", "姓名", "单位", "入编日期"],
            [resident_id_of(ledger, person), "测试人", "某镇政府", "2023-09-01"],
        ],
    )

    summary, _ = import_facts(ledger, "payroll", listed)
    before = head(ledger)
    again, _ = import_facts(ledger, "payroll", listed)

    assert (summary.written, again.present, head(ledger)) == (1, 1, before)
    assert ledger.people.get(person).public_payroll
    [alert] = raised(views, "FRAUD-INELIGIBLE-PLACEMENT")
    assert (alert.subject_id, alert.person_id) == (str(post_id), str(person))
    assert "payroll" in alert.summary


def test_a_list_without_its_required_columns_is_refused_before_any_row(
    ledger: Ledger, tmp_path: Path
) -> None:
    """IMPORT-HEADER: a deaths list needs 身份证号 and 死亡日期."""
    import pytest  # noqa: PLC0415 - only this test raises

    from disburse.importing.report import FileError  # noqa: PLC0415

    listed = rows(tmp_path / "deaths.csv", [["身份证号", "姓名"], [f.resident_id(), "某人"]])
    before = head(ledger)
    with pytest.raises(FileError, match="IMPORT-HEADER"):
        import_facts(ledger, "civil-affairs-deaths", listed)
    assert head(ledger) == before


def test_a_wage_over_the_threshold_on_the_social_insurance_list_flags_a_part_time_holder(
    ledger: Ledger, views: Views, tmp_path: Path
) -> None:
    """Employment that ends eligibility: FRAUD-INCOME-OVER for the stipends already paid."""
    f.publish(ledger, f.regional_policy(income_exit_threshold_fen=200_000))
    post_id, person, _ = stipends(ledger, part_time=True)
    listed = rows(
        tmp_path / "si.csv",
        [
            ["身份证号", "参保单位", "参保地", "参保日期", "缴费月份", "缴费工资"],
            [
                resident_id_of(ledger, person),
                "县城某超市",
                "220221",
                "2024-01-02",
                "2024-01",
                "2500",
            ],
        ],
    )

    summary, _ = import_facts(ledger, "social-insurance", listed)

    assert summary.written == 1
    [alert] = raised(views, "FRAUD-INCOME-OVER")
    assert (alert.subject_id, alert.person_id) == (str(post_id), str(person))
    assert "2 stipend(s)" in alert.summary
