"""Amounts in Chinese capital numerals (大写), as on cheques and public notices.

The rules are those banks apply to written amounts (中国人民银行《正确填写票据和结算凭证的
基本规定》): digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿; one 零 stands for any run of
zeros between non-zero digits; ``元整`` closes a whole amount and ``角整`` one without
分; where 角 is zero but 分 is not, a 零 stands before the 分 (壹佰万元零伍分); ten is
written 壹拾 so that nothing can be prefixed.
"""

from __future__ import annotations

from typing import Final

DIGITS: Final = "零壹贰叁肆伍陆柒捌玖"
_GROUP_UNITS: Final = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
_WAN: Final = 10**4
_YI: Final = 10**8
#: The largest amount written: 9999万亿 yuan and 99 fen (beyond any budget).
MAX_FEN: Final = 10**18 - 1


def capitals(amount_fen: int) -> str:
    """The amount in fen in 大写: ``1_234_567`` -> ``壹万贰仟叁佰肆拾伍元陆角柒分``.

    ``ValueError`` for a negative amount or one above :data:`MAX_FEN`.
    """
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        msg = "an amount is an integer number of fen"
        raise TypeError(msg)
    if not 0 <= amount_fen <= MAX_FEN:
        msg = f"an amount in capitals is 0 to {MAX_FEN} fen"
        raise ValueError(msg)
    yuan, cents = divmod(amount_fen, 100)
    jiao, fen = divmod(cents, 10)
    if amount_fen == 0:
        return "零元整"
    text = f"{_integer(yuan)}元" if yuan else ""
    if jiao:
        text += f"{DIGITS[jiao]}角"
    elif fen and yuan:
        text += "零"
    if fen:
        return f"{text}{DIGITS[fen]}分"
    return f"{text}整"


def _integer(n: int) -> str:
    """A positive whole number of yuan, without 元."""
    if n >= _YI:
        high, low = divmod(n, _YI)
        return f"{_integer(high)}亿{_rest(low, _YI // 10)}"
    if n >= _WAN:
        high, low = divmod(n, _WAN)
        return f"{_group(high)}万{_rest(low, _WAN // 10)}"
    return _group(n)


def _rest(low: int, leading: int) -> str:
    """The part below 亿 or 万: a 零 first when its top place is zero."""
    if not low:
        return ""
    return ("零" if low < leading else "") + _integer(low)


def _group(n: int) -> str:
    """1 to 9999: one 零 for each run of zeros between digits, none at the end."""
    text = ""
    zero = False
    for value, unit in _GROUP_UNITS:
        digit = n // value % 10
        if not digit:
            zero = bool(text)
            continue
        if zero:
            text += "零"
        text += DIGITS[digit] + unit
        zero = False
    return text
