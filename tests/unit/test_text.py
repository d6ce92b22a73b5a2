"""Ledger text: one check for every name, code and reason, and a guard that none escapes it."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated

import pytest
from pydantic import Field

import disburse.api.routes
from disburse.api.schemas import Input, StrictInt, unchecked
from disburse.domain.text import (
    LIMITS,
    Code,
    Name,
    Reason,
    TextError,
    TextKind,
    clean_text,
    unstorable,
)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("\ud800abc", TextKind.NAME),  # lone surrogate
        ("王\x00五", TextKind.NAME),  # NUL
        ("a\x1bb", TextKind.REASON),  # escape: control even in reasons
        ("a\rb", TextKind.REASON),  # carriage return: only tab and newline in reasons
        ("王\t五", TextKind.NAME),  # tab outside a reason
        ("H-1\n", TextKind.CODE),
        ("\ue000", TextKind.NAME),  # private use
        ("\U000e0080", TextKind.NAME),  # unassigned
        ("HR-\u202e1", TextKind.CODE),  # right-to-left override in an id
        ("x" * (LIMITS[TextKind.NAME] + 1), TextKind.NAME),
    ],
)
def test_text_the_ledger_cannot_store_is_refused_with_text_invalid(
    value: str, kind: TextKind
) -> None:
    with pytest.raises(TextError) as refused:
        clean_text(value, kind=kind, field="name")

    assert (refused.value.rule_id, refused.value.field) == ("TEXT-INVALID", "name")


def test_text_is_kept_in_nfc_and_reasons_keep_tabs_and_newlines() -> None:
    assert clean_text("Zoe\u0308", kind=TextKind.NAME) == "Zo\u00eb"
    assert clean_text("第一条\n\t第二条", kind=TextKind.REASON) == "第一条\n\t第二条"
    assert clean_text("𠀀王", kind=TextKind.NAME) == "𠀀王"  # CJK extension B is assigned


def test_the_store_check_finds_bad_text_deep_in_an_event_payload() -> None:
    payload = {"meta": {"reason": "ok"}, "items": [{"name": "ok"}, {"name": "a\x00"}]}

    assert unstorable(payload, "Event") == ("Event.items[1].name", "U+0000 at position 1")
    assert unstorable({"reason": "a\nb\tc"}, "Event") is None


def test_a_request_model_with_a_plain_str_or_int_field_cannot_be_defined() -> None:
    with pytest.raises(TypeError, match="plain str"):

        class LooseText(Input):
            note: str | None = None

    with pytest.raises(TypeError, match="plain int"):

        class LooseCount(Input):
            count: list[int]

    class Checked(Input):
        note: Reason | None = None
        tags: list[Annotated[Code, Field(max_length=10)]]
        name: Name
        count: StrictInt

    assert Checked(tags=["a"], name="n", count=1).tags == ["a"]


def test_every_request_model_of_the_api_takes_only_checked_text_and_strict_integers() -> None:
    for module in pkgutil.iter_modules(disburse.api.routes.__path__):
        importlib.import_module(f"disburse.api.routes.{module.name}")
    models = set()
    pending = list(Input.__subclasses__())
    while pending:
        model = pending.pop()
        if model.__module__.startswith("disburse."):
            models.add(model)
        pending.extend(model.__subclasses__())

    loose = {
        f"{model.__name__}.{name}": found
        for model in models
        for name, info in model.model_fields.items()
        if (found := unchecked(info.annotation, tuple(info.metadata)))
    }

    assert len(models) > 30
    assert loose == {}
