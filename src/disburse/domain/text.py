"""Text that may enter the ledger: one rule for every name, code and reason.

Stored text must be well-formed Unicode (no lone surrogates), free of control
characters (tab and newline only in free-text reasons), of private-use and of
unassigned code points, and is kept in its NFC form. Each kind of field has its
own length limit. A refusal is ``TEXT-INVALID`` naming the field.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel

from disburse.domain.errors import InvalidInputError

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

RULE = "TEXT-INVALID"

#: Never stored: control (Cc), surrogate (Cs), private-use (Co), unassigned (Cn).
_REFUSED = frozenset({"Cc", "Cs", "Co", "Cn"})
#: Format characters (Cf: bidi overrides, zero-width marks) are also refused in codes.
_REFUSED_IN_CODES = _REFUSED | {"Cf"}


class TextKind(StrEnum):
    """Kinds of text field, each with its limit (characters, after NFC)."""

    CODE = "code"  # identifiers and references: claim ids, household numbers, accounts
    NAME = "name"  # names of people, organisations, sites, employers; titles
    LABEL = "label"  # short free text on one line: evidence references, sources
    REASON = "reason"  # free text of a decision: tab and newline allowed


LIMITS = {TextKind.CODE: 100, TextKind.NAME: 200, TextKind.LABEL: 500, TextKind.REASON: 2000}


class TextError(InvalidInputError):
    """Text that may not be stored (TEXT-INVALID)."""


def text_problem(value: str, kind: TextKind) -> str | None:
    """Why ``value`` may not be stored as ``kind`` text, or None if it may."""
    refused = _REFUSED_IN_CODES if kind is TextKind.CODE else _REFUSED
    for position, char in enumerate(value):
        category = unicodedata.category(char)
        if category not in refused:
            continue
        if kind is TextKind.REASON and char in "\t\n":
            continue
        what = {
            "Cc": "a control character",
            "Cs": "a lone surrogate (not well-formed Unicode)",
            "Co": "a private-use character",
            "Cn": "an unassigned code point",
            "Cf": "a format character",
        }[category]
        return f"{what} (U+{ord(char):04X}) at position {position}"
    normal = unicodedata.normalize("NFC", value)
    if len(normal) > LIMITS[kind]:
        return f"longer than {LIMITS[kind]} characters"
    return None


def clean_text(value: str, *, kind: TextKind, field: str | None = None) -> str:
    """``value`` in NFC form, or ``TextError`` (TEXT-INVALID) if it may not be stored."""
    problem = text_problem(value, kind)
    if problem is not None:
        raise TextError(RULE, f"{field or 'text'}: {problem}", field)
    return unicodedata.normalize("NFC", value)


def why_unstorable(value: str) -> str | None:
    """Why ``value`` may not be stored in any field (the store's last check), or None."""
    if value.isprintable():  # no character of category C (nor a separator but space)
        return None
    for position, char in enumerate(value):
        if unicodedata.category(char) in _REFUSED and char not in "\t\n":
            return f"U+{ord(char):04X} at position {position}"
    return None


class TextValueError(ValueError):
    """A validation failure that names its own rule (the API reports it, not REQUEST-SCHEMA)."""

    rule_id = RULE


@dataclass(frozen=True)
class Text:
    """Marks a ``str`` field as ledger text of one kind (the API's guard looks for it)."""

    kind: TextKind

    def __call__(self, value: str) -> str:
        """NFC ``value``; ``TextValueError`` if it may not be stored."""
        problem = text_problem(value, self.kind)
        if problem is not None:
            raise TextValueError(problem)
        return unicodedata.normalize("NFC", value)

    def __get_pydantic_json_schema__(
        self,
        schema: Any,  # noqa: ANN401 - pydantic's hook passes a core schema
        handler: GetJsonSchemaHandler,
    ) -> JsonSchemaValue:
        """The JSON schema says the limit."""
        result = handler(schema)
        result.setdefault("maxLength", LIMITS[self.kind])
        return result


_CODE = Text(TextKind.CODE)
_NAME = Text(TextKind.NAME)
_LABEL = Text(TextKind.LABEL)
_REASON = Text(TextKind.REASON)
Code = Annotated[str, _CODE, AfterValidator(_CODE)]
Name = Annotated[str, _NAME, AfterValidator(_NAME)]
Label = Annotated[str, _LABEL, AfterValidator(_LABEL)]
Reason = Annotated[str, _REASON, AfterValidator(_REASON)]


def unstorable(value: object, path: str) -> tuple[str, str] | None:
    """The first text inside ``value`` that may not be stored, as (path, why), or None.

    Walks strings, mappings, sequences, dataclasses and pydantic models: the store's
    last check on every event, whatever path the text came in by.
    """
    if isinstance(value, str):
        why = why_unstorable(value)
        return None if why is None else (path, why)
    if isinstance(value, BaseModel):
        return unstorable(value.model_dump(), path)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = unstorable(key, path) or unstorable(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            found = unstorable(item, f"{path}[{index}]")
            if found:
                return found
    return None


#: What a reader shows in place of a NUL or a lone surrogate (U+FFFD REPLACEMENT CHARACTER).
REPLACEMENT = "\ufffd"
_UNREADABLE = re.compile("[\x00\ud800-\udfff]")


def readable(text: str) -> str:
    """``text`` with each NUL and lone surrogate replaced by U+FFFD (the event keeps the original).

    Today's checks refuse both, but a store may hold events an older release accepted. Every
    reader that must write such text somewhere that cannot hold it (a view on SQLite or
    PostgreSQL, a JSON response, an evidence pack) shows it the same way.
    """
    if "\x00" not in text and (text.isascii() or _encodable(text)):
        return text  # the common case, checked at C speed
    return _UNREADABLE.sub(REPLACEMENT, text)


def _encodable(text: str) -> bool:
    """Whether ``text`` has no lone surrogate (UTF-8 cannot encode one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def readable_data(value: Any) -> Any:  # noqa: ANN401 - any JSON-like data
    """``value`` with every text inside it (keys too) made :func:`readable`."""
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, Mapping):
        return {readable_data(k): readable_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [readable_data(v) for v in value]
    return value
