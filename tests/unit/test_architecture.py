"""Dependencies point one way, and nothing is built at import time."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import disburse.domain

DOMAIN_DIR = Path(disburse.domain.__file__).parent
ROOT = DOMAIN_DIR.parents[2]
ALLOWED_PACKAGES = ("eventsourcing.domain", "pydantic", "disburse.domain")


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, relative imports resolved against the domain."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.add("disburse.domain" + (f".{node.module}" if node.module else ""))
            elif node.module:
                found.add(node.module)
    return found


def is_allowed(module: str) -> bool:
    top = module.partition(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return True
    return any(
        module == allowed or module.startswith(f"{allowed}.") for allowed in ALLOWED_PACKAGES
    )


def test_the_import_walker_sees_imports_the_guard_would_refuse(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nimport structlog\nfrom eventsourcing.application import Application\n"
        "from . import money\nif True:\n    from fastapi import APIRouter\n",
        encoding="utf-8",
    )

    modules = imported_modules(sample)

    assert modules == {
        "os",
        "structlog",
        "eventsourcing.application",
        "disburse.domain",
        "fastapi",
    }
    assert sorted(m for m in modules if not is_allowed(m)) == [
        "eventsourcing.application",
        "fastapi",
        "structlog",
    ]


def test_the_domain_imports_only_the_standard_library_eventsourcing_domain_and_pydantic() -> None:
    files = sorted(DOMAIN_DIR.glob("*.py"))
    offenders = {
        f"{path.name}: {module}"
        for path in files
        for module in imported_modules(path)
        if not is_allowed(module)
    }

    assert len(files) > 5, f"expected the domain modules in {DOMAIN_DIR}"
    assert not offenders, "the domain imports beyond its layer:\n" + "\n".join(sorted(offenders))


_PROBE = textwrap.dedent(
    """
    import gc

    import disburse.bootstrap
    import disburse.cli.main
    from disburse.application.ledger import Ledger
    from disburse.persistence.store import LedgerStore
    from eventsourcing.application import Application

    built = [
        type(o).__name__
        for o in gc.get_objects()
        if isinstance(o, (Ledger, LedgerStore, Application))
    ]
    print(built)
    """
)


def test_importing_the_cli_and_the_composition_root_builds_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISBURSE_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"

    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", _PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", "built at import time: " + result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "import created files"


def test_the_layer_contracts_of_pyproject_hold() -> None:
    """import-linter: layers, the domain alone, no arrow between the two sides, no cycles."""
    lint = Path(sys.executable).with_name("lint-imports")

    result = subprocess.run(  # noqa: S603 - the venv's own import-linter, fixed arguments
        [str(lint), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_module_over_400_lines_says_why_in_its_docstring() -> None:
    """Modules stay small; one that cannot gives its reason where a reader looks first."""
    package = DOMAIN_DIR.parent
    silent = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= 400:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if "Over 400 lines" not in docstring:
            silent.append(f"{path.relative_to(package)}: {text.count(chr(10))} lines")
    assert silent == [], "long modules without a reason:\n" + "\n".join(silent)
