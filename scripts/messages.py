"""Keep the console's message catalogue in step with its templates and code.

    .venv/bin/python scripts/messages.py           # report message ids without a translation
    .venv/bin/python scripts/messages.py --update  # add new ids (empty) to the .po, drop none

Message ids are English; ``locale/zh_CN/LC_MESSAGES/console.po`` holds their Simplified
Chinese. The tests fail while any id lacks a translation (tests/unit/test_console_i18n.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent / "src" / "disburse" / "api" / "console"
PO = ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "console.po"
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("*.py", "python")]
OPTIONS = {"templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}


def extracted() -> dict[str, str]:
    """Every message id of the console, with where it was first seen."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, METHODS, keywords={"_": None, "N_": None}, options_map=OPTIONS
    ):
        if isinstance(message, str):
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def catalogue() -> Catalog:
    """The Simplified Chinese catalogue as it is on disk."""
    with PO.open("rb") as source:
        return read_po(source, locale="zh_CN", domain="console")


def main() -> int:
    """Report (or add) the ids without a translation."""
    ids = extracted()
    cat = catalogue()
    missing = [m for m in ids if not (cat.get(m) and cat.get(m).string)]
    if "--update" in sys.argv:
        for message in missing:
            if cat.get(message) is None:
                cat.add(message, "", locations=[(ids[message].split(":")[0], 0)])
        with PO.open("wb") as target:
            write_po(target, cat, width=100, omit_header=False, sort_output=False)
    for message in missing:
        print(f"{ids[message]}: {message!r}")
    return 1 if missing and "--update" not in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
