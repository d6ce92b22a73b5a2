"""JSON responses that can always be encoded, whatever text the event log holds.

Today's input checks refuse lone surrogates, but a store may hold events an older release
accepted. A read that rebuilds such an entity from its events (``GET /v1/people/{id}``,
as-of) must still answer: each lone surrogate is sent as U+FFFD, as the views store it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse as _JSONResponse

from disburse.domain.text import readable


class JSONResponse(_JSONResponse):
    """Starlette's JSON response, with any lone surrogate sent as U+FFFD instead of a 500."""

    def render(self, content: Any) -> bytes:  # noqa: ANN401 - Starlette's signature
        """UTF-8 JSON, compact, non-ASCII kept as it is."""
        text = json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        )
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return readable(text).encode("utf-8")
