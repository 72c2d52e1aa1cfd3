"""Every layer rule as a test: one table of forbidden import edges, checked over every module of
``app`` with ``ast`` (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
WEB_AND_ORM = ("flask", "flask_appbuilder", "flask_babel", "flask_sqlalchemy", "flask_wtf",
               "sqlalchemy", "wtforms", "werkzeug", "marshmallow", "jinja2")

# importer package -> packages it must not import, and why
FORBIDDEN: dict[str, tuple[tuple[str, ...], str]] = {
    "app.policy": (("app.models", "app.services", "app.views", "app.api", "app.web",
                    "app.documents", *WEB_AND_ORM),
                   "the engine is pure: facts in, a decision out"),
    "app.documents": (("app.models", "app.services", "app.views", "app.api", "app.web",
                       "sqlalchemy", "flask", "flask_appbuilder"),
                      "documents read and write plain values: no database, no web"),
    "app.models": (("app.services", "app.views", "app.api", "app.web"),
                   "models know no use case and no page"),
    "app.services": (("app.views", "app.api", "app.web"),
                     "use cases know no page and no resource"),
    "app.api": (("app.views",), "resources and pages share app.web, never each other"),
    "app.views": (("app.api",), "resources and pages share app.web, never each other"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, source: str | None = None) -> set[str]:
    """Absolute names of what ``path`` imports, relative imports resolved, `from x import mod`
    counted as importing ``x.mod`` too."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(path: Path, source: str | None = None) -> list[str]:
    me = module_name(path)
    out = []
    for layer, (banned, why) in FORBIDDEN.items():
        if _under(me, layer):
            out += [f"{me} imports {name}: {why}" for name in sorted(imported(path, source))
                    if any(_under(name, b) for b in banned)]
    return out


def test_no_module_crosses_a_forbidden_edge():
    found = [v for path in sorted(APP.rglob("*.py")) if "migrations" not in path.parts
             for v in violations(path)]
    assert found == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_each_layer_exists(layer):
    assert (ROOT.joinpath(*layer.split("."))).is_dir(), layer


def test_the_check_sees_relative_imports_and_imports_inside_functions():
    """Control: the scanner finds what a careless edit would add."""
    fake = APP / "services" / "record" / "fake.py"
    source = "def f():\n    from ...views import base\n"
    assert violations(fake, source) == ["app.services.record.fake imports app.views: use cases know "
                                        "no page and no resource",
                                        "app.services.record.fake imports app.views.base: use cases "
                                        "know no page and no resource"]
    assert violations(APP / "documents" / "x.py", "import sqlalchemy as sa\n")
    assert violations(APP / "api" / "x.py", "from ..views.students import LABELS\n")
