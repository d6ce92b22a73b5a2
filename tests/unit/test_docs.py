"""Every rule ID the code can answer with is explained in the docs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE_ID = re.compile(r'"([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)"')


def test_every_rule_id_in_the_code_is_in_the_policy_or_api_docs() -> None:
    docs = (ROOT / "docs" / "policy.md").read_text() + (ROOT / "docs" / "api.md").read_text()
    undocumented = sorted(
        {
            f"{rule} ({path.relative_to(ROOT)})"
            for path in (ROOT / "src" / "disburse").rglob("*.py")
            for rule in RULE_ID.findall(path.read_text())
            if rule not in docs and not rule.endswith("-NOT-FOUND")  # <WHAT>-NOT-FOUND
        }
    )
    assert undocumented == []
