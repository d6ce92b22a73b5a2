"""What a public notice (公示) says, whatever it is printed as (PDF or XLSX)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from disburse.domain.money import yuan
from disburse.domain.notice import NoticeKind
from disburse.printing.capitals import capitals

if TYPE_CHECKING:
    from datetime import date
    from uuid import UUID

#: Programme codes as a notice names them (DOMAIN.md's terms); others show their code.
PROGRAMME_NAMES: Final = {
    "POST-STIPEND": "乡村公益性岗位补贴",
    "GRANT-TRANSPORT": "一次性交通补助",
    "SVC-BROKER": "就业创业服务补助",
    "TRAIN-OJT": "以工代训职业培训补贴",
    "HIRE-WAGE": "一岗多补",
    "HIRE-GRAD": "一次性岗位补贴",
    "TRAIN-LIVING": "培训期间生活费补贴",
    "STARTUP-ONCE": "一次性创业补贴",
    "BASE-REWARD": "就业帮扶基地奖补",
    "PENSION-PROXY": "代缴养老保险费",
}
COLUMNS: Final = ("序号", "姓名", "身份证号", "项目", "金额（元）")


@dataclass(frozen=True)
class NoticeLine:
    """One person (or organisation) listed: masked as the public may see them."""

    payout_id: UUID
    name: str
    resident_id: str
    programme: str
    amount_fen: int

    @property
    def programme_name(self) -> str:
        """The programme as the public knows it."""
        return PROGRAMME_NAMES.get(self.programme, self.programme)


@dataclass(frozen=True)
class NoticeDocument:
    """Everything a printed notice shows; rendering it twice gives the same bytes."""

    notice_id: UUID
    title: str
    region_code: str
    period: str
    starts_on: date
    ends_on: date
    contact: str
    lines: tuple[NoticeLine, ...]
    kind: NoticeKind = NoticeKind.BEFORE_PAYMENT
    batch_id: UUID | None = None

    @property
    def total_fen(self) -> int:
        """The sum of the listed amounts."""
        return sum(line.amount_fen for line in self.lines)

    @property
    def total_capitals(self) -> str:
        """The total in Chinese capital numerals (大写)."""
        return capitals(self.total_fen)

    @property
    def days(self) -> int:
        """How many days the notice runs, both ends included."""
        return (self.ends_on - self.starts_on).days + 1

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """The table's rows as text, numbered from 1."""
        return [
            (str(n), line.name, line.resident_id, line.programme_name, yuan(line.amount_fen))
            for n, line in enumerate(self.lines, start=1)
        ]

    def paragraphs(self) -> tuple[str, str]:
        """The opening text (what and how long) and the closing text (where to object)."""
        window = f"公示期自{_day(self.starts_on)}起至{_day(self.ends_on)}止，共{self.days}日。"
        if self.kind is NoticeKind.PAYMENT:
            opening = (
                f"根据补贴资金管理有关规定，现将区划 {self.region_code} 发放批次 {self.batch_id}"
                f"（{self.period} 期）发放补贴的人员名单及金额予以公示。{window}"
            )
            closing = (
                f"对公示内容有异议的，请于公示期内（截至{_day(self.ends_on)}）向{self.contact}"
                "实名反映，并提供具体事实和依据；经查实违规领取的，依法追回。"
            )
            return opening, closing
        opening = (
            f"根据补贴资金管理有关规定，现将区划 {self.region_code} {self.period} 期拟发放补贴的"
            f"人员名单及金额予以公示。{window}"
        )
        closing = (
            f"对公示对象或金额有异议的，请于公示期内（截至{_day(self.ends_on)}）向{self.contact}"
            "实名反映，并提供具体事实和依据；经办机构将依规调查核实，异议期间暂停发放。"
        )
        return opening, closing

    def total_lines(self) -> tuple[str, str]:
        """The total in figures and in capitals."""
        return (
            f"合计：{len(self.lines)}人，金额（小写）：¥{yuan(self.total_fen)}元",
            f"合计金额（大写）：人民币{self.total_capitals}",
        )

    @property
    def footer(self) -> str:
        """Where the notice comes from, to find it in the ledger."""
        return f"公示编号：{self.notice_id}　公示日期：{_day(self.starts_on)}"


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
