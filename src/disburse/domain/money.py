"""Money is integer fen. Arithmetic here never touches floats."""

from __future__ import annotations

from disburse.domain.errors import InvalidInputError

RULE = "MONEY-FEN"
FEN_PER_YUAN = 100
#: The largest amount one fact may carry, and one fund may hold: 10 trillion yuan, far
#: beyond any budget, and small enough that every sum the views keep fits 64 bits.
MAX_FEN = 10**15


def check_amount(amount_fen: int, field: str = "amount_fen", *, allow_zero: bool = False) -> int:
    """A positive integer number of fen (zero only if allowed)."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise InvalidInputError(RULE, "amounts are whole numbers of fen", field=field)
    if amount_fen < 0 or (amount_fen == 0 and not allow_zero):
        raise InvalidInputError(RULE, "amount must be positive", field=field)
    if amount_fen > MAX_FEN:
        raise InvalidInputError(
            RULE, f"amount above {MAX_FEN} fen (10 trillion yuan): not a real amount", field=field
        )
    return amount_fen


def prorate(amount_fen: int, numerator: int, denominator: int) -> int:
    """``amount * numerator / denominator`` rounded half up to the fen.

    Used for stipends by attendance: full attendance gives exactly ``amount_fen``,
    no attendance gives 0, and the result never exceeds ``amount_fen``.
    """
    if denominator <= 0 or not (0 <= numerator <= denominator) or amount_fen < 0:
        raise ValueError("prorate needs 0 <= numerator <= denominator and amount >= 0")
    return (2 * amount_fen * numerator + denominator) // (2 * denominator)


def yuan(amount_fen: int) -> str:
    """Format fen as yuan with two decimals, e.g. ``1234.50``."""
    sign = "-" if amount_fen < 0 else ""
    whole, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{fen:02d}"
