"""The packages' borders, checked on the source (what may import what is drawn in CONTRIBUTING.md):

- layers: `index` never imports `qa`, `ui`, `eval` or `training`; `qa` never imports `ui`, `eval` or
  `training`; `ui` and `eval` never import each other, `index` or `training`;
- `ui` and `eval` use only `qa`'s public API: the names in `qa.__all__`, and the public modules below
  (through their `__all__` where they have one);
- no module imports an underscore name from another module: a name two files need is public;
- a rule family (a package of modules written together: follow-ups, commissioning, speakers) is used from
  outside through its package's `__all__` only, never through its inner modules.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "qa", "ui", "eval", "training", "tests")
FORBIDDEN = {"index": ("qa", "ui", "eval", "training"), "qa": ("ui", "eval", "training"),
             "ui": ("eval", "index", "training"), "eval": ("ui", "index", "training")}
# The modules of `qa` besides the package itself that ui and eval may import from.
PUBLIC_QA_MODULES = ("qa.types", "qa.errors", "qa.cli", "qa.commissioning", "qa.speakers")
FAMILIES = ("qa.followups", "qa.commissioning", "index.speakers")


def _sources(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((ROOT / package).rglob("*.py"))]


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imported_modules(path: Path) -> set[str]:
    """The absolute module names `path` imports, at any depth (function-level imports count too)."""
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _from_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for each `from module import names` in `path`; relative imports keep their dots."""
    return [("." * node.level + (node.module or ""), [alias.name for alias in node.names])
            for node in ast.walk(_tree(path)) if isinstance(node, ast.ImportFrom)]


def _declared_all(module: str) -> set[str] | None:
    """A module's `__all__` as written in its source (a list of strings, `*` spreading a dict's keys), or None."""
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = ROOT / module.replace(".", "/") / "__init__.py"
    tree = _tree(path)
    literals = {node.targets[0].id: node.value for node in tree.body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    if "__all__" not in literals:
        return None
    names = set()
    for element in literals["__all__"].elts:
        if isinstance(element, ast.Starred):
            names.update(key.value for key in literals[element.value.id].keys)
        else:
            names.add(element.value)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_from_the_layers_it_may_not_use(package):
    offenders = {_name(path): sorted({m for m in _imported_modules(path) if m.split(".")[0] in FORBIDDEN[package]})
                 for path in _sources(package)}
    assert {path: modules for path, modules in offenders.items() if modules} == {}


@pytest.mark.parametrize("package", ["ui", "eval"])
def test_ui_and_eval_use_only_the_public_qa_api(package):
    public = {"qa": _declared_all("qa"), **{module: _declared_all(module) for module in PUBLIC_QA_MODULES}}
    offenders = []
    for path in _sources(package):
        offenders += [f"{_name(path)}: import {m}" for m in _imported_modules(path)
                      if m.split(".")[0] == "qa" and m not in public]
        for module, names in _from_imports(path):
            allowed = public.get(module)
            offenders += [f"{_name(path)}: from {module} import {n}" for n in names
                          if allowed is not None and n not in allowed]
    assert offenders == []


def test_no_module_imports_an_underscore_name_from_another():
    offenders = [f"{_name(path)}: from {module} import {name}" for path in _sources(*PACKAGES)
                 for module, names in _from_imports(path) for name in names
                 if name.startswith("_") or any(part.startswith("_") and part != "__future__"
                                                for part in module.split("."))]
    assert offenders == []


@pytest.mark.parametrize("family", FAMILIES)
def test_a_rule_family_is_used_from_outside_only_through_its_public_names(family):
    public = _declared_all(family)
    inside = ROOT / family.replace(".", "/")
    offenders = []
    for path in _sources(*PACKAGES):
        if inside in path.parents:
            continue
        offenders += [f"{_name(path)}: import {m}" for m in _imported_modules(path) if m.startswith(family + ".")]
        offenders += [f"{_name(path)}: from {module} import {name}" for module, names in _from_imports(path)
                      if module == family for name in names if name not in public]
    assert public and offenders == []
