"""Amounts in bank files: yuan with two decimals, read and written by integer arithmetic."""

from __future__ import annotations

import re
from decimal import Decimal

from disburse.domain.money import FEN_PER_YUAN, MAX_FEN, yuan

__all__ = ["fen_of", "yuan"]

_YUAN = re.compile(r"(0|[1-9][0-9]{0,13})(?:\.([0-9]{1,2}))?")


def fen_of(cell: object) -> int:
    """Fen from a yuan amount: ``"1234.5"`` -> 123450; ``ValueError`` saying why not.

    Text, whole numbers, Decimals and spreadsheet numbers (read through their shortest
    decimal form, never by float arithmetic) with at most two decimals; no signs,
    separators or exponents.
    """
    if isinstance(cell, bool) or cell is None:
        raise ValueError("no amount")
    if isinstance(cell, float):
        text = repr(cell)
        if "e" in text or "n" in text:  # 1e+20, nan, inf
            raise ValueError(f"{text} is not an amount in yuan")
        text = text.removesuffix(".0")
    elif isinstance(cell, Decimal):
        text = format(cell, "f")
    else:
        text = str(cell).strip()
    found = _YUAN.fullmatch(text)
    if found is None:
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text):
            raise ValueError(f"{text} has more than two decimals")
        raise ValueError(f"{text[:40]!r} is not an amount in yuan with two decimals")
    whole, cents = found.group(1), (found.group(2) or "").ljust(2, "0")
    fen = int(whole) * FEN_PER_YUAN + int(cents)
    if fen > MAX_FEN:
        raise ValueError(f"{text} is beyond any real amount")
    return fen
