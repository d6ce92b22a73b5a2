"""Every rule ID the service can answer with is documented, and every 409 in the API docs.

The rule IDs are read from the source with :mod:`ast`: every string literal shaped like a
rule ID (``WORD-WORD``, outside docstrings), and any literal, hyphenated or not, in a
place that names a rule (``rule_id=``, a ``...Error("RULE", ...)``, ``ApiError(status,
"RULE", ...)``, ``problem(request, status, "RULE", ...)``, an alert ``Finding("RULE",
...)``, ``rule = ...``). A rule counts as documented when docs/api.md or docs/policy.md
names it as a code token (`` `RULE` ``); ``<WHAT>-NOT-FOUND`` covers every not-found rule.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "disburse"
RULE_SHAPE = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+")
RULE_WORD = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*")
DOC_TOKEN = re.compile(r"`([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)`")
#: Literals of the rule shape that are not rules (the argument says what they are).
NOT_RULES = {"YYYY-MM-DD"}  # a CLI option's metavar
RULE_NAMES = {"rule", "rule_id", "rule_ids", "RULE"}
#: Where the rule is among a call's positional arguments.
RULE_ARGUMENT = {"ApiError": 1, "problem": 2, "Finding": 0, "FileError": 0, "because": 0}


@dataclass
class Rules:
    """Rule IDs found in the source, each with where it occurs, and the 409 ones."""

    where: dict[str, list[str]] = field(default_factory=dict)
    conflicts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, rule: str, place: str, *, conflict: bool = False) -> None:
        if rule in NOT_RULES:
            return
        self.where.setdefault(rule, []).append(place)
        if conflict:
            self.conflicts.setdefault(rule, []).append(place)


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _literals(node: ast.AST | None) -> list[ast.Constant]:
    """String literals in an expression that are shaped like a rule ID."""
    if node is None:
        return []
    return [
        n
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and RULE_WORD.fullmatch(n.value)
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef))]
    return {
        id(node.body[0].value)
        for node in nodes
        if node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _in_rule_place(node: ast.AST) -> list[tuple[ast.Constant, bool]]:
    """Literals this node puts where a rule is named, and whether the rule is a 409."""
    found: list[tuple[ast.Constant, bool]] = []
    if isinstance(node, ast.Call):
        name = _name(node)
        position = RULE_ARGUMENT.get(name, 0 if name.endswith("Error") else None)
        conflict = name == "ConflictError" or any(
            isinstance(a, ast.Constant) and a.value == 409 for a in node.args[:2]
        )
        if position is not None and len(node.args) > position:
            found += [(c, conflict) for c in _literals(node.args[position])]
        for keyword in node.keywords:
            if keyword.arg in RULE_NAMES:
                found += [(c, conflict) for c in _literals(keyword.value)]
    elif isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = {t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in targets}
        if names & RULE_NAMES or any(n.endswith("_RULE") for n in names):
            found += [(c, False) for c in _literals(node.value)]
    return found


def rules_in_source() -> Rules:
    """Every rule ID the source can emit, with file:line of each occurrence."""
    rules = Rules()
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and RULE_SHAPE.fullmatch(node.value)
            ):
                rules.add(node.value, f"{where}:{node.lineno}")
            for literal, conflict in _in_rule_place(node):
                rules.add(str(literal.value), f"{where}:{literal.lineno}", conflict=conflict)
    return rules


def _documented(rule: str, tokens: set[str]) -> bool:
    return rule in tokens or (rule.endswith("-NOT-FOUND") and "<WHAT>-NOT-FOUND" in tokens)


def _listing(rules: dict[str, list[str]]) -> str:
    return "\n".join(
        f"  {rule}: {', '.join(sorted(set(places)))}" for rule, places in rules.items()
    )


def _tokens(*names: str) -> set[str]:
    text = "".join((ROOT / "docs" / name).read_text(encoding="utf-8") for name in names)
    return set(DOC_TOKEN.findall(text)) | (
        {"<WHAT>-NOT-FOUND"} if "<WHAT>-NOT-FOUND" in text else set()
    )


def test_the_collector_finds_rules_of_every_kind_of_place() -> None:
    """The scan sees domain errors, API errors, problems, alert rules and import rules."""
    found = rules_in_source().where

    for rule in (
        "FUND-COMMIT",  # ConflictError in the domain
        "AUTH-INVALID",  # ApiError in the API
        "VIEW-LAG",  # problem(...) and a class attribute
        "INTERNAL",  # problem(...), one word
        "FRAUD-SHARED-ACCOUNT",  # an alert Finding
        "POST-ONE-PERSON-ONE-POST",  # a module constant
        "PERSON-NOT-FOUND",  # the importer's lookup
    ):
        assert rule in found, rule
    assert "FUND-COMMIT" in rules_in_source().conflicts


def test_every_rule_id_the_service_can_emit_is_in_the_api_or_policy_docs() -> None:
    """A rule ID in the source that docs/api.md and docs/policy.md do not name fails here."""
    tokens = _tokens("api.md", "policy.md")
    undocumented = {
        rule: places
        for rule, places in sorted(rules_in_source().where.items())
        if not _documented(rule, tokens)
    }

    assert not undocumented, (
        "rule IDs the service can emit that neither docs/api.md nor docs/policy.md names "
        "as `RULE` (add them to api.md's rule list, or policy.md for a domain rule):\n"
        + _listing(undocumented)
    )


def test_every_conflict_the_service_answers_409_with_is_named_in_the_api_docs() -> None:
    """FUND-COMMIT and every other 409 rule is in docs/api.md, where a client looks for it."""
    tokens = _tokens("api.md")
    missing = {
        rule: places
        for rule, places in sorted(rules_in_source().conflicts.items())
        if not _documented(rule, tokens)
    }

    assert not missing, (
        "rule IDs answered with 409 that docs/api.md does not name (add them to the "
        "paragraph after its statuses table):\n" + _listing(missing)
    )


def test_the_api_docs_say_unknown_fields_are_refused_as_the_service_does() -> None:
    """The service answers 422 REQUEST-SCHEMA (test_unknown_fields_are_refused_not_ignored)."""
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")

    assert re.search(r"unknown fields? (?:are|is) ignored", api, re.IGNORECASE) is None
    assert "unknown fields are refused" in api.lower()
