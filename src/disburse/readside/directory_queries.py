"""Finding people, posts, funds and payment batches: filtered, region-scoped, keyset-paged.

Each method answers one page as plain rows ready to be sent (what the API returns), in
one query: the rows are assembled without a model per row. Every filter is served by an
index of the directory view (``tests/integration/test_query_plans.py`` proves it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from disburse.domain.errors import InvalidInputError
from disburse.readside.directory import NAME_PREFIX_MAX, name_key
from disburse.readside.listing import RULE, Page, check_page, page_of, region_clause

if TYPE_CHECKING:
    from datetime import date

    from disburse.readside.db import Row, ViewDB
    from disburse.readside.directory import Seal

POST_STATUSES = ("vacant", "held")
BATCH_STATES = ("open", "complete")


class DirectoryQueries:
    """Reads of the directory view."""

    def __init__(self, db: ViewDB, seal: Seal) -> None:
        self.db = db
        self._seal = seal

    def people(
        self,
        *,
        region: str | None = None,
        name: str | None = None,
        person_id: str | None = None,
        poverty_status: str | None = None,
        registered_via: str | None = None,
        full_ids: bool = False,
        limit: int = 100,
        after: int | None = None,
    ) -> Page[dict[str, Any]]:
        """People in registration order; ``name`` is a prefix of the name, case-insensitive.

        ``person_id`` finds one person (a resident ID is looked up by the person id it
        maps to). ``full_ids``: show the resident ID (clerk and inspector keys), else None.
        """
        conditions, params = _start(limit, after, "p.position")
        source = "directory_people p"
        if name is not None:
            key = name_key(name)
            if not 1 <= len(key) <= NAME_PREFIX_MAX:
                raise InvalidInputError(
                    RULE, f"a name prefix is 1 to {NAME_PREFIX_MAX} characters", "name"
                )
            source = "directory_names n JOIN directory_people p ON p.person_id = n.person_id"
            conditions = [c.replace("p.position", "n.position") for c in conditions]
            conditions.append("n.prefix_hash = :name_hash")
            params["name_hash"] = self._seal.name_prefix(key)
        _equal(conditions, params, "p.person_id", person_id)
        _equal(conditions, params, "p.poverty_status", poverty_status)
        _equal(conditions, params, "p.registered_via", registered_via)
        _region(conditions, params, "p.home_region", region)
        order = "n.position" if name is not None else "p.position"
        rows = self._select(f"SELECT p.* FROM {source}", conditions, params, order, limit)
        items = [self._person(row, full_ids=full_ids) for row in rows]
        return page_of(items, [int(row["position"]) for row in rows], limit)

    def posts(
        self,
        *,
        region: str | None = None,
        status: str | None = None,
        holder_id: str | None = None,
        site_id: str | None = None,
        fund_id: str | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> Page[dict[str, Any]]:
        """Posts in the order they were created; ``status`` is vacant or held."""
        conditions, params = _start(limit, after, "position")
        _choice(conditions, params, "status", status, POST_STATUSES)
        _equal(conditions, params, "holder_id", holder_id)
        _equal(conditions, params, "site_id", site_id)
        _equal(conditions, params, "fund_id", fund_id)
        _region(conditions, params, "region_code", region)
        rows = self._select("SELECT * FROM directory_posts", conditions, params, "position", limit)
        items = [
            {
                "post_id": row["post_id"],
                "region_code": row["region_code"],
                "site_id": row["site_id"],
                "fund_id": row["fund_id"],
                "title": row["title"],
                "stipend_fen": int(row["stipend_fen"]),
                "part_time": bool(row["part_time"]),
                "status": row["status"],
                "holder_id": row["holder_id"],
                "exited_on": row["exited_on"],
            }
            for row in rows
        ]
        return page_of(items, [int(row["position"]) for row in rows], limit)

    def funds(
        self,
        *,
        region: str | None = None,
        source: str | None = None,
        year: int | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> Page[dict[str, Any]]:
        """Funds in the order they were allocated."""
        conditions, params = _start(limit, after, "position")
        _equal(conditions, params, "source", source)
        _equal(conditions, params, "year", year)
        _region(conditions, params, "region_code", region)
        rows = self._select("SELECT * FROM directory_funds", conditions, params, "position", limit)
        items = [
            {
                "fund_id": row["fund_id"],
                "source": row["source"],
                "region_code": row["region_code"],
                "year": int(row["year"]),
            }
            for row in rows
        ]
        return page_of(items, [int(row["position"]) for row in rows], limit)

    def batches(
        self,
        *,
        region: str | None = None,
        fund_id: str | None = None,
        state: str | None = None,
        released_from: date | None = None,
        released_to: date | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> Page[dict[str, Any]]:
        """Payment batches in the order they were released; days are UTC, both inclusive."""
        conditions, params = _start(limit, after, "position")
        _equal(conditions, params, "fund_id", fund_id)
        _choice(conditions, params, "state", state, BATCH_STATES)
        if released_from is not None and released_to is not None and released_from > released_to:
            raise InvalidInputError(RULE, "released_from is after released_to", "released_from")
        if released_from is not None:
            conditions.append("released_on >= :day_from")
            params["day_from"] = released_from.isoformat()
        if released_to is not None:
            conditions.append("released_on <= :day_to")
            params["day_to"] = released_to.isoformat()
        _region(conditions, params, "region_code", region)
        rows = self._select(
            "SELECT * FROM directory_batches", conditions, params, "position", limit
        )
        items = [
            {
                "batch_id": row["batch_id"],
                "fund_id": row["fund_id"],
                "region_code": row["region_code"],
                "count": int(row["count"]),
                "total_fen": int(row["total_fen"]),
                "results": int(row["results"]),
                "state": row["state"],
                "released_at": row["released_at"],
                "released_by": row["released_by"],
            }
            for row in rows
        ]
        return page_of(items, [int(row["position"]) for row in rows], limit)

    def _select(
        self, select: str, conditions: list[str], params: dict[str, object], order: str, limit: int
    ) -> list[Row]:
        where = " AND ".join(conditions) or "1 = 1"
        with self.db.read() as tx:
            return tx.all(f"{select} WHERE {where} ORDER BY {order} LIMIT :limit", params)

    def _person(self, row: Row, *, full_ids: bool) -> dict[str, Any]:
        sealed = row["sealed"]
        identity = {} if sealed is None else self._seal.open(row["person_id"], sealed)
        erased = row["resident_id_masked"]
        return {
            "person_id": row["person_id"],
            "resident_id": identity.get("resident_id", erased) if full_ids else None,
            "resident_id_masked": row["resident_id_masked"],
            "name": identity.get("name", erased),
            "home_region": row["home_region"],
            "poverty_status": row["poverty_status"],
            "labour_capacity": row["labour_capacity"],
            "public_payroll": bool(row["public_payroll"]),
            "died_on": row["died_on"],
        }


def _start(limit: int, after: int | None, column: str) -> tuple[list[str], dict[str, object]]:
    check_page(limit, after)
    params: dict[str, object] = {"limit": limit}
    if after is None:
        return [], params
    params["after"] = after
    return [f"{column} > :after"], params


def _equal(conditions: list[str], params: dict[str, object], column: str, value: object) -> None:
    if value is not None:
        name = column.rpartition(".")[2]
        conditions.append(f"{column} = :{name}")
        params[name] = value if isinstance(value, int) else str(value)


def _choice(
    conditions: list[str],
    params: dict[str, object],
    column: str,
    value: str | None,
    allowed: tuple[str, ...],
) -> None:
    if value is not None and value not in allowed:
        raise InvalidInputError(RULE, f"{column} is one of {', '.join(allowed)}", column)
    _equal(conditions, params, column, value)


def _region(
    conditions: list[str], params: dict[str, object], column: str, region: str | None
) -> None:
    clause, values = region_clause(column, region)
    if clause:
        conditions.append(clause)
        params.update(values)
