"""Child processes started with 'spawn' (the web and job processes hold database connections and
never fork): an import's readers, a large export's writer."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.machinery import ModuleSpec


@contextmanager
def main_left_out() -> Iterator[None]:
    """A spawned child re-imports the parent's main script (``run.py`` imports the whole
    application); named '__main__', it is skipped, and the child imports only what it runs.
    Wrap every start or submit that may spawn a child."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if main is None or (spec is not None and spec.name.endswith("__main__")):
        yield
        return
    main.__spec__ = ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = spec
