"""``import claims``: transport grants and subsidy applications, one claim per row.

The programme column says which: ``GRANT-TRANSPORT`` (一次性交通补助) is a transport
grant; any other programme code of the catalogue is an application. The external claim
id is the claim's natural key: the same id with the same facts is the same claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.errors import DomainError, InvalidInputError
from disburse.domain.grant import GRANT_PROGRAMME
from disburse.domain.subsidy import programme_rules
from disburse.domain.text import TextKind, clean_text
from disburse.importing import values
from disburse.importing.columns import REQUIRED_RULE, Column
from disburse.importing.lookup import check_name, registered_organisation, registered_person
from disburse.importing.runner import Kind
from disburse.importing.values import VALUE_RULE, shown

if TYPE_CHECKING:
    from datetime import date

    from disburse.access.context import Context
    from disburse.application.ledger import Ledger
    from disburse.importing.columns import Cells

UNUSED_RULE = "IMPORT-UNUSED"
APPLICANT_RULE = "IMPORT-APPLICANT"
_EXTERNAL_MAX = 64
_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+")
#: Programme names as bureaus write them, for the default catalogue's programmes.
LABELS = {
    "一次性交通补助": GRANT_PROGRAMME,
    "跨省务工交通补助": GRANT_PROGRAMME,
    "就业创业服务补助": "SVC-BROKER",
    "以工代训职业培训补贴": "TRAIN-OJT",
    "以工代训": "TRAIN-OJT",
    "一岗多补": "HIRE-WAGE",
    "一次性岗位补贴": "HIRE-GRAD",
    "培训期间生活费补贴": "TRAIN-LIVING",
    "一次性创业补贴": "STARTUP-ONCE",
    "就业帮扶基地奖补": "BASE-REWARD",
    "代缴养老保险费": "PENSION-PROXY",
}
_IDS = ("身份证号码", "公民身份号码", "证件号码")
COLUMNS = (
    Column("external_claim_id", "申报编号", ("外部编号", "业务编号"), required=True),
    Column("programme", "补贴项目", ("项目",), required=True),
    Column("resident_id", "身份证号", _IDS),
    Column("name", "姓名"),
    Column("credit_code", "统一社会信用代码", ("信用代码",)),
    Column("beneficiary_resident_ids", "受益人身份证号", ("受益人",)),
    Column("work_province", "务工省份", ("务工地省份", "务工地")),
    Column("employer", "用工单位", ("就业单位", "务工单位")),
    Column("started_on", "务工开始日期", ("开始务工日期", "就业开始日期")),
    Column("months_worked", "务工月数", ("外出务工月数",)),
    Column("period_start", "补贴起始", ("补贴起始月份", "补贴开始日期", "起始月份")),
    Column("months", "补贴月数", ("月数",)),
    Column("amount_yuan", "补贴标准(元)", ("补贴标准",)),
    Column("evidence", "证明材料", ("佐证材料", "证明材料编号", "evidence_ref"), required=True),
)
_COMMON = frozenset({"external_claim_id", "programme", "resident_id", "name", "evidence"})
GRANT_COLUMNS = _COMMON | {"work_province", "employer", "started_on", "months_worked"}
APPLICATION_COLUMNS = _COMMON | {
    *("credit_code", "beneficiary_resident_ids", "period_start", "months", "amount_yuan"),
}


@dataclass(frozen=True)
class GrantRow:
    """A transport grant claim."""

    external_claim_id: str
    resident_id: str
    name: str | None
    work_province: str
    employer: str
    started_on: date
    months_worked: int
    evidence_ref: str


@dataclass(frozen=True)
class ApplicationRow:
    """A subsidy application, by a person (resident ID) or an organisation (credit code)."""

    external_claim_id: str
    programme: str
    resident_id: str | None
    credit_code: str | None
    name: str | None
    beneficiaries: tuple[str, ...]
    period_start: date
    months: int
    chosen_fen: int | None
    evidence: tuple[str, ...]


def external_id(cell: object) -> str:
    """The claim's id in the bureau's own system: 1 to 64 characters."""
    value = values.text(cell)
    if len(value) > _EXTERNAL_MAX or not value.isprintable():
        raise InvalidInputError(VALUE_RULE, "an external claim id is 1 to 64 printable characters")
    return value


def programme(cell: object) -> str:
    """A programme code (GRANT-TRANSPORT, SVC-BROKER ...) or a default programme's name."""
    value = values.folded(cell)
    found = LABELS.get(value)
    if found is not None:
        return found
    if _CODE.fullmatch(value.upper()):
        return value.upper()
    raise InvalidInputError(
        VALUE_RULE,
        f"{shown(cell)} is not a programme: give its code (GRANT-TRANSPORT, SVC-BROKER...) "
        "or its name (一次性交通补助, 就业创业服务补助...)",
    )


def evidence_list(cell: object) -> tuple[str, ...]:
    """Document references separated by ``;`` or line breaks."""
    parts = re.split(r"[;\n]", values.folded(cell))
    return tuple(clean_text(p.strip(), kind=TextKind.LABEL) for p in parts if p.strip())


def read(cells: Cells) -> tuple[GrantRow | ApplicationRow | None, str | None]:
    """The row's claim; the external claim id is its key in the file."""
    external = cells.get("external_claim_id", external_id)
    code = cells.get("programme", programme)
    if code is None:
        return None, external
    facts: GrantRow | ApplicationRow | None
    if code == GRANT_PROGRAMME:
        facts = _grant(cells, external)
    else:
        facts = _application(cells, external, code)
    return (None if cells.problems else facts), external


def _unused(cells: Cells, used: frozenset[str], what: str) -> None:
    for name in cells.header.positions:
        if name not in used and cells.given(name):
            cells.refuse(name, UNUSED_RULE, f"not used by {what}: leave it blank")


def _grant(cells: Cells, external: str | None) -> GrantRow | None:
    what = "a transport grant"
    _unused(cells, GRANT_COLUMNS, what)
    rid = cells.get("resident_id", values.resident_id, needed_by=what)
    name = cells.get("name", values.text, required=False)
    province = cells.get("work_province", values.province, needed_by=what)
    employer = cells.get("employer", values.text, needed_by=what)
    started = cells.get("started_on", values.day, needed_by=what)
    months = cells.get("months_worked", values.whole, needed_by=what)
    evidence = cells.get("evidence", values.text, needed_by=what)
    if (
        external is None
        or rid is None
        or province is None
        or employer is None
        or started is None
        or months is None
        or evidence is None
    ):
        return None
    return GrantRow(external, rid, name, province, employer, started, months, evidence)


def _application(cells: Cells, external: str | None, code: str) -> ApplicationRow | None:
    what = f"a {code} application"
    _unused(cells, APPLICATION_COLUMNS, what)
    rid = cells.get("resident_id", values.resident_id, required=False)
    org = cells.get("credit_code", values.credit_code, required=False)
    if cells.given("resident_id") and cells.given("credit_code"):
        cells.refuse(
            "credit_code",
            APPLICANT_RULE,
            "an application has one applicant: an organisation (credit code) or a person "
            "(resident ID), not both",
        )
    elif not cells.given("resident_id") and not cells.given("credit_code"):
        cells.refuse(
            "resident_id" if cells.header.has("resident_id") else "credit_code",
            REQUIRED_RULE,
            f"{what} names its applicant: a resident ID (a person) or a credit code "
            "(an organisation)",
        )
    if cells.given("name") and not cells.given("resident_id"):
        cells.refuse("name", UNUSED_RULE, "the name is checked against a resident ID: none given")
    name = cells.get("name", values.text, required=False)
    beneficiaries = cells.get("beneficiary_resident_ids", values.resident_ids, required=False)
    start = cells.get("period_start", values.month_or_day, needed_by=what)
    months = cells.get("months", values.whole, required=False)
    chosen = cells.get("amount_yuan", values.fen, required=False)
    evidence = cells.get("evidence", evidence_list, required=False)
    if external is None or start is None or (rid is None and org is None):
        return None
    return ApplicationRow(
        external_claim_id=external,
        programme=code,
        resident_id=rid,
        credit_code=org,
        name=name,
        beneficiaries=beneficiaries or (),
        period_start=start,
        months=1 if months is None else months,
        chosen_fen=chosen,
        evidence=evidence or (),
    )


def write(ledger: Ledger, ctx: Context, row: GrantRow | ApplicationRow) -> bool:
    """Claim the grant or submit the application; the same claim again writes nothing."""
    if isinstance(row, GrantRow):
        person = registered_person(ledger, row.resident_id)
        check_name(person, row.name)
        return ledger.grants.claim(
            ctx,
            person_id=person.id,
            work_province=row.work_province,
            employer=row.employer,
            started_on=row.started_on,
            months_worked=row.months_worked,
            evidence_ref=row.evidence_ref,
            external_claim_id=row.external_claim_id,
        ).created
    return _submit(ledger, ctx, row)


def _submit(ledger: Ledger, ctx: Context, row: ApplicationRow) -> bool:
    if row.credit_code is not None:
        organisation = registered_organisation(ledger, row.credit_code)
        applicant, region, column = organisation.id, organisation.region_code, "credit_code"
    else:
        assert row.resident_id is not None  # noqa: S101 - read() gives one or the other
        person = registered_person(ledger, row.resident_id)
        check_name(person, row.name)
        applicant, region, column = person.id, person.home_region, "resident_id"
    beneficiaries = [
        registered_person(
            ledger, rid, field="beneficiary_resident_ids", what=f"person (beneficiary no. {n})"
        ).id
        for n, rid in enumerate(row.beneficiaries, start=1)
    ]
    try:
        if row.chosen_fen is not None:
            _check_amount_is_chosen(ledger, row, region)
        return ledger.subsidies.submit(
            ctx,
            programme=row.programme,
            applicant_id=applicant,
            beneficiary_ids=beneficiaries,
            period_start=row.period_start,
            months=row.months,
            chosen_fen=row.chosen_fen,
            evidence=row.evidence,
            external_claim_id=row.external_claim_id,
        ).created
    except DomainError as error:
        if error.field == "applicant_id":
            error.field = column
        raise


def _check_amount_is_chosen(ledger: Ledger, row: ApplicationRow, region: str) -> None:
    """An amount is given only where the catalogue lets the applicant choose one."""
    policy = ledger.policy.in_force(region, row.period_start)
    amount = programme_rules(policy, row.programme).amount
    if amount.kind == "fixed" or amount.min_fen is None or amount.max_fen is None:
        raise InvalidInputError(
            UNUSED_RULE,
            f"{row.programme} takes its amount from catalogue {policy.version}, not from the "
            "file: leave it blank",
            "amount_yuan",
        )


CLAIMS: Kind[GrantRow | ApplicationRow] = Kind(
    name="claims",
    columns=COLUMNS,
    read=read,
    write=write,
    key_field="external_claim_id",
    duplicate="this external claim id is already on line {line} of this file",
    fields={
        "person_id": "resident_id",
        "beneficiary_ids": "beneficiary_resident_ids",
        "chosen_fen": "amount_yuan",
        "evidence_ref": "evidence",
    },
    one_of=("resident_id", "credit_code"),
)
