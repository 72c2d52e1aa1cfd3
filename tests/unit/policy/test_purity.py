"""The engine stays pure: app/policy imports no web, form or ORM package, not even through other app
modules, and never reads the clock (callers pass the time in ``Facts.at``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "app" / "policy"
FORBIDDEN = {"flask", "flask_appbuilder", "flask_babel", "sqlalchemy", "wtforms", "werkzeug",
             "marshmallow", "flask_sqlalchemy", "flask_wtf", "flask_migrate", "alembic",
             "psycopg", "jinja2"}
CLOCK_ATTRIBUTES = {"now", "utcnow", "today", "time", "time_ns", "monotonic", "perf_counter",
                    "localtime", "gmtime"}
CLOCK_MODULES = {"time"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _package(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports(path: Path, *, module_level_only: bool) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = _module_level(tree) if module_level_only else ast.walk(tree)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package(path).split(".")
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            # `from . import x` and `from .pkg import mod` import modules too
            found.update(f"{base}.{a.name}" for a in node.names if module_file(f"{base}.{a.name}"))
    return found


def _module_level(tree: ast.Module):
    """Nodes that run on import: everything but the bodies of functions."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def imported_closure() -> dict[str, set[str]]:
    """Every module importing app.policy runs, with what it imports; app/policy itself counts all
    imports (even inside functions), other app modules only what runs when they are imported."""
    seen: dict[str, set[str]] = {}
    todo = [module_name(p) for p in sorted(POLICY.glob("*.py"))]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_file(name)
        if path is None:  # an attribute imported by name, not a module
            continue
        found = imports(path, module_level_only=not name.startswith("app.policy"))
        seen[name] = found
        for other in found:
            todo.extend(n for n in _with_parents(other) if n.split(".")[0] == "app")
        todo.extend(_with_parents(name))
    return seen


def forbidden_in(found: set[str]) -> set[str]:
    return {name for name in found if name.split(".")[0] in FORBIDDEN}


def test_the_policy_package_and_what_it_pulls_in_import_no_web_form_or_orm_package():
    closure = imported_closure()
    assert {"app", "app.policy", "app.policy.engine", "app.fields"} <= set(closure)
    offenders = {name: sorted(forbidden_in(found)) for name, found in closure.items()
                 if forbidden_in(found)}
    assert offenders == {}


@pytest.mark.parametrize("path", sorted(POLICY.glob("*.py")), ids=lambda p: p.name)
def test_a_policy_module_reaches_other_app_code_only_through_pure_modules(path):
    app_modules = {n for n in imports(path, module_level_only=False) if n.split(".")[0] == "app"}
    outside = {n for n in app_modules if not n.startswith("app.policy")}
    assert outside <= {"app.fields"}, "a new dependency of the engine: check it is pure"


def test_importing_the_engine_loads_no_web_form_or_orm_package():
    code = ("import sys, app.policy; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    assert "pydantic" in out and "yaml" in out
    assert FORBIDDEN.isdisjoint(out)


def clock_reads(source: str) -> list[str]:
    """Calls that read the clock, and imports of the time module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in CLOCK_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.func.attr}()")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in CLOCK_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "") in CLOCK_MODULES:
            found.append(f"line {node.lineno}: from {node.module} import")
        elif isinstance(node, ast.ImportFrom) and node.module == "datetime":
            found += [f"line {node.lineno}: from datetime import {a.name}" for a in node.names
                      if a.name not in ("date", "datetime", "timedelta", "timezone", "tzinfo")]
    return found


@pytest.mark.parametrize("path", sorted(POLICY.glob("*.py")), ids=lambda p: p.name)
def test_the_engine_never_reads_the_clock(path):
    assert clock_reads(path.read_text(encoding="utf-8")) == []


def test_no_dynamic_imports_in_the_engine():
    for path in sorted(POLICY.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                assert name not in ("import_module", "__import__"), f"{path.name}:{node.lineno}"


@pytest.mark.parametrize("source, expected", [
    ("from datetime import datetime\nx = datetime.now()", ["line 2: .now()"]),
    ("import datetime\nx = datetime.date.today()", ["line 2: .today()"]),
    ("import time\n", ["line 1: import time"]),
    ("from time import time as clock\n", ["line 1: from time import"]),
    ("from datetime import date\nx = date(2026, 9, 1)", []),
])
def test_the_clock_check_sees_the_usual_ways_of_reading_the_clock(source, expected):
    assert clock_reads(source) == expected


def test_the_import_check_sees_imports_inside_functions_and_relative_ones():
    module = ROOT / "app" / "policy" / "engine.py"  # resolve relative imports as engine.py would
    found = imports(module, module_level_only=False)
    assert {"app.policy.ruleset", "app.policy.vocab", "app.fields"} <= found
    lazy = ROOT / "app" / "__init__.py"
    assert "app.factory" in imports(lazy, module_level_only=False)
    assert "app.factory" not in imports(lazy, module_level_only=True)
