"""The console's languages: Simplified Chinese by default, English on request.

Every label, message and problem title of the console is an English message id looked
up in a gettext catalogue (``locale/<lang>/LC_MESSAGES/console.po``, kept as text and
compiled in memory when the process starts). English message ids are English already;
the English catalogue words only the ids built from data (``on_notice``...).
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locale"
DOMAIN = "console"
#: The languages offered, the first being the default (``<html lang>`` values).
LANGUAGES = ("zh-CN", "en")
DEFAULT = LANGUAGES[0]
#: The cookie that keeps a browser's choice of language.
LANG_COOKIE = "disburse_lang"


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, do not translate yet"
    """Mark a message id for the catalogue; it is translated where it is shown."""
    return message


#: Message ids the pages build from data (states, roles, outcomes, kinds, accounts):
#: listed here so that the catalogue holds them (tests check each enum value is here).
DATA_MESSAGES = (
    # payout states
    N_("requested"),
    N_("on_notice"),
    N_("held"),
    N_("first_approved"),
    N_("approved"),
    N_("rejected"),
    N_("batched"),
    N_("paid"),
    N_("failed"),
    N_("cancelled"),
    N_("recovery_ordered"),
    N_("recovered"),
    # roles
    N_("clerk"),
    N_("finance"),
    N_("inspector"),
    N_("claimant"),
    N_("admin"),
    N_("system"),
    # alert states and outcomes
    N_("open"),
    N_("confirmed"),
    N_("dismissed"),
    # bank results
    N_("reversed"),
    N_("awaiting"),
    # posts, batches and fund sources as search shows them
    N_("complete"),
    N_("employment_subsidy"),
    N_("rural_revitalisation"),
    N_("east_west"),
    # what search looks for
    N_("people"),
    N_("posts"),
    N_("funds"),
    N_("batches"),
    # balances as of a date
    N_("allocated_fen"),
    N_("available_fen"),
    N_("committed_fen"),
    N_("paid_fen"),
    N_("recovered_fen"),
    N_("recovery_outstanding_fen"),
    N_("balanced"),
)


def language(requested: str | None) -> str:
    """One of ``LANGUAGES``: the requested one if offered, else the default."""
    return requested if requested in LANGUAGES else DEFAULT


def catalogue_path(lang: str) -> Path:
    """Where a language's catalogue lies (``zh-CN`` -> ``locale/zh_CN/...``)."""
    return LOCALES / lang.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language (English: the message ids themselves)."""
    path = catalogue_path(lang)
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=lang.replace("-", "_"), domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
