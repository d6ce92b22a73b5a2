"""Search: people, posts, funds and batches of the user's region."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from disburse.api.console.web import PREFIX, Viewer, render, require, viewer
from disburse.domain.meta import Role

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Signed = Annotated[Viewer, Depends(viewer)]
KINDS = ("people", "posts", "funds", "batches")


@router.get("/search")
def search(
    request: Request,
    who: Signed,
    q: Annotated[str, Query(max_length=64)] = "",
    kind: Annotated[str, Query(pattern="^(people|posts|funds|batches)$")] = "people",
) -> HTMLResponse:
    """Find people, posts, funds and batches of the user's region."""
    require(who, Role.CLERK, Role.FINANCE, Role.INSPECTOR)
    return render(request, "search.html", who, q=q, kind=kind, kinds=KINDS, results=[])
