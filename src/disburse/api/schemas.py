"""What every request body shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    """A request body: unknown fields are refused (422), never silently ignored."""

    model_config = ConfigDict(extra="forbid")
