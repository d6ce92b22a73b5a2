"""Search: people, posts, funds and batches of the user's region, a page at a time.

Answered by the API's list routes (``GET /v1/people``, ``/v1/posts``, ``/v1/funds``,
``/v1/payment-batches``), called with the signed-in user as the principal: the same
region scope, the same masking of resident IDs by role, the same keyset pages.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from disburse.api.console.i18n import N_
from disburse.api.console.web import (
    PREFIX,
    Viewer,
    refuse,
    render,
    require,
    text,
    viewer,
    yuan,
)
from disburse.api.routes.search import list_batches, list_funds, list_people, list_posts
from disburse.domain.meta import Role
from disburse.domain.text import TextKind

if TYPE_CHECKING:
    from disburse.api.responses import JSONResponse

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]
KINDS = ("people", "posts", "funds", "batches")
PAGE = 50
_RESIDENT_ID = re.compile(r"^[0-9]{17}[0-9Xx]$")
_FUND_SOURCES = {"employment_subsidy", "rural_revitalisation", "east_west"}
#: A post's state in words ("held" alone is a payout's state in the catalogue).
POST_STATES = {"vacant": N_("vacant post"), "held": N_("post held")}


def _id(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _rows(answer: JSONResponse) -> tuple[list[dict[str, Any]], int | None]:
    body = json.loads(bytes(answer.body))
    return body["items"], body.get("next_after")


def _people(request: Request, who: Viewer, q: str, after: int | None) -> list[dict[str, Any]]:
    by_id = _RESIDENT_ID.fullmatch(q) is not None
    items, next_after = _rows(
        list_people(
            request,
            who.principal,
            region=None,
            name=None if by_id or not q else q[:16],
            resident_id=q.upper() if by_id else None,
            poverty_status=None,
            limit=PAGE,
            after=after,
            min_position=None,
        )
    )
    request.state.next_after = next_after
    return [
        {
            "label": item["name"],
            "link": f"{PREFIX}/trail?entity_id={item['person_id']}"
            if who.role is Role.INSPECTOR
            else None,
            "details": [item["resident_id"] or item["resident_id_masked"]],
            "region": item["home_region"],
        }
        for item in items
    ]


def _posts(request: Request, who: Viewer, q: str, after: int | None) -> list[dict[str, Any]]:
    holder = _id(q) if q else None
    if q and holder is None and q not in {"vacant", "held"}:
        refuse(422, "REQUEST-SCHEMA", "posts are found by state (vacant, held) or holder id", "q")
    items, next_after = _rows(
        list_posts(
            request,
            who.principal,
            region=None,
            status=q if q in {"vacant", "held"} else None,  # type: ignore[arg-type]
            holder_id=holder,
            site_id=None,
            fund_id=None,
            limit=PAGE,
            after=after,
            min_position=None,
        )
    )
    request.state.next_after = next_after
    return [
        {
            "label": item["title"],
            "link": None,
            "details": [
                POST_STATES[item["status"]],
                f"{yuan(item['stipend_fen'])} ¥",
                item["post_id"],
            ],
            "region": item["region_code"],
        }
        for item in items
    ]


def _funds(request: Request, who: Viewer, q: str, after: int | None) -> list[dict[str, Any]]:
    year = int(q) if re.fullmatch(r"[0-9]{4}", q) else None
    source = q if q in _FUND_SOURCES else None
    if q and year is None and source is None:
        refuse(422, "REQUEST-SCHEMA", "funds are found by year (2024) or source", "q")
    items, next_after = _rows(
        list_funds(
            request,
            who.principal,
            region=None,
            source=source,  # type: ignore[arg-type]
            year=year,
            limit=PAGE,
            after=after,
            min_position=None,
        )
    )
    request.state.next_after = next_after
    return [
        {
            "label": f"{item['year']} · {item['source']}",
            "link": None,
            "details": [item["fund_id"]],
            "region": item["region_code"],
        }
        for item in items
    ]


def _batches(request: Request, who: Viewer, q: str, after: int | None) -> list[dict[str, Any]]:
    fund = _id(q) if q else None
    state = q if q in {"open", "complete"} else None
    if q and fund is None and state is None:
        refuse(422, "REQUEST-SCHEMA", "batches are found by state (open, complete) or fund", "q")
    items, next_after = _rows(
        list_batches(
            request,
            who.principal,
            region=None,
            fund_id=fund,
            status=state,  # type: ignore[arg-type]
            released_from=None,
            released_to=None,
            limit=PAGE,
            after=after,
            min_position=None,
        )
    )
    request.state.next_after = next_after
    return [
        {
            "label": item["batch_id"][:8],
            "link": f"{PREFIX}/batches/{item['batch_id']}",
            "details": [item["state"], str(item["count"]), f"{yuan(item['total_fen'])} ¥"],
            "region": item["region_code"],
        }
        for item in items
    ]


SEARCHES = {"people": _people, "posts": _posts, "funds": _funds, "batches": _batches}


@router.get("/search")
def search(
    request: Request,
    who: Signed,
    q: Annotated[str, Query(max_length=64)] = "",
    kind: Annotated[str, Query(pattern="^(people|posts|funds|batches)$")] = "people",
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    go: Annotated[str, Query(max_length=8)] = "",
) -> HTMLResponse:
    """Find people (name prefix or resident ID), posts, funds and batches of the region."""
    require(who, Role.CLERK, Role.FINANCE, Role.INSPECTOR)
    if kind == "batches":
        require(who, Role.FINANCE, Role.INSPECTOR)
    q = text(q, TextKind.NAME, "q")
    results: list[dict[str, Any]] = []
    request.state.next_after = None
    if q or go or after is not None:
        results = SEARCHES[kind](request, who, q, after)
    return render(
        request,
        "search.html",
        who,
        q=q,
        kind=kind,
        kinds=KINDS,
        results=results,
        searched=bool(q or go or after is not None),
        next_after=request.state.next_after,
    )
