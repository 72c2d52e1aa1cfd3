"""The transaction rule as a test: services own the transaction through one helper
(app/services/common/transaction.py); pages, resources, the web glue, CLI commands and the security
layer never commit or roll back.  Every ``x.commit()`` / ``x.rollback()`` call (no arguments: a
session's, not ``imports.commit(session, job)``) is found with ``ast`` and must be on the allow-list
below, with its reason."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["app/views", "app/api", "app/web", "app/security", "app/services", "app/cli*.py",
           "app/factory.py"]
CALLS = {"commit", "rollback"}

# (file, enclosing function) -> why it may commit or roll back itself
ALLOWED: dict[tuple[str, str], str] = {
    ("app/services/common/transaction.py", "transaction"):
        "the helper itself: commit on success, roll back on error, the outermost block decides",
    ("app/factory.py", "_error_handlers._domain"):
        "the last resort: a domain error escaped every use case; the request's work is discarded",
    ("app/factory.py", "_error_handlers._data"):
        "the last resort: a value the database refused escaped every use case",
    ("app/factory.py", "_error_handlers._invalid"):
        "the last resort: a body the schema refused escaped every use case",
    ("app/factory.py", "_error_handlers._failed"):
        "the last resort: an unexpected error's half-done work is discarded before the 500 page",
    ("app/services/operations/jobs.py", "execute"):
        "a job's last resort, as the error handlers are a request's: what its failed step left "
        "half-done is discarded before the job is marked failed, cancelled or queued for a retry",
}


def scanned_files() -> list[Path]:
    files: set[Path] = set()
    for pattern in SCANNED:
        for path in ROOT.glob(pattern):
            files |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return sorted(files)


def calls(source: str) -> list[tuple[str, int, str]]:
    """(enclosing function, line, method) of every argument-less ``.commit()`` / ``.rollback()``."""
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, where: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = where + (child.name,)
            elif isinstance(child, ast.ClassDef):
                inner = where + (child.name,)
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr in CALLS and not child.args and not child.keywords):
                found.append((".".join(where), child.lineno, child.func.attr))
            visit(child, inner)

    visit(ast.parse(source), ())
    return found


def found_in_tree() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for path in scanned_files():
        name = path.relative_to(ROOT).as_posix()
        for where, line, method in calls(path.read_text(encoding="utf-8")):
            out.setdefault((name, where), []).append(f"{name}:{line} {where or '<module>'}: .{method}()")
    return out


def test_only_the_allowed_places_commit_or_roll_back():
    stray = [line for key, lines in found_in_tree().items() if key not in ALLOWED for line in lines]
    assert stray == [], ("commit or roll back through app.services.common.transaction "
                         "(a service's @transactional use case), or allow-list the place with a reason")


def test_every_allowed_place_still_needs_its_entry():
    unused = sorted(set(ALLOWED) - set(found_in_tree()))
    assert unused == [], "these places no longer commit or roll back: remove their entries"


def test_every_entry_gives_a_reason():
    assert all(len(why) > 20 for why in ALLOWED.values())


def test_the_scan_finds_commits_in_methods_and_nested_functions_not_service_calls():
    """Control: the scanner sees what a careless edit would add, and only that."""
    source = ("class V:\n"
              "    def show(self):\n"
              "        db.session.commit()\n"
              "        def later():\n"
              "            self.session.rollback()\n"
              "        imports.commit(db.session, job)\n")
    assert calls(source) == [("V.show", 3, "commit"), ("V.show.later", 5, "rollback")]
    assert scanned_files(), "nothing scanned: the paths moved"
