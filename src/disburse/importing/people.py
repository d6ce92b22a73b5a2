"""``import people``: the beneficiary roster (花名册), one person per row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.domain.errors import ConflictError
from disburse.domain.person import LabourCapacity, PovertyStatus, check_account, check_name
from disburse.importing import values
from disburse.importing.columns import Column
from disburse.importing.runner import Kind
from disburse.importing.values import Choices

if TYPE_CHECKING:
    from disburse.access.context import Context
    from disburse.application.ledger import Ledger
    from disburse.importing.columns import Cells

DIFFERS_RULE = "IMPORT-PERSON-DIFFERS"

POVERTY = Choices(
    "poverty status",
    {
        PovertyStatus.LIFTED: ("lifted", "脱贫人口", "脱贫户"),
        PovertyStatus.MONITORED: ("monitored", "防止返贫监测对象", "监测对象"),
        PovertyStatus.LOW_INCOME: ("low_income", "农村低收入人口", "低收入人口"),
        PovertyStatus.NONE: ("none", "一般人口", "无"),
    },
)
LABOUR = Choices(
    "labour capacity",
    {
        LabourCapacity.FULL: ("full", "全劳力", "全劳动力"),
        LabourCapacity.WEAK: ("weak", "弱劳力", "弱劳动力"),
        LabourCapacity.HALF: ("half", "半劳力", "半劳动力"),
    },
)
COLUMNS = (
    Column("resident_id", "身份证号", ("身份证号码", "公民身份号码", "证件号码"), required=True),
    Column("name", "姓名", required=True),
    Column(
        "home_region", "户籍地区划代码", ("户籍地代码", "行政区划代码", "区划代码"), required=True
    ),
    Column("poverty_status", "人员类别", ("脱贫属性", "帮扶对象类别"), required=True),
    Column("labour_capacity", "劳动能力", ("劳动力状况",), required=True),
    Column("household_id", "户编号", ("户号", "家庭编号"), required=True),
    Column("bank_account", "银行账号", ("银行卡号", "账号"), required=True),
    Column("public_payroll", "财政供养", ("是否财政供养", "财政供养人员")),
)


@dataclass(frozen=True)
class PersonRow:
    """A person's facts as the roster states them."""

    resident_id: str
    name: str
    home_region: str
    poverty_status: PovertyStatus
    labour_capacity: LabourCapacity
    household_id: str
    bank_account: str
    public_payroll: bool

    def facts(self) -> dict[str, object]:
        """The facts a registered person must share with this row (all but the ID)."""
        return {
            "name": self.name,
            "home_region": self.home_region,
            "poverty_status": self.poverty_status,
            "labour_capacity": self.labour_capacity,
            "household_id": self.household_id,
            "bank_account": self.bank_account,
            "public_payroll": self.public_payroll,
        }


def read(cells: Cells) -> tuple[PersonRow | None, str | None]:
    """The row's person; the resident ID is its key in the file."""
    rid = cells.get("resident_id", values.resident_id)
    name = cells.get("name", lambda cell: check_name(values.text(cell)))
    region = cells.get("home_region", values.region)
    status = cells.get("poverty_status", POVERTY)
    labour = cells.get("labour_capacity", LABOUR)
    household = cells.get("household_id", values.text)
    account = cells.get("bank_account", lambda cell: check_account(values.code(cell)))
    payroll = cells.get("public_payroll", values.flag, required=False)
    if (
        rid is None
        or name is None
        or region is None
        or status is None
        or labour is None
        or household is None
        or account is None
        or cells.problems
    ):
        return None, rid
    return PersonRow(rid, name, region, status, labour, household, account, bool(payroll)), rid


def write(ledger: Ledger, ctx: Context, row: PersonRow) -> bool:
    """Register the person; one already registered with the same facts is left alone.

    One registered with other facts is refused (IMPORT-PERSON-DIFFERS) and not changed:
    a new account or status is a command of its own, with its reason, never a side
    effect of re-sending a roster.
    """
    registration = ledger.people.register(
        ctx,
        resident_id=row.resident_id,
        name=row.name,
        home_region=row.home_region,
        poverty_status=row.poverty_status,
        labour_capacity=row.labour_capacity,
        household_id=row.household_id,
        bank_account=row.bank_account,
        public_payroll=row.public_payroll,
    )
    if registration.created:
        return True
    person = ledger.people.get(registration.person_id)
    differs = [name for name, value in row.facts().items() if getattr(person, name) != value]
    if differs:
        raise ConflictError(
            DIFFERS_RULE,
            f"already registered with another {', '.join(differs)}; nothing was changed: "
            "record a change with its own command and reason, not by import",
            differs[0],
        )
    return False


PEOPLE: Kind[PersonRow] = Kind(
    name="people",
    columns=COLUMNS,
    read=read,
    write=write,
    key_field="resident_id",
    duplicate="this resident ID is already on line {line} of this file",
)
