"""What every request body shares: no unknown fields, ledger text, strict integers."""

from __future__ import annotations

import typing
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Strict

from disburse.domain.text import Text

#: An integer that must be a JSON integer: ``true`` and ``"100"`` are refused, not coerced.
#: Ranges are the domain's rules (MONEY-FEN, SITE-POPULATION, ...), which name themselves.
StrictInt = Annotated[int, Strict()]
#: Money in integer fen at the API.
Fen = StrictInt
#: A count of people, days or months at the API.
Count = StrictInt


class Input(BaseModel):
    """A request body: unknown fields are refused (422), never silently ignored.

    Defining a subclass fails if one of its fields takes a plain ``str`` (use a
    :mod:`disburse.domain.text` type: Code, Name, Label, Reason) or a plain ``int``
    (use StrictInt, Fen or Count), so no later field can let such values in.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: object) -> None:
        """Refuse a field that takes unchecked text or a coercible integer."""
        super().__pydantic_init_subclass__(**kwargs)
        for name, info in cls.model_fields.items():
            loose = unchecked(info.annotation, tuple(info.metadata))
            if loose:
                message = (
                    f"{cls.__name__}.{name} takes a plain {loose}: use a "
                    "disburse.domain.text type or a strict integer (api/schemas.py)"
                )
                raise TypeError(message)


def unchecked(annotation: object, metadata: tuple[object, ...] = ()) -> str | None:
    """``"str"`` or ``"int"`` if ``annotation`` takes such a value unchecked, else None."""
    if typing.get_origin(annotation) is Annotated:
        inner, *more = typing.get_args(annotation)
        return unchecked(inner, (*metadata, *more))
    if typing.get_origin(annotation) is dict:
        return unchecked(typing.get_args(annotation)[1])  # keys name the fields of an item
    if annotation is str:
        return None if any(isinstance(m, Text) for m in metadata) else "str"
    if annotation is int:
        return None if any(isinstance(m, Strict) and m.strict for m in metadata) else "int"
    for arg in typing.get_args(annotation):
        found = unchecked(arg)
        if found:
            return found
    return None
