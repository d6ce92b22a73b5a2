"""Every rule ID of the domain brief is named by a test that checks it.

A test names a rule in its docstring (``POST-QUOTA-VILLAGE: ...``) or in its name
(``..._with_post_elig``). The list is the domain brief's (``DOMAIN.md``, kept outside
the repository): a rule added there is added here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
DOMAIN_RULES = (
    "POST-ELIG",
    "POST-TERM",
    "POST-INSURANCE",
    "POST-STIPEND-FLOOR",
    "POST-UNIFORM",
    "POST-EXIT-INCOME",
    "POST-ONE-PERSON-ONE-POST",
    "POST-QUOTA-SITE",
    "POST-QUOTA-VILLAGE",
    "GRANT-ELIG",
    "GRANT-ONCE",
    "SVC-BROKER",
    "TRAIN-OJT",
    "HIRE-WAGE",
    "HIRE-GRAD",
    "TRAIN-LIVING",
    "STARTUP-ONCE",
    "BASE-REWARD",
    "PENSION-PROXY",
    "FRAUD-DUP-GRANT",
    "FRAUD-DUP-BROKER",
    "FRAUD-INELIGIBLE-PLACEMENT",
    "FRAUD-PAID-AFTER-EXIT",
    "FRAUD-DECEASED",
    "FRAUD-SHARED-ACCOUNT",
    "FRAUD-INCOME-OVER",
    "FRAUD-SAME-PROVINCE",
    "FRAUD-OVER-CAP",
    "FRAUD-PAY-OUTLIER",
)


def naming_tests() -> dict[str, list[str]]:
    """For each rule, the tests (``path::name``) that name it; this module does not count."""
    named: dict[str, list[str]] = {rule: [] for rule in DOMAIN_RULES}
    for path in sorted(TESTS.rglob("test_*.py")):
        if path == Path(__file__).resolve():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not node.name.startswith("test_"):
                continue
            docstring = ast.get_docstring(node) or ""
            for rule in DOMAIN_RULES:
                if rule in docstring or rule.lower().replace("-", "_") in node.name:
                    named[rule].append(f"{path.relative_to(TESTS.parent)}::{node.name}")
    return named


def test_every_rule_of_the_domain_brief_is_named_by_a_test() -> None:
    """A rule no test names in its name or docstring fails here, listed by ID."""
    unnamed = [rule for rule, tests in naming_tests().items() if not tests]

    assert unnamed == [], f"no test names these domain rules in its name or docstring: {unnamed}"


def test_a_test_names_a_rule_by_its_docstring_or_by_its_name() -> None:
    """The scan sees both ways of naming a rule, and not a rule merely used in a body."""
    named = naming_tests()

    assert "tests/integration/test_posts_report.py::" in " ".join(named["POST-QUOTA-VILLAGE"])
    assert any(t.endswith("_with_post_elig") for t in named["POST-ELIG"])


def test_every_domain_rule_leads_to_its_code_in_one_hop_from_the_policy_docs() -> None:
    """docs/policy.md: each rule's row links the source files that hold the rule ID."""
    root = TESTS.parent
    policy = (root / "docs" / "policy.md").read_text(encoding="utf-8")
    unlinked = []
    for rule in DOMAIN_RULES:
        rows = [
            line
            for line in policy.splitlines()
            if line.startswith("| ") and f"`{rule}`" in line.split("|")[1]
        ]
        links = [
            target
            for row in rows
            for target in re.findall(r"\(code: ([^)]*\)(?:, [^)]*\))*)\)", row)
        ]
        paths = re.findall(r"\]\(\.\./(src/disburse/[\w/]+\.py)\)", " ".join(links))
        holding = [p for p in paths if rule in (root / p).read_text(encoding="utf-8")]
        if not holding:
            unlinked.append(f"{rule}: rows {len(rows)}, linked {paths}")
    assert unlinked == [], "rules without a link to their code:\n" + "\n".join(unlinked)
