"""Resident identity numbers (GB 11643-1999): validation and masking. Pure functions."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from disburse.domain.errors import InvalidInputError
from disburse.domain.regions import PROVINCE_CODES

RULE = "ID-RESIDENT"
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise_resident_id(raw: str) -> str:
    """Validate a resident ID and return it upper-cased; raise ``InvalidInputError`` if not valid.

    Checks the shape (17 digits and a digit or X), the province of the address code,
    the birth date, and the check character.
    """
    # Spreadsheets carry full-width digits (U+FF10..U+FF19): fold them to ASCII first, so the
    # same resident never hashes to two people.
    value = unicodedata.normalize("NFKC", raw).strip().upper()
    if not _SHAPE.fullmatch(value):
        raise InvalidInputError(
            RULE, "a resident ID has 17 digits followed by a digit or X", field="resident_id"
        )
    if value[:2] not in PROVINCE_CODES:
        raise InvalidInputError(
            RULE, f"address code {value[:6]} names no province", field="resident_id"
        )
    birth_date(value)
    if check_digit(value[:17]) != value[17]:
        raise InvalidInputError(
            RULE, "the check character does not match (GB 11643)", field="resident_id"
        )
    return value


def birth_date(resident_id: str) -> date:
    """The birth date encoded in positions 7-14."""
    try:
        born = date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))
    except ValueError:
        raise InvalidInputError(
            RULE, "positions 7-14 are not a valid birth date", field="resident_id"
        ) from None
    if born.year < 1900:  # noqa: PLR2004 - GB 11643 covers people born since 1900
        raise InvalidInputError(RULE, "birth year before 1900", field="resident_id")
    return born


def mask_resident_id(resident_id: str) -> str:
    """Show the first four and last four characters: ``2201**********123X``."""
    return f"{resident_id[:4]}{'*' * 10}{resident_id[-4:]}"


def mask_name(name: str) -> str:
    """A name as a public notice shows it: first and last character, the middle masked.

    ``张小三`` -> ``张*三``, ``欧阳小明`` -> ``欧**明``, ``张三`` -> ``张*``; a one-character
    name shows nothing (``*``).
    """
    if len(name) <= 1:
        return "*"
    if len(name) == 2:  # noqa: PLR2004 - a two-character name keeps its first character
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"
