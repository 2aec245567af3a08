"""The packages' layering, checked on the source: `index` never imports `qa`, `ui` or `eval`; `qa` never
imports `ui` or `eval`. (What is allowed to import what is in CONTRIBUTING.md.)"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"index": ("qa", "ui", "eval", "training"), "qa": ("ui", "eval", "training")}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_from_the_layers_above_it(package):
    offenders = {str(path.relative_to(ROOT)): sorted(_imports(path) & set(FORBIDDEN[package]))
                 for path in sorted((ROOT / package).rglob("*.py"))}
    assert {path: names for path, names in offenders.items() if names} == {}
