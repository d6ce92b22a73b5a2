"""What every list query shares: its limit, keyset paging and an index-friendly region filter.

Lists page by keyset: each row has a unique, ever-growing sort key (the log position of
the event that created it), a page asks for rows after the last key it saw, and the
next page's key is that of the last row when the page is full. A page costs the same
however deep it is, and rows added while a client pages appear once, on a later page.

Region filters are 2-, 4- or 6-digit prefixes of 6-digit codes. ``LIKE 'prefix%'`` uses
an index on neither SQLite (its LIKE ignores case) nor a PostgreSQL column of a non-C
collation, so the prefix is written as the range of the codes it covers, which any
B-tree index serves on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from disburse.domain.errors import InvalidInputError
from disburse.domain.regions import region_scope

RULE = "LIST-FILTER"
MAX_LIMIT = 1000
_CODE_DIGITS = 6

T = TypeVar("T")


def check_page(limit: int, after: int | None) -> None:
    """``InvalidInputError`` (LIST-FILTER) for a limit outside 1-1000 or a negative key."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(RULE, f"limit is 1 to {MAX_LIMIT}", "limit")
    if after is not None and after < 0:
        raise InvalidInputError(RULE, "after is a log position, not negative", "after")


def region_clause(column: str, region: str | None) -> tuple[str, dict[str, object]]:
    """A condition keeping the rows whose ``column`` lies in a region prefix, and its values.

    ``region`` is a code or prefix as :func:`region_scope` takes it (REGION-CODE if not);
    None or ``""`` (the whole country) keeps every row: ``("", {})``.
    """
    scope = region_scope(region or "")
    if not scope:
        return "", {}
    low, high = scope.ljust(_CODE_DIGITS, "0"), scope.ljust(_CODE_DIGITS, "9")
    return f"{column} BETWEEN :region_low AND :region_high", {
        "region_low": low,
        "region_high": high,
    }


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, and the key to pass as ``after`` for the next page."""

    items: list[T]
    next_after: int | None


def page_of(items: list[T], keys: list[int], limit: int) -> Page[T]:
    """A page; a full one names its last row's key (a shorter one is the last page)."""
    return Page(items, keys[-1] if len(items) == limit and keys else None)
