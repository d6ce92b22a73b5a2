"""The console speaks Simplified Chinese everywhere: every message id has a translation."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from disburse.api.console.i18n import DATA_MESSAGES, translations
from disburse.domain.alert import AlertOutcome
from disburse.domain.batch import Outcome
from disburse.domain.meta import Role
from disburse.domain.payout import PayoutStatus

if TYPE_CHECKING:
    from types import ModuleType

SCRIPT = Path(__file__).parents[2] / "scripts" / "messages.py"


def _messages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("messages", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_message_of_the_templates_and_code_has_a_chinese_translation() -> None:
    messages = _messages()
    ids = messages.extracted()
    catalogue = messages.catalogue()

    untranslated = [m for m in ids if not (catalogue.get(m) and catalogue.get(m).string)]

    assert len(ids) > 150
    assert untranslated == [], "run: .venv/bin/python scripts/messages.py --update"


def test_states_roles_and_outcomes_shown_from_data_are_in_the_catalogue() -> None:
    values = {
        *(s.value for s in PayoutStatus),
        *(r.value for r in Role),
        *(o.value for o in AlertOutcome),
        *(o.value for o in Outcome),
    }

    assert values <= set(DATA_MESSAGES)
    chinese = translations("zh-CN")
    assert chinese.gettext("on_notice") == "公示中"
    english = translations("en")
    assert english.gettext("on_notice") == "on public notice"
    assert all(english.gettext(m) for m in DATA_MESSAGES)
