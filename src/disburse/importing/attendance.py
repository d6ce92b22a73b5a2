"""``import attendance``: monthly attendance sheets (考勤表) of public-welfare post holders.

A row logs one holder's month on the post they hold now. The stipend is not requested
here: the monthly run (``disburse run month``) requests it from the sheets logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from disburse.application.claims import holder_of
from disburse.application.posts import seat_key
from disburse.domain.errors import RuleViolationError
from disburse.importing import values
from disburse.importing.columns import Column
from disburse.importing.lookup import check_name, registered_person
from disburse.importing.runner import Kind

if TYPE_CHECKING:
    from uuid import UUID

    from disburse.access.context import Context
    from disburse.application.ledger import Ledger
    from disburse.domain.months import Month
    from disburse.importing.columns import Cells

HOLDER_RULE = "IMPORT-NOT-HOLDER"

COLUMNS = (
    Column("resident_id", "身份证号", ("身份证号码", "公民身份号码", "证件号码"), required=True),
    Column("month", "月份", ("考勤月份",), required=True),
    Column("days_worked", "出勤天数", ("实际出勤天数",), required=True),
    Column("days_required", "应出勤天数", ("应出勤",), required=True),
    Column("post_id", "岗位编号", ("岗位id",)),
    Column("name", "姓名"),
)


@dataclass(frozen=True)
class SheetRow:
    """One holder's attendance for one month."""

    resident_id: str
    month: Month
    days_worked: int
    days_required: int
    post_id: UUID | None
    name: str | None


def read(cells: Cells) -> tuple[SheetRow | None, str | None]:
    """The row's sheet; the resident ID and month are its key in the file."""
    rid = cells.get("resident_id", values.resident_id)
    month = cells.get("month", values.month)
    worked = cells.get("days_worked", values.whole)
    required = cells.get("days_required", values.whole)
    post_id = cells.get("post_id", values.identifier, required=False)
    name = cells.get("name", values.text, required=False)
    key = None if rid is None or month is None else f"{rid}:{month}"
    if rid is None or month is None or worked is None or required is None or cells.problems:
        return None, key
    return SheetRow(rid, month, worked, required, post_id, name), key


def write(ledger: Ledger, ctx: Context, row: SheetRow) -> bool:
    """Log the sheet on the post the person holds; the same sheet again writes nothing."""
    person = registered_person(ledger, row.resident_id)
    check_name(person, row.name)
    held = holder_of(ledger.store, seat_key(person.id))
    if row.post_id is not None and held != row.post_id:
        now = f"they hold post {held}" if held is not None else "they hold no post now"
        raise RuleViolationError(
            HOLDER_RULE, f"this person does not hold that post: {now}", "post_id"
        )
    if held is None:
        raise RuleViolationError(
            HOLDER_RULE,
            "this person holds no public-welfare post now: appoint them before logging attendance",
            "resident_id",
        )
    return ledger.posts.log_attendance(
        ctx,
        held,
        month=row.month,
        days_worked=row.days_worked,
        days_required=row.days_required,
    )


ATTENDANCE: Kind[SheetRow] = Kind(
    name="attendance",
    columns=COLUMNS,
    read=read,
    write=write,
    key_field="resident_id",
    duplicate="this person's attendance for the same month is already on line {line}",
    fields={"person_id": "resident_id"},
)
