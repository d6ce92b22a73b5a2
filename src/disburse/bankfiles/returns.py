"""A bank return file as read, before it is checked against the batch and recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from disburse.domain.errors import InvalidInputError

if TYPE_CHECKING:
    from datetime import date
    from uuid import UUID

    from disburse.domain.batch import Outcome

#: The most lines a return file may have (a batch is far smaller).
MAX_LINES = 20_000
REFUSED = "BANKFILE-REFUSED"


@dataclass(frozen=True)
class LineProblem:
    """Why one line of the file is refused: its line number (0: the file), rule and words."""

    line: int
    rule_id: str
    detail: str
    column: str = ""

    @property
    def where(self) -> str:
        """``file``, ``file.line.7`` or ``file.line.7.摘要``."""
        if not self.line:
            return "file"
        return f"file.line.{self.line}" + (f".{self.column}" if self.column else "")

    def __str__(self) -> str:
        place = f"line {self.line}" if self.line else "the file"
        column = f" ({self.column})" if self.column else ""
        return f"{place}{column}: {self.rule_id}: {self.detail}"


class ReturnFileError(InvalidInputError):
    """A return file refused whole (BANKFILE-REFUSED), with every problem found in it."""

    def __init__(self, problems: list[LineProblem]) -> None:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""  # noqa: PLR2004
        super().__init__(
            REFUSED,
            f"the return file is refused whole, nothing recorded: {shown}{more}",
            "file",
        )
        self.problems = problems


@dataclass(frozen=True)
class ReturnLine:
    """One line of the bank's outcome: which payout, paid or failed, and what the bank says."""

    line: int
    payout_id: UUID
    outcome: Outcome
    amount_fen: int | None = None
    account: str | None = None
    bank_reference: str = ""
    reason: str = ""
    paid_on: date | None = None


@dataclass
class ReturnFile:
    """Every line read, the stated control totals, and the problems met while reading."""

    file_format: str
    lines: list[ReturnLine] = field(default_factory=list)
    count: int | None = None
    total_fen: int | None = None
    totals_line: int = 0
    batch_reference: str | None = None
    problems: list[LineProblem] = field(default_factory=list)

    def refuse(self, line: int, rule_id: str, detail: str, column: str = "") -> None:
        """Note a problem and go on reading: the file is refused with every problem."""
        self.problems.append(LineProblem(line, rule_id, detail, column))
