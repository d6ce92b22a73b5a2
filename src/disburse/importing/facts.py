"""``import facts --source ...``: the monthly lists other departments exchange (比对).

Each source is a kind of file with its own columns; every row names a person by resident
ID (matched by keyed hash, never created: an unknown person is reported, PERSON-NOT-FOUND)
and becomes a fact on that person, with the row's request id (file, SHA-256 prefix,
line) and a reason naming the department and the file's full SHA-256:

- ``social-insurance`` (社保参保): employment (EmploymentRecorded), and the month's
  contribution wage as income (IncomeReported) when given;
- ``unemployment`` (失业登记): a registration as unemployed (UnemploymentRegistered),
  which ends the work on record before it;
- ``civil-affairs-deaths`` (民政死亡): a death (DeathRecorded);
- ``payroll`` (财政供养): the person is on a government payroll (StatusChanged).

A fact already on record is not written again, so importing the same file twice writes
nothing. The alerts view raises the FRAUD-* rules on these facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.errors import ConflictError
from disburse.importing import values
from disburse.importing.columns import Column
from disburse.importing.lookup import check_name, registered_person
from disburse.importing.runner import Kind

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from disburse.access.context import Context
    from disburse.application.ledger import Ledger
    from disburse.domain.months import Month
    from disburse.importing.columns import Cells

UNKNOWN_RULE = "PERSON-NOT-FOUND"
RESIDENT_ID = Column(
    "resident_id", "身份证号", ("身份证号码", "公民身份号码", "证件号码"), required=True
)
NAME = Column("name", "姓名")
INSURED_REGION_ALIASES = ("参保地区划代码", "就业地", "参保省份")


@dataclass(frozen=True)
class Source:
    """A department's list: its name on the command line, the department, what it says."""

    name: str
    department: str
    what: str


SOURCES = {
    s.name: s
    for s in (
        Source("social-insurance", "社会保险经办机构", "social-insurance enrolment"),
        Source("unemployment", "公共就业服务机构", "unemployment registration"),
        Source("civil-affairs-deaths", "民政部门", "civil-affairs death records"),
        Source("payroll", "财政部门", "government payroll"),
    )
}


@dataclass(frozen=True)
class FactRow:
    """One row of a department's list: who, and the fact about them."""

    resident_id: str
    name: str | None
    on: date  # the fact's date: insured from, registered, died, on payroll from
    employer: str | None = None
    province_code: str | None = None
    month: Month | None = None
    wage_fen: int | None = None


def _reason(source: Source, sha256: str) -> str:
    return f"比对 {source.what} ({source.department}), file sha256:{sha256}"


# -- social insurance -------------------------------------------------------------------------


def _read_insurance(cells: Cells) -> tuple[FactRow | None, str | None]:
    rid = cells.get("resident_id", values.resident_id)
    name = cells.get("name", values.text, required=False)
    employer = cells.get("employer", values.text)
    province = cells.get("insured_region", values.province)
    started = cells.get("started_on", values.day)
    month = cells.get("month", values.month, required=False)
    wage = cells.get("wage", values.fen, required=False)
    if wage is not None and month is None:
        cells.require("month", "a wage")
    key = None if rid is None else f"{rid}:{employer}:{started}:{month}"
    if rid is None or employer is None or province is None or started is None or cells.problems:
        return None, key
    return FactRow(rid, name, started, employer, province, month, wage), key


def _write_insurance(source: Source, sha256: str) -> Callable[[Ledger, Context, FactRow], bool]:
    def write(ledger: Ledger, ctx: Context, row: FactRow) -> bool:
        person = registered_person(ledger, row.resident_id)
        check_name(person, row.name)
        employer, province = row.employer or "", row.province_code or ""
        reason = _reason(source, sha256)
        wrote = False
        if not person.has_employment(province_code=province, employer=employer, started_on=row.on):
            ledger.people.record_employment(
                ctx,
                person.id,
                province_code=province,
                employer=employer,
                started_on=row.on,
                reason=reason,
            )
            wrote = True
        if (
            row.month is not None
            and row.wage_fen is not None
            and person.income_in(row.month) != row.wage_fen
        ):
            ledger.people.report_income(
                ctx, person.id, month=row.month, amount_fen=row.wage_fen, source=reason
            )
            wrote = True
        return wrote

    return write


# -- unemployment, deaths, payroll --------------------------------------------------------------


def _read_dated(column: str) -> Callable[[Cells], tuple[FactRow | None, str | None]]:
    def read(cells: Cells) -> tuple[FactRow | None, str | None]:
        rid = cells.get("resident_id", values.resident_id)
        name = cells.get("name", values.text, required=False)
        on = cells.get(column, values.day)
        employer = cells.get("unit", values.text, required=False)
        if rid is None or on is None or cells.problems:
            return None, rid
        return FactRow(rid, name, on, employer), rid

    return read


def _write_unemployment(source: Source, sha256: str) -> Callable[[Ledger, Context, FactRow], bool]:
    def write(ledger: Ledger, ctx: Context, row: FactRow) -> bool:
        person = registered_person(ledger, row.resident_id)
        check_name(person, row.name)
        if row.on in person.unemployed_on:
            return False
        ledger.people.register_unemployment(
            ctx,
            person.id,
            registered_on=row.on,
            evidence=f"{source.department} {ctx.request_id}",
            reason=_reason(source, sha256),
        )
        return True

    return write


def _write_death(source: Source, sha256: str) -> Callable[[Ledger, Context, FactRow], bool]:
    def write(ledger: Ledger, ctx: Context, row: FactRow) -> bool:
        person = registered_person(ledger, row.resident_id)
        check_name(person, row.name)
        if person.died_on == row.on:
            return False
        if person.died_on is not None:
            raise ConflictError(
                "PERSON-DEATH",
                f"a death on another date ({person.died_on.isoformat()}) is on record: "
                "nothing was changed",
                "died_on",
            )
        ledger.people.record_death(
            ctx,
            person.id,
            died_on=row.on,
            evidence=f"{source.department} sha256:{sha256} {ctx.request_id}",
        )
        return True

    return write


def _write_payroll(source: Source, sha256: str) -> Callable[[Ledger, Context, FactRow], bool]:
    def write(ledger: Ledger, ctx: Context, row: FactRow) -> bool:
        person = registered_person(ledger, row.resident_id)
        check_name(person, row.name)
        if person.public_payroll:
            return False
        unit = f" at {row.employer}" if row.employer else ""
        ledger.people.change_status(
            ctx,
            person.id,
            effective_on=row.on,
            public_payroll=True,
            reason=f"{_reason(source, sha256)}: on the payroll{unit}",
        )
        return True

    return write


def fact_kind(source_name: str, sha256: str) -> Kind[FactRow]:
    """The kind of file a department's list is; ``KeyError`` for an unknown source."""
    source = SOURCES[source_name]
    name = f"facts-{source.name}"
    if source.name == "social-insurance":
        return Kind(
            name=name,
            columns=(
                RESIDENT_ID,
                Column("employer", "参保单位", ("单位名称", "用人单位"), required=True),
                Column(
                    "insured_region",
                    "参保地",
                    ("参保地区划代码", "就业地", "参保省份"),
                    required=True,
                ),
                Column("started_on", "参保日期", ("参保开始日期", "入职日期"), required=True),
                Column("month", "缴费月份", ("费款所属期",)),
                Column("wage", "缴费工资", ("缴费基数", "月工资")),
                NAME,
            ),
            read=_read_insurance,
            write=_write_insurance(source, sha256),
            key_field="resident_id",
            duplicate="the same enrolment and month is already on line {line} of this file",
            fields={"person_id": "resident_id", "province_code": "insured_region"},
            noted=frozenset({UNKNOWN_RULE}),
        )
    dated, chinese, aliases, write = {
        "unemployment": (
            "registered_on",
            "登记日期",
            ("失业登记日期", "失业日期"),
            _write_unemployment,
        ),
        "civil-affairs-deaths": ("died_on", "死亡日期", ("死亡时间",), _write_death),
        "payroll": ("started_on", "入编日期", ("起薪日期", "入职日期"), _write_payroll),
    }[source.name]
    unit = (Column("unit", "单位", ("工作单位", "单位名称")),) if source.name == "payroll" else ()
    return Kind(
        name=name,
        columns=(RESIDENT_ID, Column(dated, chinese, aliases, required=True), *unit, NAME),
        read=_read_dated(dated),
        write=write(source, sha256),
        key_field="resident_id",
        duplicate="this resident ID is already on line {line} of this file",
        fields={"person_id": "resident_id", "registered_on": dated, "effective_on": dated},
        noted=frozenset({UNKNOWN_RULE}),
    )
