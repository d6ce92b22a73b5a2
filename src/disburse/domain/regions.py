"""Administrative division codes (GB/T 2260): a 6-digit code, and 2/4/6-digit scopes."""

from __future__ import annotations

import re

from disburse.domain.errors import InvalidInputError

RULE = "REGION-CODE"

#: Province-level codes of GB/T 2260 (mainland, Taiwan, Hong Kong, Macao).
PROVINCE_CODES = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82"),
    }
)
_CODE = re.compile(r"^[0-9]{6}$")
_SCOPE = re.compile(r"^([0-9]{2}|[0-9]{4}|[0-9]{6})$")


def check_region_code(code: str, field: str = "region_code") -> str:
    """A 6-digit administrative code of a known province; raise ``InvalidInputError`` if not."""
    if not _CODE.fullmatch(code):
        raise InvalidInputError(RULE, f"{code!r} is not a 6-digit administrative code", field=field)
    if code[:2] not in PROVINCE_CODES:
        raise InvalidInputError(RULE, f"{code!r} names no province", field=field)
    return code


def check_region_scope(scope: str, field: str = "region_prefix") -> str:
    """A 2-, 4- or 6-digit prefix of administrative codes; ``""`` means nationwide."""
    if scope == "":
        return scope
    if not _SCOPE.fullmatch(scope) or scope[:2] not in PROVINCE_CODES:
        raise InvalidInputError(
            RULE, f"{scope!r} is not a 2-, 4- or 6-digit region prefix", field=field
        )
    return scope


def province_of(code: str) -> str:
    """The 2-digit province part of a region code."""
    return code[:2]


def scope_of(code: str) -> str:
    """The prefix a 6-digit code stands for: 220000 -> 22, 220200 -> 2202, 220221 -> 220221."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_scope(code_or_prefix: str, field: str = "region") -> str:
    """The prefix a region filter stands for, validated.

    A 6-digit code stands for its scope (220200 -> 2202, 220221 -> 220221); a 2- or
    4-digit prefix for itself; ``""`` for the whole country.
    """
    full = len(code_or_prefix) == len("220221")
    return check_region_scope(scope_of(code_or_prefix) if full else code_or_prefix, field)


def within(code: str, scope: str) -> bool:
    """Whether a region code lies inside a scope (prefix)."""
    return code.startswith(scope)
