"""Cells to typed facts: text, codes, whole numbers, dates, months, yuan, yes/no, choices.

XLSX cells arrive typed (str, int, float, bool, datetime); CSV cells are text. Each
parser takes a non-blank cell and returns the value, or raises ``InvalidInputError``
with the rule that refuses it: the domain's own rule where one exists (ID-RESIDENT,
REGION-CODE, MONTH-FORMAT, MONEY-FEN, ORG-CODE, TEXT-INVALID), else IMPORT-VALUE.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Generic, TypeVar
from uuid import UUID

from disburse.domain.errors import InvalidInputError
from disburse.domain.identity import normalise_resident_id
from disburse.domain.money import FEN_PER_YUAN, check_amount
from disburse.domain.money import RULE as MONEY_RULE
from disburse.domain.months import RULE as MONTH_RULE
from disburse.domain.months import Month
from disburse.domain.organisation import normalise_credit_code
from disburse.domain.regions import PROVINCE_CODES, check_region_code
from disburse.domain.regions import RULE as REGION_RULE
from disburse.domain.text import TextKind, clean_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

VALUE_RULE = "IMPORT-VALUE"
E = TypeVar("E")

#: Excel keeps 15 significant digits of a number; a longer code stored as one is lost.
_EXACT = 10**15
_SHOWN = 40
_INT = re.compile(r"[+-]?[0-9]{1,18}(?:\.0+)?")
_DAY = re.compile(
    r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})(?:[ T]00:00(?::00)?)?"
    r"|([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日"
)
_MONTHISH = re.compile(r"[0-9]{4}-[0-9]{1,2}")
_YUAN = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+")
#: How Excel writes a long number into a CSV: 2.20221E+17.
_SHORTENED = re.compile(r"[0-9](?:\.[0-9]+)?[eE]\+[0-9]+")
_YES = frozenset({"yes", "y", "true", "t", "1", "是"})
_NO = frozenset({"no", "n", "false", "f", "0", "否"})
#: Province names (without 省, 市, 自治区...) and their codes (GB/T 2260).
_PROVINCE_TABLE = (
    "北京:11 天津:12 河北:13 山西:14 内蒙古:15 辽宁:21 吉林:22 黑龙江:23 上海:31 江苏:32 "
    "浙江:33 安徽:34 福建:35 江西:36 山东:37 河南:41 湖北:42 湖南:43 广东:44 广西:45 "
    "海南:46 重庆:50 四川:51 贵州:52 云南:53 西藏:54 陕西:61 甘肃:62 青海:63 宁夏:64 "
    "新疆:65 台湾:71 香港:81 澳门:82"
)
PROVINCES = dict(pair.split(":") for pair in _PROVINCE_TABLE.split())
_PROVINCE_SUFFIX = re.compile(r"(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$")


def is_blank(cell: object) -> bool:
    """An empty cell, or one holding only spaces."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def shown(cell: object) -> str:
    """A cell as quoted in a message, cut short."""
    text = str(cell).strip()
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def folded(cell: object) -> str:
    """Text with full-width letters and digits folded to ASCII (NFKC), stripped."""
    return unicodedata.normalize("NFKC", str(cell)).strip()


def text(cell: object) -> str:
    """Free text (a name, an employer, a reference), stripped; a whole number as it reads.

    As all ledger text (TEXT-INVALID): no control characters, at most 500 characters, NFC.
    """
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return clean_text(str(cell).strip(), kind=TextKind.LABEL)


def code(cell: object) -> str:
    """A code of digits and letters (resident ID, account, region): spaces removed.

    A code stored as a number longer than Excel keeps exactly is refused, not guessed.
    """
    if isinstance(cell, str) and _SHORTENED.fullmatch(folded(cell)):
        raise InvalidInputError(
            VALUE_RULE,
            "a long code that Excel turned into a number (like 2.2E+17): format the column "
            "as text and enter it again",
        )
    if isinstance(cell, str):
        return clean_text(re.sub(r"\s+", "", folded(cell)), kind=TextKind.CODE)
    if isinstance(cell, int) and not isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < _EXACT:
        return str(int(cell))
    if isinstance(cell, float):
        raise InvalidInputError(
            VALUE_RULE,
            "a long code stored as a number, of which Excel keeps only 15 digits: "
            "format the column as text and enter it again",
        )
    raise InvalidInputError(VALUE_RULE, f"{shown(cell)} is not a code")


def resident_id(cell: object) -> str:
    """A valid resident ID (GB 11643: shape, province, birth date, check character)."""
    return normalise_resident_id(code(cell))


def resident_ids(cell: object) -> tuple[str, ...]:
    """Resident IDs separated by ``;``, ``,``, ``、`` or spaces, each valid."""
    if isinstance(cell, str):
        parts = [p for p in re.split(r"[;,、\s]+", folded(cell)) if p]
    else:
        parts = [code(cell)]
    found: list[str] = []
    for number, part in enumerate(parts, start=1):
        try:
            found.append(normalise_resident_id(part))
        except InvalidInputError as error:
            raise InvalidInputError(error.rule_id, f"ID no. {number}: {error.message}") from None
    return tuple(found)


def credit_code(cell: object) -> str:
    """A valid unified social credit code (GB 32100)."""
    return normalise_credit_code(code(cell))


def region(cell: object) -> str:
    """A 6-digit administrative code of a known province."""
    return check_region_code(code(cell))


def province(cell: object) -> str:
    """A province: its 2-digit code, a 6-digit code within it, or its name (广东, 广东省)."""
    value = code(cell)
    if _DIGITS.fullmatch(value) and len(value) == len("220221"):
        return check_region_code(value)[:2]
    if value in PROVINCE_CODES:
        return value
    found = PROVINCES.get(_PROVINCE_SUFFIX.sub("", value))
    if found is None:
        raise InvalidInputError(REGION_RULE, f"{shown(cell)} is not a province code or name")
    return found


def whole(cell: object) -> int:
    """A whole number."""
    if isinstance(cell, int) and not isinstance(cell, bool):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str) and _INT.fullmatch(folded(cell)):
        return int(folded(cell).partition(".")[0])
    raise InvalidInputError(VALUE_RULE, f"{shown(cell)} is not a whole number")


def day(cell: object) -> date:
    """A date: a date cell, ``YYYY-MM-DD``, ``YYYY/M/D`` or ``YYYY年M月D日``."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    match = _DAY.fullmatch(folded(cell)) if isinstance(cell, str) else None
    if match is not None:
        year, month, dom = (match[1], match[3], match[4]) if match[1] else match.group(5, 6, 7)
        try:
            return date(int(year), int(month), int(dom))
        except ValueError:
            pass
    raise InvalidInputError(VALUE_RULE, f"{shown(cell)} is not a date (YYYY-MM-DD)")


def month(cell: object) -> Month:
    """A month: ``YYYY-MM``, or a date cell (Excel turns a typed 2024-01 into 2024-01-01)."""
    if isinstance(cell, date):
        return Month.of(cell)
    return Month.parse(folded(text(cell)))


def month_or_day(cell: object) -> date:
    """The first day of a month (``YYYY-MM``) or a day (``YYYY-MM-DD``, a date cell)."""
    if isinstance(cell, str) and _MONTHISH.fullmatch(folded(cell)):
        return Month.parse(folded(cell)).first_day
    try:
        return day(cell)
    except InvalidInputError:
        raise InvalidInputError(
            MONTH_RULE, f"{shown(cell)} is neither a month (YYYY-MM) nor a day (YYYY-MM-DD)"
        ) from None


def fen(cell: object) -> int:
    """An amount in yuan with at most two decimals, as integer fen, converted exactly.

    An XLSX number is a binary float: it is read as the shortest decimal that is that
    float (what was typed: 300.1, not 300.099999...), then converted in Decimal.
    """
    if isinstance(cell, int) and not isinstance(cell, bool):
        amount = Decimal(cell)
    elif isinstance(cell, float):
        amount = Decimal(repr(cell))
    else:
        value = folded(cell).removeprefix("¥").removesuffix("元").strip()
        if not isinstance(cell, str) or not _YUAN.fullmatch(value):
            raise InvalidInputError(VALUE_RULE, f"{shown(cell)} is not an amount in yuan")
        amount = Decimal(value.replace(",", ""))
    if not amount.is_finite():
        raise InvalidInputError(VALUE_RULE, f"{shown(cell)} is not an amount in yuan")
    in_fen = amount * FEN_PER_YUAN
    if in_fen != in_fen.to_integral_value():
        raise InvalidInputError(MONEY_RULE, "at most two decimals: amounts are whole fen")
    return check_amount(int(in_fen))


def flag(cell: object) -> bool:
    """Yes or no: 是/否, yes/no, y/n, true/false, 1/0, or a TRUE/FALSE cell."""
    if isinstance(cell, bool):
        return cell
    value = folded(text(cell)).casefold()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise InvalidInputError(VALUE_RULE, f"{shown(cell)} is not yes or no (是/否)")


def identifier(cell: object) -> UUID:
    """An id the ledger gave (a UUID)."""
    try:
        return UUID(folded(cell))
    except ValueError:
        raise InvalidInputError(VALUE_RULE, f"{shown(cell)} is not an id (a UUID)") from None


class Choices(Generic[E]):
    """A closed list of values, each accepted under its code and its Chinese labels."""

    def __init__(self, what: str, labels: Mapping[E, Sequence[str]]) -> None:
        self.what = what
        self._lookup = {
            folded(w).casefold(): value for value, words in labels.items() for w in words
        }
        self.hint = ", ".join(f"{words[0]} ({'/'.join(words[1:])})" for words in labels.values())

    def __call__(self, cell: object) -> E:
        """The value a cell names."""
        found = self._lookup.get(folded(text(cell)).casefold())
        if found is None:
            raise InvalidInputError(
                VALUE_RULE, f"{shown(cell)} is not a {self.what}: use one of {self.hint}"
            )
        return found
