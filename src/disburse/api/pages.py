"""Pages of a list written as JSON text, with the JSON a view already holds spliced in as is.

A page of 50 is read far more often than it changes. Decoding each row's stored JSON
(an explanation, an event's payload) into objects only to encode it again was most of
the cost of a page; here it is copied into the answer as the view stores it. The view
wrote that text with ``readside.base.dumps`` (valid JSON, text made storable), so the
answer is valid JSON. The route's response model still documents the shape.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


def dumps(value: object) -> str:
    """Compact JSON, non-ASCII kept as it is (as ``responses.JSONResponse`` writes it)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def item(fields: dict[str, Any], **stored: str) -> str:
    """One object: ``fields`` encoded, then each ``stored`` JSON text under its name."""
    text = dumps(fields)
    if not stored:
        return text
    spliced = "".join(f",{dumps(name)}:{value}" for name, value in stored.items())
    return f"{text[:-1]}{spliced}}}" if fields else f"{{{spliced[1:]}}}"


def page(
    items: list[str], *, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None
) -> Response:
    """``{**before, "items": [...], **after}`` from items already written as JSON text."""
    head = "".join(f"{dumps(k)}:{dumps(v)}," for k, v in (before or {}).items())
    tail = "".join(f",{dumps(k)}:{dumps(v)}" for k, v in (after or {}).items())
    body = f'{{{head}"items":[{",".join(items)}]{tail}}}'
    return Response(body.encode("utf-8"), media_type="application/json")


def stored_time(text: str) -> str:
    """A view's ``recorded_at`` text as ``datetime.isoformat()`` writes it (no ``.000000``)."""
    return text.replace(".000000+", "+", 1)
